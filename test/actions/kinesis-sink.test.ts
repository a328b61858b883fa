import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  actionSinkFromUrl,
  kinesisActionSink,
  putRecordsBatches,
  PUT_RECORDS_LIMITS,
} from '../../src/actions/index.js';
import type { ActionEntry } from '../../src/actions/sink.js';
import { kinesisSource } from '../../src/connectors/index.js';
import { startKinesalite, type Kinesalite } from '../helpers/kinesalite.js';

let k: Kinesalite;
before(async () => {
  k = await startKinesalite();
});
after(async () => {
  await k?.close();
});

const entry = (i: number, payload: unknown = { i }): ActionEntry => ({
  key: `p/alert/tx-0@${i}`,
  action: 'alert',
  payload,
  time: 1,
  recordKey: `customer${i % 7}`,
  eventTime: 1,
});

describe('kinesisActionSink', () => {
  it('splits batches at 500 records and at 5 MiB', () => {
    const small = Array.from({ length: 1201 }, () => ({ bytes: 100 }));
    assert.deepEqual(
      putRecordsBatches(small).map((b) => b.length),
      [500, 500, 201],
    );
    const big = Array.from({ length: 12 }, () => ({ bytes: 1000 * 1024 }));
    const batches = putRecordsBatches(big);
    assert.deepEqual(
      batches.map((b) => b.length),
      [5, 5, 2],
    );
    for (const b of batches) assert.ok(b.reduce((s, x) => s + x.bytes, 0) <= PUT_RECORDS_LIMITS.bytes);
  });

  it('puts actions keyed by the record key, readable by the source', async () => {
    await k.createStream('alerts', 2);
    const sink = actionSinkFromUrl(`kinesis://alerts?region=us-east-1&endpoint=${k.endpoint}`);
    assert.equal(sink.name, 'kinesis:alerts');
    assert.equal(sink.dedupes, true, 'keys read back from the stream at open');
    await sink.open!({ pipeline: 'p' });
    const r = await sink.deliver(Array.from({ length: 1200 }, (_, i) => entry(i)));
    assert.deepEqual(r, { done: 1200, duplicates: 0, rejected: [] });
    await sink.close!();
    const src = kinesisSource({
      stream: 'alerts',
      endpoint: k.endpoint,
      region: 'us-east-1',
      callIntervalMs: 20,
    });
    await src.open({ pipeline: 'q', startOffsets: undefined });
    const got = [];
    const until = Date.now() + 15_000;
    while (got.length < 1200 && Date.now() < until) got.push(...((await src.poll(1000)) ?? []));
    await src.close();
    const lines = got.map(
      (e) => JSON.parse(e.value.toString()) as { key: string; action: string; payload: { i: number } },
    );
    assert.equal(new Set(lines.map((l) => l.key)).size, 1200);
    assert.deepEqual(Object.keys(lines[0]!).sort(), ['action', 'key', 'payload', 'time']);
  });

  it('retries only the entries a partial failure names, then succeeds', async () => {
    await k.createStream('partial', 1);
    const calls: string[][] = [];
    // Fails every third entry of the first call and the first entry of the second.
    const client = {
      async send(cmd: { input: { Records: { PartitionKey: string; Data: Uint8Array }[] } }) {
        const recs = cmd.input.Records;
        const n = calls.push(recs.map((r) => JSON.parse(Buffer.from(r.Data).toString()).payload.i as string));
        const fail = (i: number) => (n === 1 ? i % 3 === 0 : n === 2 ? i === 0 : false);
        const ok = recs.filter((_, i) => !fail(i));
        const res = ok.length
          ? await k.client.send(new k.sdk.PutRecordsCommand({ StreamName: 'partial', Records: ok }))
          : { Records: [] };
        let j = 0;
        return {
          FailedRecordCount: recs.filter((_, i) => fail(i)).length,
          Records: recs.map((_, i) =>
            fail(i)
              ? {
                  ErrorCode: 'ProvisionedThroughputExceededException',
                  ErrorMessage: 'Rate exceeded for shard',
                }
              : res.Records![j++],
          ),
        };
      },
    };
    const sink = kinesisActionSink({
      stream: 'partial',
      endpoint: k.endpoint,
      client,
      dedupWindowMs: 0,
      backoff: { initialDelayMs: 5, maxDelayMs: 20 },
    });
    await sink.open!({ pipeline: 'p' });
    const r = await sink.deliver(Array.from({ length: 9 }, (_, i) => entry(i)));
    assert.equal(r.done, 9);
    assert.deepEqual(calls, [[0, 1, 2, 3, 4, 5, 6, 7, 8], [0, 3, 6], [0]]);
    assert.deepEqual(sink.stats(), { calls: 3, retried: 4 });
    const d = await k.client.send(
      new k.sdk.GetShardIteratorCommand({
        StreamName: 'partial',
        ShardId: 'shardId-000000000000',
        ShardIteratorType: 'TRIM_HORIZON',
      }),
    );
    const rr = await k.client.send(new k.sdk.GetRecordsCommand({ ShardIterator: d.ShardIterator }));
    assert.equal(rr.Records!.length, 9, 'each record in the stream once');
  });

  it('gives up with a retryable error when failures persist, and rejects records over 1 MiB', async () => {
    const client = {
      send: async (cmd: { input: { Records: unknown[] } }) => ({
        FailedRecordCount: cmd.input.Records.length,
        Records: cmd.input.Records.map(() => ({ ErrorCode: 'InternalFailure', ErrorMessage: 'boom' })),
      }),
    };
    const sink = kinesisActionSink({
      stream: 's',
      client,
      dedupWindowMs: 0,
      backoff: { retries: 2, initialDelayMs: 1, maxDelayMs: 2 },
    });
    assert.equal(sink.dedupes, false, 'without the read-back the action needs its ledger');
    await sink.open!({ pipeline: 'p' });
    await assert.rejects(sink.deliver([entry(1)]), {
      code: 'SLUICE_ACTION_UNAVAILABLE',
      retryable: true,
      message: /after 3 tries: 1 of 1 record\(s\) failed \(InternalFailure: boom\)/,
    });
    const ok = kinesisActionSink({
      stream: 's',
      dedupWindowMs: 0,
      client: { send: async () => ({ FailedRecordCount: 0, Records: [] }) },
    });
    await ok.open!({ pipeline: 'p' });
    const r = await ok.deliver([entry(1, 'x'.repeat(1024 * 1024)), entry(2)]);
    assert.equal(r.done, 1);
    assert.match(r.rejected[0]!.reason, /over Kinesis' 1 MiB limit/);
  });

  it('a replay after a crash puts nothing twice: the keys put before are read back at open', async () => {
    await k.createStream('replay', 2);
    const url = `kinesis://replay?region=us-east-1&endpoint=${k.endpoint}`;
    const first = actionSinkFromUrl(url);
    await first.open!({ pipeline: 'p' });
    assert.equal((await first.deliver(Array.from({ length: 700 }, (_, i) => entry(i)))).done, 700);
    await first.close!(); // as if the process died before its ledger recorded these
    const second = actionSinkFromUrl(url);
    await second.open!({ pipeline: 'p' });
    const r = await second.deliver(Array.from({ length: 1000 }, (_, i) => entry(i)));
    assert.deepEqual(r, { done: 300, duplicates: 700, rejected: [] });
    await second.close!();
    const src = kinesisSource({
      stream: 'replay',
      endpoint: k.endpoint,
      region: 'us-east-1',
      endWhen: () => true,
    });
    await src.open({ pipeline: 'q', startOffsets: undefined });
    let n = 0;
    for (let recs = await src.poll(1000); recs !== null; recs = await src.poll(1000)) n += recs.length;
    await src.close();
    assert.equal(n, 1000, 'each action in the stream once');
  });
});
