import type { Log, LogRecord } from '../log/index.js';
import { ConnectorError } from './errors.js';
import { DLQ_HEADERS } from './log-dead-letters.js';

/** A dead letter read back from its topic. */
export interface StoredDeadLetter {
  /** Offset in the dead-letter topic. */
  offset: number;
  time: number;
  stage: string;
  reason: string;
  /** Where the record came from: "topic/partition@offset". */
  source: string;
  /** The original bytes. */
  value: Buffer | null;
}

/** The consumer group under which replays remember how far they went. */
export const DLQ_REPLAY_GROUP = 'sluice-dlq-replay';

function header(r: LogRecord, name: string): string {
  return r.headers.find((h) => h.key === name)?.value?.toString('utf8') ?? '';
}

/**
 * Reads dead letters from a topic of the embedded log, oldest first.
 *
 * @example
 * for (const d of readDeadLetters(log, 'fraud.dlq', { limit: 10 })) console.log(d.offset, d.stage, d.reason);
 */
export function readDeadLetters(
  log: Log,
  topic: string,
  opts: { from?: number; limit?: number } = {},
): StoredDeadLetter[] {
  if (!log.hasTopic(topic))
    throw new ConnectorError(
      'SLUICE_DLQ_NOT_FOUND',
      `no dead-letter topic "${topic}" in ${log.dir} (topics: ${log.topics().join(', ') || 'none'})`,
    );
  const part = log.partition(topic, 0);
  const out: StoredDeadLetter[] = [];
  const limit = opts.limit ?? Infinity;
  let offset = Math.max(opts.from ?? 0, part.logStartOffset);
  while (offset < part.highWatermark && out.length < limit) {
    const { records, nextOffset } = part.read(offset);
    for (const r of records) {
      if (out.length >= limit) break;
      out.push({
        offset: r.offset,
        time: Number(new Date(header(r, DLQ_HEADERS.time))) || r.timestamp,
        stage: header(r, DLQ_HEADERS.stage),
        reason: header(r, DLQ_HEADERS.reason),
        source: header(r, DLQ_HEADERS.source),
        value: r.value === null ? null : Buffer.from(r.value),
      });
    }
    if (nextOffset <= offset) break;
    offset = nextOffset;
  }
  return out;
}

export interface ReplayOptions {
  /** First dead-letter offset to replay; default where the previous replay stopped. */
  from?: number;
  /** Replay up to (excluding) this offset; default the end. */
  to?: number;
  /** Only these stages (e.g. ["decode"]); default all that came from a source. */
  stages?: string[];
  /** Show what would happen, append nothing, remember nothing. */
  dryRun?: boolean;
}

export interface ReplayReport {
  replayed: number;
  /** Per source topic. */
  topics: Record<string, number>;
  skipped: { offset: number; why: string }[];
  /** The dead-letter offset the next replay starts from. */
  next: number;
}

/**
 * Appends the original bytes of dead letters back to the topic they came from (their
 * `sluice.dlq.source` header), for the pipeline to read again after a fix, and remembers how
 * far it went (consumer group sluice-dlq-replay), so running it again replays only newer ones.
 * Dead letters of action stages hold an action, not source bytes, and are skipped.
 *
 * @example
 * const report = replayDeadLetters(log, 'fraud.dlq', { stages: ['decode'] });
 * console.log(`${report.replayed} records back in ${Object.keys(report.topics)}`);
 */
export function replayDeadLetters(log: Log, topic: string, opts: ReplayOptions = {}): ReplayReport {
  const from = opts.from ?? log.offsets.committed(DLQ_REPLAY_GROUP, topic, 0) ?? 0;
  const end = Math.min(opts.to ?? Infinity, log.hasTopic(topic) ? log.partition(topic, 0).highWatermark : 0);
  const letters = readDeadLetters(log, topic, { from, limit: Math.max(0, end - from) }).filter(
    (d) => d.offset < end,
  );
  const report: ReplayReport = {
    replayed: 0,
    topics: {},
    skipped: [],
    next: Math.max(from, end === Infinity ? from : end),
  };
  const batches = new Map<
    string,
    {
      topic: string;
      partition: number;
      records: { value: Buffer | null; headers: { key: string; value: Buffer }[] }[];
    }
  >();
  for (const d of letters) {
    const m = /^(.+)\/(-?\d+)@(-?\d+)$/.exec(d.source);
    if (d.stage.startsWith('action:'))
      report.skipped.push({ offset: d.offset, why: `stage ${d.stage} holds an action, not source bytes` });
    else if (opts.stages && !opts.stages.includes(d.stage))
      report.skipped.push({ offset: d.offset, why: `stage ${d.stage} not selected` });
    else if (!m) report.skipped.push({ offset: d.offset, why: `no usable source header ("${d.source}")` });
    else if (!log.hasTopic(m[1]!))
      report.skipped.push({
        offset: d.offset,
        why: `source topic "${m[1]}" is not in this log (replay it into its own system)`,
      });
    else {
      const partition = Math.max(0, Math.min(Number(m[2]), log.partitionCount(m[1]!) - 1));
      const k = `${m[1]}/${partition}`;
      const b = batches.get(k) ?? { topic: m[1]!, partition, records: [] };
      b.records.push({
        value: d.value,
        headers: [{ key: 'sluice.dlq.replayed-from', value: Buffer.from(`${topic}@${d.offset}`) }],
      });
      batches.set(k, b);
      report.topics[m[1]!] = (report.topics[m[1]!] ?? 0) + 1;
      report.replayed++;
    }
  }
  if (opts.dryRun) return report;
  for (const b of batches.values()) {
    const part = log.partition(b.topic, b.partition);
    part.append(b.records);
    part.flush();
  }
  log.offsets.commit(DLQ_REPLAY_GROUP, topic, 0, report.next);
  return report;
}
