// The second half of the infer stage: hand each record its row of the model's answer, or send
// it to the dead letters with the reason (a call that failed, an answer that cannot be read).
import type { Envelope } from './envelope.js';
import type { TensorLike } from './interfaces.js';
import { deadLetter, type Batch } from './steps.js';
import { SluiceError } from './errors.js';

/** Records `lo..hi` of a batch: scored by one call (its output) or failed (the error). */
export type Scored =
  | { lo: number; hi: number; output: TensorLike | undefined; outputName: string; error?: undefined }
  | { lo: number; hi: number; error: Error };

/**
 * Sets each scored record's value to `output(value, row)` and compacts the batch: records of a
 * failed range, of an unreadable answer (no such output, a size that does not split into the
 * range's rows) or whose `output` throws go to the dead letters.
 */
export function applyScores<T, U>(
  batch: Batch,
  stage: string,
  scored: Scored[],
  output: (value: T, row: Float32Array | Float64Array) => U,
): void {
  const recs = batch.records as Envelope<T>[];
  // Ranges come in order of their start (halves are scored left first) and cover the batch.
  let kept = 0;
  for (const s of scored) {
    const n = s.hi - s.lo;
    const error = s.error ?? unreadable(s.output, s.outputName, n);
    if (error !== undefined || s.error !== undefined) {
      for (let i = s.lo; i < s.hi; i++) deadLetter(batch, recs[i]!, stage, error, recs[i]!.value);
      continue;
    }
    const result = s.output!.data as Float32Array | Float64Array;
    const k = result.length / n;
    for (let i = s.lo; i < s.hi; i++) {
      const env = recs[i]!;
      const value = env.value;
      try {
        (env as Envelope<unknown>).value = output(
          value,
          n === 1 ? result : result.subarray((i - s.lo) * k, (i - s.lo + 1) * k),
        );
      } catch (e) {
        deadLetter(batch, env, stage, e, value);
        continue;
      }
      recs[kept++] = env;
    }
  }
  recs.length = kept;
}

/** Why an answer cannot be split into `rows` rows, or undefined when it can. */
function unreadable(out: TensorLike | undefined, name: string, rows: number): Error | undefined {
  if (out === undefined)
    return new SluiceError(
      'SLUICE_PIPELINE_MODEL_MISMATCH',
      `inference failed: model returned no output "${name}"`,
    );
  const len = (out.data as ArrayLike<unknown>).length;
  if (typeof len !== 'number' || len === 0 || len % rows !== 0)
    return new SluiceError(
      'SLUICE_PIPELINE_MODEL_MISMATCH',
      `inference failed: output "${name}" has ${String(len)} values, which do not split into ${rows} rows`,
    );
  return undefined;
}
