import { SluiceError } from '../core/errors.js';
import { createHash } from 'node:crypto';
import type { GetShardIteratorCommandInput, PutRecordsRequestEntry } from '@aws-sdk/client-kinesis';
import {
  awsErrorName,
  kinesisClient,
  loadKinesis,
  type KinesisClient,
  type KinesisModule,
} from '../core/kinesis.js';
import type { KinesisSender, KinesisTarget } from '../core/kinesis-url.js';
import { requireOption } from '../stream/index.js';
import { ActionError } from './errors.js';
import { RecentKeys } from './recent-keys.js';
import { backoffDelay, resolveBackoff, sleep, type BackoffOptions } from './backoff.js';
import {
  ledgerEntry,
  type ActionEntry,
  type ActionSink,
  type DeliveryResult,
  type Rejection,
} from './sink.js';

export interface KinesisSinkOptions extends KinesisTarget {
  /** The record data. Default: the ledger line `{key, action, payload, time}` as JSON (consumers dedupe on `key`). */
  value?: (entry: ActionEntry) => Buffer;
  /**
   * With the default `value`: the keys of the records put in this much time before open are read
   * back from the stream (AT_TIMESTAMP) and not put again, so a replay after a crash within it
   * has no second effect. Default 15 minutes; 0 turns it off (then the action needs its ledger).
   */
  dedupWindowMs?: number;
  /** Most actions remembered for dedup. Default 100,000. */
  dedupCapacity?: number;
  /** Retries of the entries PutRecords failed (throttling, internal errors). Default 8, from 100 ms up to 5 s. */
  backoff?: BackoffOptions;
  /** A client to use instead of one built from region/endpoint (tests inject partial failures this way). */
  client?: KinesisSender;
}

/** PutRecords limits: records per call, bytes per call, bytes per record (data + partition key). */
export const PUT_RECORDS_LIMITS = { records: 500, bytes: 5 * 1024 * 1024, recordBytes: 1024 * 1024 } as const;

/** How long GetShardIterator AT_TIMESTAMP may take before the scan reads the whole shard instead. */
const ITERATOR_TIMEOUT_MS = 2000;

/** Kinesis partition keys are 1 to 256 characters; a longer key is replaced by its SHA-256. */
function partitionKey(e: ActionEntry): string {
  const k = e.recordKey === undefined ? e.key : String(e.recordKey);
  if (k.length >= 1 && k.length <= 256) return k;
  return createHash('sha256').update(k).digest('hex');
}

interface Pending {
  entry: ActionEntry;
  record: PutRecordsRequestEntry;
  bytes: number;
}

/** Splits records into PutRecords calls within the count and byte limits, in order. */
export function putRecordsBatches<T extends { bytes: number }>(items: T[]): T[][] {
  const out: T[][] = [];
  let batch: T[] = [];
  let bytes = 0;
  for (const it of items) {
    if (batch.length === PUT_RECORDS_LIMITS.records || bytes + it.bytes > PUT_RECORDS_LIMITS.bytes) {
      out.push(batch);
      batch = [];
      bytes = 0;
    }
    batch.push(it);
    bytes += it.bytes;
  }
  if (batch.length > 0) out.push(batch);
  return out;
}

/**
 * Puts actions on a Kinesis data stream with PutRecords, in calls within Kinesis' limits (500
 * records, 5 MiB), partitioned by the record's key (else the idempotency key). When a call
 * partly fails (throttled or internal errors on some entries) only the failed entries are sent
 * again, with backoff. Kinesis cannot deduplicate: at open the sink reads back the keys of the
 * records put in the last `dedupWindowMs` (15 min) and skips them, so a replay after a crash
 * has no second effect; a record over 1 MiB is rejected (dead letter) with the reason.
 *
 * @example
 * stream.to(action({ name: 'alert', ledger, payload: (t) => t, to: kinesisActionSink({ stream: 'alerts', region: 'eu-west-1' }) }));
 */
export function kinesisActionSink(
  opts: KinesisSinkOptions,
): ActionSink & { stats(): { calls: number; retried: number } } {
  requireOption(
    typeof opts.stream === 'string' && opts.stream !== '',
    'kinesisActionSink: stream is required',
  );
  const { stream } = opts;
  const backoff = resolveBackoff({ retries: 8, ...opts.backoff }, 'kinesisActionSink');
  const valueOf = opts.value ?? ((e: ActionEntry) => Buffer.from(JSON.stringify(ledgerEntry(e))));
  // Keys can be read back only from records in the default format.
  const windowMs = opts.value ? 0 : (opts.dedupWindowMs ?? 15 * 60_000);
  const seen = new RecentKeys(opts.dedupCapacity ?? 100_000);
  let sdk: KinesisModule;
  let client: KinesisClient | undefined;
  let calls = 0;
  let retried = 0;

  const unavailable = (why: string, cause?: unknown) =>
    new ActionError(
      'SLUICE_ACTION_UNAVAILABLE',
      `kinesisActionSink ${stream}: ${why}; the pipeline resumes from its checkpoint when restarted`,
      true,
      { cause },
    );

  /** One batch: PutRecords, then again with only the entries that failed, until none fail. */
  const put = async (batch: Pending[]) => {
    let todo = batch;
    for (let attempt = 0; ; attempt++) {
      let failed: Pending[];
      let reason: string;
      try {
        calls++;
        const res = await client!.send(
          new sdk.PutRecordsCommand({ StreamName: stream, Records: todo.map((p) => p.record) }),
        );
        if (!res.FailedRecordCount) return;
        const results = res.Records ?? [];
        failed = todo.filter((_, i) => results[i]?.ErrorCode !== undefined);
        const first = results.find((r) => r.ErrorCode !== undefined);
        reason = `${failed.length} of ${todo.length} record(s) failed (${first?.ErrorCode}: ${first?.ErrorMessage})`;
      } catch (err) {
        const name = awsErrorName(err);
        // Throttling and server errors are worth a retry; a missing stream or permissions are not.
        if (/ResourceNotFound|AccessDenied|InvalidArgument|KMS|Validation/.test(name))
          throw new ActionError(
            'SLUICE_ACTION_FAILED',
            `kinesisActionSink ${stream}: ${name}: ${(err as Error).message}; check the stream, region and credentials`,
            false,
            { cause: err },
          );
        failed = todo;
        reason = `${name || 'error'}: ${(err as Error).message}`;
      }
      if (attempt >= backoff.retries)
        throw unavailable(`PutRecords still failing after ${attempt + 1} tries: ${reason}`);
      retried += failed.length;
      todo = failed;
      await sleep(backoffDelay(backoff, attempt));
    }
  };

  /** Reads every shard from `windowMs` ago to its end and remembers the idempotency keys found. */
  const scan = async () => {
    const shardIds: string[] = [];
    let token: string | undefined;
    do {
      const res = await client!.send(
        new sdk.ListShardsCommand(token ? { NextToken: token } : { StreamName: stream }),
      );
      for (const sh of res.Shards ?? []) shardIds.push(sh.ShardId!);
      token = res.NextToken;
    } while (token);
    const since = new Date(Date.now() - windowMs);
    const readShard = async (shardId: string) => {
      const iteratorAt = async (
        at: Pick<GetShardIteratorCommandInput, 'ShardIteratorType' | 'Timestamp'>,
        abortSignal?: AbortSignal,
      ) =>
        (
          await client!.send(
            new sdk.GetShardIteratorCommand({ StreamName: stream, ShardId: shardId, ...at }),
            abortSignal ? { abortSignal } : {},
          )
        ).ShardIterator;
      // AT_TIMESTAMP skips the older records. kinesalite never answers it on a shard with no
      // record after the time, so a slow answer falls back to the whole shard (same keys, slower).
      let iterator = await iteratorAt(
        { ShardIteratorType: 'AT_TIMESTAMP', Timestamp: since },
        AbortSignal.timeout(ITERATOR_TIMEOUT_MS),
      ).catch(async (err: unknown) => {
        if (awsErrorName(err) !== 'AbortError' && awsErrorName(err) !== 'TimeoutError') throw err;
        return iteratorAt({ ShardIteratorType: 'TRIM_HORIZON' });
      });
      for (let throttled = 0; iterator !== undefined;) {
        let res;
        try {
          res = await client!.send(new sdk.GetRecordsCommand({ ShardIterator: iterator, Limit: 10_000 }));
        } catch (err) {
          if (awsErrorName(err) !== 'ProvisionedThroughputExceededException' || throttled >= 8) throw err;
          await sleep(backoffDelay(backoff, throttled++));
          continue;
        }
        for (const r of res.Records ?? []) {
          try {
            const key = (JSON.parse(Buffer.from(r.Data!).toString('utf8')) as { key?: unknown }).key;
            if (typeof key === 'string') seen.add(key);
          } catch {
            // Not a record of this sink: nothing to dedupe against.
          }
        }
        if ((res.Records ?? []).length === 0 && (res.MillisBehindLatest ?? 0) === 0) break;
        iterator = res.NextShardIterator;
        await sleep(200); // 5 GetRecords per second per shard
      }
    };
    await Promise.all(shardIds.map(readShard));
  };

  return {
    name: `kinesis:${stream}`,
    dedupes: windowMs > 0,
    async open() {
      try {
        sdk = await loadKinesis();
      } catch (err) {
        // The SDK is missing: installing it is the fix, not a restart.
        if (err instanceof SluiceError) throw err;
        throw new ActionError('SLUICE_ACTION_FAILED', (err as Error).message, false, { cause: err });
      }
      client = (opts.client as KinesisClient | undefined) ?? kinesisClient(sdk, opts);
      if (windowMs > 0) {
        try {
          await scan();
        } catch (err) {
          const name = awsErrorName(err);
          throw new ActionError(
            name === 'ResourceNotFoundException' ? 'SLUICE_ACTION_FAILED' : 'SLUICE_ACTION_UNAVAILABLE',
            `kinesisActionSink ${stream}: reading back the last ${windowMs / 60_000} min of records to dedupe failed: ${name}: ${(err as Error).message}; check the stream (create it first), region and credentials`,
            name !== 'ResourceNotFoundException',
            { cause: err },
          );
        }
      }
    },
    async deliver(entries: ActionEntry[]): Promise<DeliveryResult> {
      const rejected: Rejection[] = [];
      const pending: Pending[] = [];
      let duplicates = 0;
      for (const entry of entries) {
        if (seen.has(entry.key)) {
          duplicates++; // put before a crash, read back at open
          continue;
        }
        const data = valueOf(entry);
        const key = partitionKey(entry);
        const bytes = data.byteLength + Buffer.byteLength(key);
        if (bytes > PUT_RECORDS_LIMITS.recordBytes) {
          rejected.push({ entry, reason: `record of ${bytes} bytes is over Kinesis' 1 MiB limit` });
          continue;
        }
        pending.push({ entry, record: { Data: data, PartitionKey: key }, bytes });
      }
      for (const batch of putRecordsBatches(pending)) {
        await put(batch);
        for (const p of batch) seen.add(p.entry.key); // only once put: a failed put is tried again
      }
      return { done: pending.length, duplicates, rejected };
    },
    stats: () => ({ calls, retried }),
    async close() {
      if (!opts.client) client?.destroy();
    },
  };
}
