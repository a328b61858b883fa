// A Source over an Amazon Kinesis data stream with the AWS SDK (polling GetRecords; enhanced
// fan-out is not implemented yet). Kinesis keeps no consumer position, so the pipeline's
// checkpoint is the only one: per shard it holds the sequence number of the last record handed
// to the pipeline, and a restart resumes AFTER_SEQUENCE_NUMBER. Record ids are built from the
// stream, shard and sequence number, so action idempotency keys are the same on every replay.

import { SluiceError } from '../core/errors.js';
import type { _Record, GetRecordsCommandOutput, Shard } from '@aws-sdk/client-kinesis';
import {
  awsErrorName,
  kinesisClient,
  loadKinesis,
  type KinesisClient,
  type KinesisModule,
} from '../core/kinesis.js';
import type { KinesisSender, KinesisTarget } from '../core/kinesis-url.js';
import { wallClockMs } from '../observe/index.js';
import {
  envelope,
  offsetKey,
  requireOption,
  type Envelope,
  type Source,
  type SourceContext,
  type SourceOffsets,
} from '../stream/index.js';
import { ConnectorError } from './errors.js';
import {
  readyShards,
  savedPositions,
  shardDone,
  shardNumber,
  shardPositions,
  type SavedPosition,
  type ShardState,
} from './kinesis-shards.js';

export interface KinesisSourceOptions extends KinesisTarget {
  /** Where shards without a checkpoint start at the first run: 'trim-horizon' (default, all kept records) or 'latest'. */
  startAt?: 'trim-horizon' | 'latest';
  /** Records asked per GetRecords call (Kinesis allows 1 to 10,000). Default 10,000. */
  limit?: number;
  /** Least time between two GetRecords calls on one shard (Kinesis allows 5 per second). Default 200 ms. */
  callIntervalMs?: number;
  /** How often the shard list is read again to find new shards (a shard's end also triggers it). Default 10 s. */
  shardRefreshMs?: number;
  /** Records fetched ahead of the pipeline before readers pause. Default 20,000. */
  prefetch?: number;
  /** Ends the stream when it returns true and every shard is caught up (tests, bounded runs). */
  endWhen?: () => boolean;
  /** A client to use instead of one built from region/endpoint (tests inject faults this way). */
  client?: KinesisSender;
  /** Receives throttling and retry notes. Default: none. */
  onWarning?: (message: string) => void;
}

/** Kinesis throughput limit per shard for reads: 2 MiB/s (a bigger read delays the next call). */
const READ_BYTES_PER_SECOND = 2 * 1024 * 1024;
/** Consecutive failures of other kinds (network, 5xx) before the source gives up. */
const MAX_FAILURES = 8;

interface Fetched {
  shard: ShardState;
  record: _Record;
  ordinal: number;
}

/**
 * Reads every shard of a Kinesis stream, following splits and merges: a child shard is read
 * only after its parents are read to their end, so each partition key's records stay in order.
 * GetRecords runs at most once per `callIntervalMs` per shard and slows down after large reads
 * (2 MiB/s per shard) and on ProvisionedThroughputExceededException (exponential backoff).
 * `MillisBehindLatest` per shard is the lag in ms (`lagMsByPartition`, sluice_partition_lag_ms).
 *
 * @example
 * const source = kinesisSource({ stream: 'transactions', region: 'eu-west-1' });
 * pipeline('fraud').from(source).decode(json(schema))...
 */
export function kinesisSource(opts: KinesisSourceOptions): Source<Buffer> & {
  lagMsByPartition(): Record<string, number>;
  stats(): { getRecordsCalls: number; throttled: number };
} {
  requireOption(typeof opts.stream === 'string' && opts.stream !== '', 'kinesisSource: stream is required');
  const limit = opts.limit ?? 10_000;
  requireOption(
    Number.isInteger(limit) && limit >= 1 && limit <= 10_000,
    `kinesisSource: limit must be 1..10000 (Kinesis' GetRecords maximum), got ${limit}`,
  );
  const { stream } = opts;
  const callIntervalMs = opts.callIntervalMs ?? 200;
  const prefetch = opts.prefetch ?? 20_000;
  const warn = opts.onWarning ?? (() => {});
  const shards = new Map<string, ShardState>();
  let sdk: KinesisModule;
  let client: KinesisClient;
  let saved = new Map<number, SavedPosition>();
  let buffer: Fetched[] = [];
  let head = 0;
  let closed = false;
  let failure: unknown;
  let refreshTimer: NodeJS.Timeout | undefined;
  let refreshing: Promise<void> | undefined;
  let startPartitions: string[] = [];
  const readers = new Set<Promise<void>>();
  let spaceWaiters: (() => void)[] = [];
  let getRecordsCalls = 0;
  let throttled = 0;

  const buffered = () => buffer.length - head;
  const sleepers = new Set<() => void>();
  /** A wait that close() cuts short (a reader may be backing off for seconds). */
  const sleep = (ms: number) =>
    new Promise<void>((r) => {
      const done = () => {
        clearTimeout(t);
        sleepers.delete(done);
        r();
      };
      const t = setTimeout(done, ms);
      sleepers.add(done);
    });
  let opening = false;
  const fail = (err: unknown) => {
    failure ??= err;
  };

  const newShard = (s: Shard): ShardState => {
    const num = shardNumber(s.ShardId!);
    const pos = saved.get(num);
    return {
      id: s.ShardId!,
      num,
      parents: [s.ParentShardId, s.AdjacentParentShardId].filter((p): p is string => !!p),
      started: pos?.seq === 'end',
      fetchedEnd: pos?.seq === 'end',
      pending: 0,
      returnedSeq: pos && pos.seq !== 'end' ? pos.seq : undefined,
      returnedOrdinal: pos?.ordinal ?? 0,
      fetchOrdinal: pos?.ordinal ?? 0,
      fetchedSeq: pos && pos.seq !== 'end' ? pos.seq : undefined,
      behindMs: 0,
      caughtUp: false,
      // startAt 'latest' applies to the shards open when a pipeline first starts, never to children.
      startLatest:
        opening &&
        saved.size === 0 &&
        opts.startAt === 'latest' &&
        !s.SequenceNumberRange?.EndingSequenceNumber,
    };
  };

  /** Lists the stream's shards (paged), adds new ones and starts those that may be read now. */
  const refreshShards = async () => {
    let token: string | undefined;
    do {
      const res = await client.send(
        new sdk.ListShardsCommand(token ? { NextToken: token } : { StreamName: stream }),
      );
      for (const s of res.Shards ?? []) if (!shards.has(s.ShardId!)) shards.set(s.ShardId!, newShard(s));
      token = res.NextToken;
    } while (token);
    for (const s of readyShards(shards)) {
      s.started = true;
      const r = readShard(s).catch(fail);
      readers.add(r);
      void r.finally(() => readers.delete(r));
    }
  };
  const refreshSoon = () => {
    refreshing ??= refreshShards()
      .catch((err: unknown) =>
        warn(`kinesisSource ${stream}: listing shards failed: ${(err as Error).message}`),
      )
      .finally(() => (refreshing = undefined));
  };

  /** A shard iterator where the shard's reading resumes. */
  const iteratorFor = async (s: ShardState): Promise<string | undefined> => {
    const at = s.fetchedSeq
      ? { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER' as const, StartingSequenceNumber: s.fetchedSeq }
      : { ShardIteratorType: s.startLatest ? ('LATEST' as const) : ('TRIM_HORIZON' as const) };
    const res = await client.send(
      new sdk.GetShardIteratorCommand({ StreamName: stream, ShardId: s.id, ...at }),
    );
    return res.ShardIterator;
  };

  /** GetRecords on one shard until it ends (or the source closes), within the shard's limits. */
  const readShard = async (s: ShardState) => {
    let iterator: string | undefined;
    let nextCallAt = 0;
    let failures = 0;
    let throttles = 0; // consecutive, on this shard
    while (!closed && !s.fetchedEnd) {
      while (buffered() >= prefetch && !closed) await new Promise<void>((r) => spaceWaiters.push(r));
      const wait = nextCallAt - Date.now();
      if (wait > 0) await sleep(wait);
      if (closed) return;
      let res: GetRecordsCommandOutput;
      try {
        iterator ??= await iteratorFor(s);
        if (iterator === undefined) {
          s.fetchedEnd = true; // a closed shard read to its end before the checkpoint was taken
          break;
        }
        getRecordsCalls++;
        res = await client.send(new sdk.GetRecordsCommand({ ShardIterator: iterator, Limit: limit }));
      } catch (err) {
        const name = awsErrorName(err);
        if (name === 'ExpiredIteratorException') {
          iterator = undefined; // iterators live 5 minutes: take a new one after the last record fetched
          continue;
        }
        const throttle =
          name === 'ProvisionedThroughputExceededException' || name === 'LimitExceededException';
        if (throttle) {
          throttled++;
          throttles++;
        } else if (++failures > MAX_FAILURES || name === 'ResourceNotFoundException') throw err;
        // Exponential backoff with jitter: 250 ms doubling to 10 s.
        const base = Math.min(10_000, 250 * 2 ** Math.min(6, (throttle ? throttles : failures) - 1));
        nextCallAt = Date.now() + base / 2 + (Math.random() * base) / 2;
        warn(`kinesisSource ${stream} ${s.id}: ${name || (err as Error).message}; retrying`);
        continue;
      }
      failures = 0;
      throttles = 0;
      const records = res.Records ?? [];
      let bytes = 0;
      for (const record of records) {
        buffer.push({ shard: s, record, ordinal: s.fetchOrdinal++ });
        bytes += record.Data?.byteLength ?? 0;
      }
      s.pending += records.length;
      if (records.length > 0) s.fetchedSeq = records[records.length - 1]!.SequenceNumber;
      s.behindMs = res.MillisBehindLatest ?? 0;
      s.caughtUp = records.length === 0;
      nextCallAt = Date.now() + Math.max(callIntervalMs, (bytes * 1000) / READ_BYTES_PER_SECOND);
      iterator = res.NextShardIterator;
      if (iterator === undefined) {
        s.fetchedEnd = true; // closed by a split or merge: its children are listed now
        refreshSoon();
      }
    }
  };

  const caughtUp = () =>
    buffered() === 0 &&
    refreshing === undefined &&
    readyShards(shards).length === 0 &&
    [...shards.values()].every((s) => s.fetchedEnd || (s.started && s.caughtUp));

  return {
    name: `kinesis:${stream}`,
    sharesStamps: true,
    async open(ctx: SourceContext) {
      saved = savedPositions(stream, ctx.startOffsets);
      opening = true;
      try {
        sdk = await loadKinesis();
      } catch (err) {
        if (err instanceof SluiceError) throw err; // says what to install
        throw new ConnectorError('SLUICE_SOURCE_UNAVAILABLE', (err as Error).message, { cause: err });
      }
      try {
        client = (opts.client as KinesisClient | undefined) ?? kinesisClient(sdk, opts);
        await refreshShards();
        opening = false;
      } catch (err) {
        throw new ConnectorError(
          'SLUICE_SOURCE_UNAVAILABLE',
          `kinesisSource ${stream}${opts.endpoint ? ` at ${opts.endpoint}` : ''}: ${(err as Error).message}; ` +
            'check the stream name, the region (?region= or AWS_REGION) and the AWS credentials',
          { cause: err },
        );
      }
      startPartitions = [...shards.values()]
        .filter((s) => !s.fetchedEnd)
        .map((s) => offsetKey(stream, s.num));
      refreshTimer = setInterval(refreshSoon, opts.shardRefreshMs ?? 10_000);
      refreshTimer.unref();
    },
    async poll(max: number): Promise<Envelope<Buffer>[] | null> {
      if (failure !== undefined)
        throw new ConnectorError(
          'SLUICE_SOURCE_UNAVAILABLE',
          `kinesisSource ${stream}: ${(failure as Error).message}`,
          { cause: failure },
        );
      if (buffered() === 0) {
        if (opts.endWhen?.() && caughtUp()) return null;
        await sleep(20);
        return [];
      }
      const stamps = [wallClockMs()];
      const out: Envelope<Buffer>[] = [];
      while (out.length < max && head < buffer.length) {
        const { shard, record, ordinal } = buffer[head++]!;
        const data = record.Data!;
        const arrival = record.ApproximateArrivalTimestamp?.getTime() ?? stamps[0]!;
        const env = envelope(
          Buffer.from(data.buffer, data.byteOffset, data.byteLength),
          stream,
          shard.num,
          ordinal,
          arrival,
          stamps,
        );
        // The record's id (and so every idempotency key built on it): stream, shard, sequence number.
        env.id = `${stream}-${shard.id}@${record.SequenceNumber}`;
        out.push(env);
        shard.pending--;
        shard.returnedSeq = record.SequenceNumber;
        shard.returnedOrdinal = ordinal + 1;
      }
      if (head > 4096 && head * 2 > buffer.length) {
        buffer = buffer.slice(head); // drop the handed-out head now and then, not per poll
        head = 0;
      }
      if (buffered() < prefetch / 2 && spaceWaiters.length > 0) {
        const waiting = spaceWaiters;
        spaceWaiters = [];
        for (const w of waiting) w();
      }
      return out;
    },
    positions(): SourceOffsets {
      return shardPositions(stream, shards.values());
    },
    partitions(): string[] {
      return startPartitions;
    },
    lag() {
      return buffered();
    },
    lagMsByPartition(): Record<string, number> {
      const out: Record<string, number> = {};
      for (const s of shards.values())
        if (s.started && !shardDone(s)) out[offsetKey(stream, s.num)] = s.behindMs;
      return out;
    },
    stats: () => ({ getRecordsCalls, throttled }),
    async close() {
      closed = true;
      clearInterval(refreshTimer);
      for (const w of spaceWaiters) w();
      spaceWaiters = [];
      for (const wake of [...sleepers]) wake();
      await Promise.allSettled([...readers]);
      await refreshing;
      if (!opts.client) client?.destroy();
    },
  };
}
