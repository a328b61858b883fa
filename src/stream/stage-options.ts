import { SluiceError } from './errors.js';

/** How every stage is named: `{ name }` in its last argument (metrics, dead letters, state). */
export interface StageOptions {
  /** The stage's name; each stage has a default (`map`, `filter`, `window`, ...). */
  name?: string;
}

/**
 * The stage's name from its options, or `fallback`. A string where the options go is the
 * naming style of earlier versions: refused with what to write instead, at build time.
 */
export function stageName(opts: StageOptions | string | undefined, fallback: string): string {
  if (typeof opts === 'string')
    throw new SluiceError(
      'SLUICE_OPTION_INVALID',
      `stage names are given as { name }: write { name: ${JSON.stringify(opts)} } instead of ${JSON.stringify(opts)}`,
    );
  if (opts !== undefined && (typeof opts !== 'object' || opts === null))
    throw new SluiceError(
      'SLUICE_OPTION_INVALID',
      `stage options must be an object such as { name: "..." }, got ${typeof opts}`,
    );
  const name = opts?.name;
  if (name !== undefined && (typeof name !== 'string' || name === ''))
    throw new SluiceError(
      'SLUICE_OPTION_INVALID',
      `a stage name must be a non-empty string, got ${String(name)}`,
    );
  return name ?? fallback;
}
