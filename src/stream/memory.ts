import type { DeadLetter, Envelope } from './envelope.js';
import type { DeadLetterSink, Sink, Source, SourceOffsets } from './interfaces.js';
import { envelope } from './envelope.js';
import { offsetKey } from './interfaces.js';
import { wallClockMs } from '../observe/index.js';

/**
 * Keeps dead letters in memory (the default when a pipeline has no dead-letter sink); beyond
 * `limit` only the count grows, so a flood of bad input cannot exhaust memory.
 */
export class MemoryDeadLetters implements DeadLetterSink {
  readonly items: DeadLetter[] = [];
  count = 0;
  constructor(readonly limit = 10_000) {}
  write(items: DeadLetter[]): void {
    this.count += items.length;
    for (const d of items) if (this.items.length < this.limit) this.items.push(d);
  }
}

/**
 * A sink that collects the values it receives (tests, training, notebooks).
 *
 * @example
 * const out = collect<number>();
 * await pipeline('p').from(fromArray([1, 2])).to(out).run().done;
 * out.values; // [1, 2]
 */
export function collect<T>(): Sink<T> & { values: T[] } {
  const values: T[] = [];
  return {
    name: 'collect',
    values,
    write(records: Envelope<T>[]) {
      for (const r of records) values.push(r.value);
    },
  };
}

/**
 * A bounded source over an in-memory array, as one partition of a pseudo topic: offsets are
 * array indexes, so checkpoints and resumes behave as with a log.
 */
export function fromArray<T>(
  values: readonly T[],
  opts: { topic?: string; eventTime?: (v: T, i: number) => number } = {},
): Source<T> {
  const topic = opts.topic ?? 'array';
  const key = offsetKey(topic, 0);
  let next = 0;
  /** Batches given back by the runtime (`recycle`): their envelopes are refilled, not reallocated. */
  const spare: Envelope<T>[][] = [];
  return {
    name: `array:${topic}`,
    sharesStamps: true,
    async open(ctx) {
      next = ctx.startOffsets?.[key] ?? 0;
    },
    async poll(max) {
      if (next >= values.length) return null;
      const end = Math.min(values.length, next + max);
      const now = wallClockMs();
      const stamps = [now];
      const n = end - next;
      const at = opts.eventTime;
      let out = spare.pop();
      let reused = 0;
      if (out === undefined) out = new Array<Envelope<T>>(n);
      else {
        reused = Math.min(out.length, n);
        out.length = n;
        for (let j = 0; j < reused; j++) {
          const i = next + j;
          const t = at === undefined ? now : at(values[i]!, i);
          // Every field, as `envelope()` sets it: nothing of the record it held before remains.
          const env = out[j]!;
          env.value = values[i]!;
          env.key = undefined;
          env.eventTime = t;
          env.appendTime = t;
          env.topic = topic;
          env.partition = 0;
          env.offset = i;
          env.stamps = stamps;
          env.trace = undefined;
        }
      }
      if (at === undefined)
        for (let j = reused; j < n; j++)
          out[j] = envelope(values[next + j]!, topic, 0, next + j, now, stamps);
      else
        for (let j = reused; j < n; j++) {
          const i = next + j;
          out[j] = envelope(values[i]!, topic, 0, i, at(values[i]!, i), stamps);
        }
      next = end;
      return out;
    },
    recycle(records) {
      if (spare.length < 4) spare.push(records);
    },
    positions(): SourceOffsets {
      return { [key]: next };
    },
    lag() {
      return values.length - next;
    },
    async close() {},
  };
}
