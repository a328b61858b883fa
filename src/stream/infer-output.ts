// The second half of the infer stage: hand each record its row of the model's answer, or send
// it to the dead letters with the reason (a call that failed, an answer that cannot be read).
import type { Envelope } from './envelope.js';
import type { TensorLike } from './interfaces.js';
import { deadLetter, type Batch } from './steps.js';
import { SluiceError } from './errors.js';

/** Records `lo..hi` of a batch: scored by one call (its output) or failed (the error). */
export type Scored =
  | {
      lo: number;
      hi: number;
      output: TensorLike | undefined;
      outputName: string;
      /** The model's per-row errors (`ROW_ERRORS` output: one string per row, `''` = fine), if any. */
      rowErrors?: TensorLike | undefined;
      error?: undefined;
    }
  | { lo: number; hi: number; error: Error };

/**
 * Sets each scored record's value to `output(value, row)` and compacts the batch: records of a
 * failed range, of an unreadable answer (no such output, a size that does not split into the
 * range's rows), rows the model named in its row errors, rows `readRow` cannot read (JSON
 * that does not parse) and records whose `output` throws go to the dead letters.
 */
export function applyScores<T, U>(
  batch: Batch,
  stage: string,
  scored: Scored[],
  readRow: (data: unknown, start: number, end: number) => unknown,
  output: (value: T, row: unknown) => U,
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
    const result = s.output!.data as ArrayLike<unknown>;
    const k = result.length / n;
    const rowErrors = s.rowErrors?.data as readonly string[] | undefined;
    for (let i = s.lo; i < s.hi; i++) {
      const env = recs[i]!;
      const value = env.value;
      try {
        const why = rowErrors?.[i - s.lo];
        if (typeof why === 'string' && why !== '') throw new Error(`inference failed: ${why}`);
        const start = (i - s.lo) * k;
        (env as Envelope<unknown>).value = output(value, readRow(result, start, start + k));
      } catch (e) {
        deadLetter(batch, env, stage, e, value);
        continue;
      }
      recs[kept++] = env;
    }
  }
  if (recs.length !== kept) recs.length = kept; // a length write costs even when equal
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
