import { SluiceError } from '../core/errors.js';
import { parseArgs, type ParseArgsConfig } from 'node:util';

/** A mistake in how the command was called: printed with the usage, exit code 2. */
export class UsageError extends SluiceError {
  declare readonly code: 'SLUICE_CLI_USAGE';
  constructor(message: string) {
    super('SLUICE_CLI_USAGE', message);
    this.name = 'UsageError';
  }
}

type Options = NonNullable<ParseArgsConfig['options']>;
export type FlagValue = string | boolean | undefined;
export type Flags = Record<string, FlagValue>;

/** parseArgs in strict mode, with its errors turned into UsageErrors that name the flag. */
export function parseFlags(args: string[], options: Options): { values: Flags; positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({ args, options, strict: true, allowPositionals: true });
    return { values: values as Flags, positionals };
  } catch (e) {
    throw new UsageError((e as Error).message.replace(/^TypeError \[[A-Z_]+\]: /, ''));
  }
}

/** A flag that must be an integer within [min, max]. */
export function intFlag(
  value: FlagValue,
  flag: string,
  fallback: number,
  min = 0,
  max = Number.MAX_SAFE_INTEGER,
): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'string') throw new UsageError(`--${flag} needs a value`);
  const n = Number(value.replace(/_/g, ''));
  if (!Number.isInteger(n) || n < min || n > max)
    throw new UsageError(`--${flag} must be an integer from ${min} to ${max}, got "${value}"`);
  return n;
}

/** A flag that must be a number within [min, max]. */
export function numberFlag(
  value: FlagValue,
  flag: string,
  fallback: number | undefined,
  min = 0,
  max = Number.MAX_VALUE,
): number | undefined {
  if (value === undefined) return fallback;
  if (typeof value !== 'string') throw new UsageError(`--${flag} needs a value`);
  const n = Number(value.replace(/_/g, ''));
  if (!Number.isFinite(n) || n < min || n > max)
    throw new UsageError(`--${flag} must be a number from ${min} to ${max}, got "${value}"`);
  return n;
}

/** A flag that must be a string (a path, a URL), or the fallback. */
export function stringFlag(value: FlagValue, flag: string, fallback: string): string {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || value === '') throw new UsageError(`--${flag} needs a value`);
  return value;
}
