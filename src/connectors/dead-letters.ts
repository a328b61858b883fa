import type { Log, LogRecord, RecordHeader } from '../log/index.js';
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
  /** All its headers (copies), signature included. */
  headers: RecordHeader[];
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
        headers: r.headers.map((h) => ({
          key: h.key,
          value: h.value === null ? null : Buffer.from(h.value),
        })),
      });
    }
    if (nextOffset <= offset) break;
    offset = nextOffset;
  }
  return out;
}
