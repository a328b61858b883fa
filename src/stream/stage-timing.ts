// Per-stage accounting of the runtime: a record's stamps array gets each stage's completion time
// (runs of equal times go to the histogram in one call), traced records their stage spans.

import { wallClockMs, type RecordTracer, type WindowedHistogram } from '../observe/index.js';
import type { Envelope } from './envelope.js';
import { requireOption } from './errors.js';
import type { Batch, Step, SyncStep } from './steps.js';

/**
 * Stamps a stage's completion time `t` on a batch. Where every record shares one stamps array
 * (`batch.sharedStamps`) that is one push and one histogram call, whatever the batch size:
 * visiting each record only to find the same array cost a tenth of a windowed pipeline's time.
 */
export function stampBatch(hist: WindowedHistogram, batch: Batch, t: number): void {
  const records = batch.records;
  if (records.length === 0) return;
  if (batch.sharedStamps !== true) return stampStage(hist, records, t);
  const s = records[0]!.stamps;
  hist.recordMany(t - s[s.length - 1]!, records.length);
  s.push(t);
}

/**
 * Stamps `t` on each record and records its time since the previous stamp. Records read
 * together share one stamps array: it is stamped once. Consecutive records with the same
 * time since their last stamp are one histogram call, whether or not they share an array
 * (a source that gives each record its own array would otherwise pay one call per record).
 */
export function stampStage(hist: WindowedHistogram, records: Envelope[], t: number): void {
  let prev: number[] | undefined;
  let d = 0;
  let run = 0;
  for (let i = 0; i < records.length; i++) {
    const s = records[i]!.stamps;
    if (s === prev) {
      run++;
      continue;
    }
    prev = s;
    let di: number;
    // Already stamped in this call (a shared array met again after another one): keep its time.
    if (s[s.length - 1] === t && s.length > 1) di = t - s[s.length - 2]!;
    else {
      di = t - s[s.length - 1]!;
      s.push(t);
    }
    if (run > 0 && di === d) {
      run++;
      continue;
    }
    if (run > 0) hist.recordMany(d, run);
    d = di;
    run = 1;
  }
  if (run > 0) hist.recordMany(d, run);
}

/**
 * A stage has finished a batch: stamps its end and, where the batch carries sampled records,
 * ends their spans for it; an async stage's call (`callStart` given) also gets one batch span
 * linked to those records (the model call, the action delivery).
 */
export function stageDone(
  hist: WindowedHistogram,
  batch: Batch,
  name: string,
  tracer: RecordTracer | undefined,
  callStart?: number,
): void {
  const t = wallClockMs();
  stampBatch(hist, batch, t);
  const traces = batch.traces;
  if (traces === undefined || tracer === undefined) return;
  if (callStart !== undefined) tracer.batch(traces, name, batch.records.length, callStart, t);
  tracer.stage(traces, name, t);
}

/** The stateful stages of a run; their names are their state namespaces, so they must be unique. */
export function statefulSteps(steps: readonly Step[]): SyncStep[] {
  const out = steps.filter((s): s is SyncStep => s.kind === 'sync' && !!s.stateful);
  const names = new Set<string>();
  for (const s of out) {
    requireOption(
      !names.has(s.name),
      `two stateful stages are named "${s.name}": give each a unique name (it keys their saved state)`,
    );
    names.add(s.name);
  }
  return out;
}
