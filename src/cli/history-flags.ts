// The flags that pick a backfill's records from a topic, shared by `sluice train PIPELINE.ts`
// and `sluice train fraud`: --from-offset/--from-time and --to-offset/--to-time.
import { isTopicUrl, type HistoryRange } from '../connectors/history-source.js';
import { UsageError, intFlag, type Flags } from './args.js';

export const HISTORY_FLAGS = {
  'from-offset': { type: 'string' },
  'from-time': { type: 'string' },
  'to-offset': { type: 'string' },
  'to-time': { type: 'string' },
} as const;

export const HISTORY_USAGE = `  --from-offset N   topic input: start at offset N of every partition (default: the earliest)
  --from-time T     topic input: start at each partition's first record stamped at or after T
                    (ISO 8601, e.g. 2018-07-01T00:00:00Z, or epoch ms); the feature windows'
                    lookback is read before T to warm them, and rows from T on are kept
  --to-offset N, --to-time T
                    topic input: stop before offset N / the first record stamped at or after T
                    (default: the end offsets when the backfill starts)`;

/** An ISO 8601 time or epoch milliseconds. */
function timeFlag(value: Flags[string], flag: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value === '') throw new UsageError(`--${flag} needs a value`);
  const ms = /^\d+$/.test(value) ? Number(value) : Date.parse(value);
  if (!Number.isSafeInteger(ms))
    throw new UsageError(
      `--${flag} must be an ISO 8601 time (2018-07-01T00:00:00Z) or epoch ms, got "${value}"`,
    );
  return ms;
}

/**
 * The range the flags give, or undefined when none is given; a usage error for a file input
 * (the range selects records of a topic) or for both an offset and a time at one end.
 *
 * @example
 * historyRange({ 'from-time': '2018-07-01T00:00:00Z' }, 'log:data/log/transactions'); // { fromTime: 1530403200000 }
 */
export function historyRange(values: Flags, input: string): HistoryRange | undefined {
  const range: HistoryRange = {
    fromOffset:
      values['from-offset'] === undefined ? undefined : intFlag(values['from-offset'], 'from-offset', 0),
    fromTime: timeFlag(values['from-time'], 'from-time'),
    toOffset: values['to-offset'] === undefined ? undefined : intFlag(values['to-offset'], 'to-offset', 0),
    toTime: timeFlag(values['to-time'], 'to-time'),
  };
  if (Object.values(range).every((v) => v === undefined)) return undefined;
  if (!isTopicUrl(input))
    throw new UsageError(
      `--from-*/--to-* select records of a topic: give --input log:DIR/topic or kafka://host:port/topic, not a file`,
    );
  if (range.fromOffset !== undefined && range.fromTime !== undefined)
    throw new UsageError('give --from-offset or --from-time, not both');
  if (range.toOffset !== undefined && range.toTime !== undefined)
    throw new UsageError('give --to-offset or --to-time, not both');
  return range;
}
