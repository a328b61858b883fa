// History for a backfill: a topic — of an embedded log (`log:DIR/topic`) or of a Kafka cluster
// (`kafka://host:port/topic`, `sluice broker` included) — read from an offset or a time up to an
// end that is fixed when the read starts (the end offsets then, an offset, or a time), so the
// backfill is bounded and repeatable even while producers keep appending. Times are found as
// Kafka's ListOffsets by time finds them: the first offset whose record timestamp is >= the time.
// Files (CSV, NDJSON) are read whole by the file source.
import { logUrlParts, urlScheme } from '../core/url.js';
import { clientSecurity, loadKafkaClient, parseKafkaUrlOr } from '../kafka-client/index.js';
import { Log } from '../log/index.js';
import { offsetKey, requireOption, type Envelope, type Source } from '../stream/index.js';
import { ConnectorError } from './errors.js';
import { kafkaSource } from './kafka-source.js';
import { logSource } from './log-source.js';
import { sourceFromUrl } from './source-url.js';

export interface HistoryRange {
  /** First offset of every partition (clamped to what the partition still holds). */
  fromOffset?: number;
  /** Epoch ms: start at each partition's first record with timestamp >= this. */
  fromTime?: number;
  /** Offset to stop before, in every partition. Default: the end offsets when the read starts. */
  toOffset?: number;
  /** Epoch ms: stop before each partition's first record with timestamp >= this. */
  toTime?: number;
}

/** Where each partition's read starts and ends (exclusive), as resolved when the source opens. */
export type PartitionRanges = Map<number, { start: number; end: number }>;

/** Partition bounds as a topic reports them, for resolving a range. */
interface TopicBounds {
  partitions: number[];
  earliest(p: number): number;
  latest(p: number): number;
  /** First offset with timestamp >= ms, or undefined when no record is that late. */
  atTime(p: number, ms: number): Promise<number | undefined> | number | undefined;
}

async function resolveRanges(b: TopicBounds, r: HistoryRange): Promise<PartitionRanges> {
  const out: PartitionRanges = new Map();
  for (const p of b.partitions) {
    const lo = b.earliest(p);
    const hi = b.latest(p);
    const start = r.fromTime !== undefined ? ((await b.atTime(p, r.fromTime)) ?? hi) : (r.fromOffset ?? lo);
    const end = r.toTime !== undefined ? ((await b.atTime(p, r.toTime)) ?? hi) : (r.toOffset ?? hi);
    const s = Math.min(Math.max(start, lo), hi);
    out.set(p, { start: s, end: Math.max(s, Math.min(end, hi)) });
  }
  return out;
}

/**
 * Reads `inner` from each partition's start to its end and then ends: the start offsets are
 * handed to it as a checkpoint's would be; records at or past a partition's end are dropped.
 */
function bounded(
  inner: Source<Buffer | null>,
  topic: string,
  ranges: PartitionRanges,
): Source<Buffer | null> {
  const ends = new Map([...ranges].map(([p, r]) => [offsetKey(topic, p), r.end]));
  const done = () => {
    const at = inner.positions();
    for (const [key, end] of ends)
      if ((at[key] ?? ranges.get(Number(key.slice(topic.length + 1)))!.start) < end) return false;
    return true;
  };
  return {
    ...inner,
    name: `history:${inner.name}`,
    async open(ctx) {
      const startOffsets = Object.fromEntries([...ranges].map(([p, r]) => [offsetKey(topic, p), r.start]));
      await inner.open({ ...ctx, startOffsets: { ...startOffsets, ...ctx.startOffsets } });
    },
    async poll(max) {
      if (done()) return null;
      const batch = await inner.poll(max);
      if (batch === null) return null;
      const keep = batch.filter(
        (e: Envelope<Buffer | null>) => e.offset < (ranges.get(e.partition)?.end ?? 0),
      );
      return keep;
    },
    positions: () => inner.positions(),
    lag: () => inner.lag(),
    close: () => inner.close(),
  };
}

/** True when `input` names a topic (log: or kafka:) rather than a file. */
export function isTopicUrl(input: string): boolean {
  const s = urlScheme(input);
  return s === 'log' || s === 'kafka' || s === 'kafkas';
}

/**
 * History to backfill from: a file path (or `file:` URL: CSV or NDJSON, read whole, `range`
 * must be empty), `log:DIR/topic` or `kafka[s]://host:port/topic`, read from `range`'s start to
 * its end and then ended. Kafka is read by a member of a fresh consumer group (nothing committed
 * is reused); the log directory is opened, so a pipeline using it must be stopped.
 *
 * @example
 * const { source, ranges } = await historySource('kafka://127.0.0.1:9092/transactions',
 *   { fromTime: Date.parse('2018-07-01T00:00:00Z') });
 * pipeline('backfill').from(source).decode(json(TX_SCHEMA))...
 */
export async function historySource(
  input: string,
  range: HistoryRange = {},
): Promise<{ source: Source<Buffer | null>; ranges: PartitionRanges | undefined }> {
  const ranged = Object.values(range).some((v) => v !== undefined);
  for (const [k, v] of Object.entries(range))
    requireOption(
      v === undefined || Number.isSafeInteger(v),
      `historySource: ${k} must be an integer, got ${v}`,
    );
  const scheme = urlScheme(input);
  if (!isTopicUrl(input)) {
    requireOption(
      !ranged,
      `historySource: ${input} is a file; offsets and times select records of a topic (log: or kafka:)`,
    );
    return { source: sourceFromUrl(scheme === 'file' ? input : `file:${input}`), ranges: undefined };
  }
  if (scheme === 'log') {
    const parts = logUrlParts(input);
    if (!parts)
      throw new ConnectorError(
        'SLUICE_SOURCE_URL',
        `${input}: give the log directory and topic, log:DIR/topic`,
      );
    const log = Log.open(parts.dir);
    try {
      const { topic } = parts;
      const inner = logSource({ log, topic, endWhen: 'never' });
      const part = (p: number) => log.partition(topic, p);
      const ranges = await resolveRanges(
        {
          partitions: [...Array(log.partitionCount(topic)).keys()],
          earliest: (p) => part(p).logStartOffset,
          latest: (p) => part(p).highWatermark,
          atTime: (p, ms) => part(p).offsetForTimestamp(ms),
        },
        range,
      );
      const source = bounded(inner, topic, ranges);
      return { source: { ...source, close: async () => (await source.close(), log.close()) }, ranges };
    } catch (err) {
      log.close();
      throw err;
    }
  }
  const url = parseKafkaUrlOr(input, (why) => new ConnectorError('SLUICE_SOURCE_URL', `${input}: ${why}`));
  const { Consumer } = await loadKafkaClient();
  // A consumer outside any group only to ask the partitions' offsets (by time too).
  const admin = new Consumer({
    clientId: 'sluice-backfill',
    groupId: `sluice-backfill-${process.pid}-${Date.now()}`,
    bootstrapBrokers: url.brokers,
    ...clientSecurity(url.security),
  });
  let ranges: PartitionRanges;
  try {
    const ask = async (timestamp: bigint) =>
      ((await admin.listOffsets({ topics: [url.topic], timestamp })).get(url.topic) ?? []).map(Number);
    const [earliest, latest] = [await ask(-2n), await ask(-1n)];
    const byTime = new Map<number, number[]>();
    const atTime = async (p: number, ms: number) => {
      if (!byTime.has(ms)) byTime.set(ms, await ask(BigInt(ms)));
      const o = byTime.get(ms)![p];
      return o === undefined || o < 0 ? undefined : o;
    };
    ranges = await resolveRanges(
      {
        partitions: [...latest.keys()],
        earliest: (p) => earliest[p] ?? 0,
        latest: (p) => latest[p] ?? 0,
        atTime,
      },
      range,
    );
  } catch (err) {
    // The client's own message ("Unknown topic x.") without the URL: say which topic of where.
    throw new ConnectorError(
      'SLUICE_SOURCE_UNAVAILABLE',
      `cannot read the offsets of ${url.topic} at ${url.brokers.join(',')}: ${(err as Error).message}`,
      { cause: err },
    );
  } finally {
    await admin.close();
  }
  const inner = kafkaSource({
    brokers: url.brokers,
    topic: url.topic,
    ...url.security,
    groupId: `sluice-backfill-${process.pid}-${Date.now()}`,
    maxWaitMs: 50,
  });
  return { source: bounded(inner, url.topic, ranges), ranges };
}

/**
 * The longest span of history a set of lookback feature stages looks back over (window + delay
 * + out-of-orderness): reading that much before a start time warms their state, so the first
 * rows of a backfill from a time get the features the live pipeline gave them.
 *
 * @example
 * lookbackHorizon(FEATURE_GROUPS); // 37 days for the fraud example (30-day risk 7 days late)
 */
export function lookbackHorizon(
  features: Record<string, { windows: readonly number[]; delay?: number; outOfOrderness?: number }>,
): number {
  let h = 0;
  for (const f of Object.values(features))
    h = Math.max(h, Math.max(...f.windows) + (f.delay ?? 0) + (f.outOfOrderness ?? 0));
  return h;
}
