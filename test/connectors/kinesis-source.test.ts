import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { kinesisSource } from '../../src/connectors/index.js';
import type { Envelope, SourceOffsets } from '../../src/stream/index.js';
import { startKinesalite, type Kinesalite } from '../helpers/kinesalite.js';

let k: Kinesalite;
before(async () => {
  k = await startKinesalite();
});
after(async () => {
  await k?.close();
});

/** Puts `n` records `{"k":KEY,"i":I}` over `keys` partition keys, 500 per call. */
async function put(stream: string, from: number, n: number, keys = 20): Promise<void> {
  for (let i = from; i < from + n; i += 500) {
    const Records = [];
    for (let j = i; j < Math.min(from + n, i + 500); j++)
      Records.push({
        Data: Buffer.from(JSON.stringify({ k: `key${j % keys}`, i: j })),
        PartitionKey: `key${j % keys}`,
      });
    const r = await k.client.send(new k.sdk.PutRecordsCommand({ StreamName: stream, Records }));
    assert.equal(r.FailedRecordCount ?? 0, 0);
  }
}

type Src = ReturnType<typeof kinesisSource>;

/** Polls until `want` records came (or the time runs out). */
async function readN(src: Src, want: number, out: Envelope<Buffer>[] = [], ms = 20_000) {
  const until = Date.now() + ms;
  while (out.length < want && Date.now() < until) out.push(...((await src.poll(1000)) ?? []));
  return out;
}

const parsed = (recs: Envelope<Buffer>[]) =>
  recs.map((r) => JSON.parse(r.value.toString()) as { k: string; i: number });

describe('kinesisSource against kinesalite', () => {
  it('reads every shard, resumes after the checkpointed sequence numbers, ids from stream/shard/sequence', async () => {
    await k.createStream('rt', 3);
    await put('rt', 0, 3000);
    const opts = { stream: 'rt', endpoint: k.endpoint, region: 'us-east-1', callIntervalMs: 20 };
    const a = kinesisSource(opts);
    await a.open({ pipeline: 'p', startOffsets: undefined });
    assert.deepEqual(a.partitions!().sort(), ['rt/0', 'rt/1', 'rt/2']);
    const first = await readN(a, 3000);
    assert.equal(first.length, 3000);
    assert.deepEqual(
      parsed(first)
        .map((x) => x.i)
        .sort((x, y) => x - y),
      Array.from({ length: 3000 }, (_, i) => i),
    );
    const e = first[0]!;
    assert.match(e.id!, /^rt-shardId-00000000000\d@\d{20,}$/, 'record id = stream-shard@sequence number');
    const cp: SourceOffsets = a.positions();
    assert.equal(Object.keys(cp).length, 3);
    for (const key of Object.keys(cp)) assert.match(key, /^rt\/\d@\d+$/);
    assert.equal(
      Object.values(cp).reduce((x, y) => x + y, 0),
      3000,
      'ordinals count the records per shard',
    );
    const lagMs = a.lagMsByPartition();
    assert.deepEqual(Object.keys(lagMs).sort(), ['rt/0', 'rt/1', 'rt/2']);
    await a.close();

    await put('rt', 3000, 600);
    const b = kinesisSource(opts);
    await b.open({ pipeline: 'p', startOffsets: cp });
    const second = await readN(b, 600);
    await new Promise((r) => setTimeout(r, 300));
    second.push(...((await b.poll(1000)) ?? []));
    assert.deepEqual(
      parsed(second)
        .map((x) => x.i)
        .sort((x, y) => x - y),
      Array.from({ length: 600 }, (_, i) => 3000 + i),
      'resumes after the checkpoint: nothing read twice, nothing lost',
    );
    const ids = new Set([...first, ...second].map((r) => r.id));
    assert.equal(ids.size, 3600);
    // The envelope offsets carry on from the checkpoint's ordinals.
    const byShard = new Map<number, number[]>();
    for (const r of second) byShard.set(r.partition, [...(byShard.get(r.partition) ?? []), r.offset]);
    for (const [p, offsets] of byShard) {
      const saved = Object.entries(cp).find(([key]) => key.startsWith(`rt/${p}@`))![1];
      assert.equal(offsets[0], saved);
    }
    await b.close();
  });

  it('follows a split and a merge mid-run: parents are read to their end before their children', async () => {
    await k.createStream('rs', 2);
    const src = kinesisSource({
      stream: 'rs',
      endpoint: k.endpoint,
      region: 'us-east-1',
      // Small reads: the parent still has records to fetch when its children appear.
      limit: 25,
      callIntervalMs: 20,
      shardRefreshMs: 100,
      endWhen: () => true,
    });
    await src.open({ pipeline: 'p', startOffsets: undefined });
    const got: Envelope<Buffer>[] = [];
    await put('rs', 0, 1000);
    await readN(src, 300, got);
    // Split shard 0 in the middle of its hash range, then merge its two children.
    await k.client.send(
      new k.sdk.SplitShardCommand({
        StreamName: 'rs',
        ShardToSplit: 'shardId-000000000000',
        NewStartingHashKey: (2n ** 126n).toString(),
      }),
    );
    await k.waitActive('rs');
    await put('rs', 1000, 1000);
    await readN(src, 1500, got);
    await k.client.send(
      new k.sdk.MergeShardsCommand({
        StreamName: 'rs',
        ShardToMerge: 'shardId-000000000002',
        AdjacentShardToMerge: 'shardId-000000000003',
      }),
    );
    await k.waitActive('rs');
    await put('rs', 2000, 1000);
    const until = Date.now() + 20_000;
    for (;;) {
      const r = await src.poll(1000);
      if (r === null || Date.now() > until) break;
      got.push(...r);
    }
    const values = parsed(got);
    assert.equal(values.length, 3000, 'every record once');
    assert.equal(new Set(values.map((v) => v.i)).size, 3000);
    // Per partition key the records come in the order they were put.
    const last = new Map<string, number>();
    for (const v of values) {
      assert.ok((last.get(v.k) ?? -1) < v.i, `${v.k}: ${v.i} after ${last.get(v.k)}`);
      last.set(v.k, v.i);
    }
    const shardsSeen = new Set(got.map((r) => r.partition));
    assert.deepEqual([...shardsSeen].sort(), [0, 1, 2, 3, 4], 'parent, children and merged shard all read');
    // The closed shards are checkpointed as ended; a restart does not read them again.
    const cp = src.positions();
    for (const n of [0, 2, 3]) assert.ok(`rs/${n}@end` in cp, JSON.stringify(cp));
    await src.close();
    const again = kinesisSource({
      stream: 'rs',
      endpoint: k.endpoint,
      region: 'us-east-1',
      endWhen: () => true,
    });
    await again.open({ pipeline: 'p', startOffsets: cp });
    const rest: Envelope<Buffer>[] = [];
    for (;;) {
      const r = await again.poll(1000);
      if (r === null) break;
      rest.push(...r);
    }
    assert.equal(rest.length, 0, 'nothing replayed after a checkpoint taken at the end');
    await again.close();
  });

  it('backs off on ProvisionedThroughputExceededException and carries on', async () => {
    await k.createStream('th', 1);
    await put('th', 0, 100);
    let throttles = 3;
    const client = {
      send: (cmd: { constructor: { name: string } }) => {
        if (cmd.constructor.name === 'GetRecordsCommand' && throttles-- > 0) {
          const err = new Error('Rate exceeded for shard');
          err.name = 'ProvisionedThroughputExceededException';
          return Promise.reject(err);
        }
        return k.client.send(cmd as never);
      },
    };
    const warnings: string[] = [];
    const src = kinesisSource({
      stream: 'th',
      endpoint: k.endpoint,
      client,
      onWarning: (m) => warnings.push(m),
    });
    await src.open({ pipeline: 'p', startOffsets: undefined });
    const t0 = Date.now();
    const got = await readN(src, 100);
    assert.equal(got.length, 100);
    assert.equal(src.stats().throttled, 3);
    assert.ok(Date.now() - t0 >= 300, 'waited before retrying');
    assert.match(warnings[0]!, /ProvisionedThroughputExceededException/);
    await src.close();
  });

  const AWS = '/usr/bin/aws';
  it(
    'reads what the AWS CLI put (an independent producer)',
    {
      // Under SLUICE_REQUIRE_SERVICES=1 (CI) a missing CLI fails the test instead.
      skip:
        !existsSync(AWS) &&
        process.env.SLUICE_REQUIRE_SERVICES !== '1' &&
        'no AWS CLI at /usr/bin/aws (apt-get install awscli)',
    },
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'sluice-aws-'));
      const aws = (...args: string[]) =>
        promisify(execFile)(AWS, ['kinesis', ...args, '--endpoint-url', k.endpoint, '--output', 'json'], {
          env: { ...process.env, AWS_PAGER: '', AWS_CONFIG_FILE: join(dir, 'none'), HOME: dir },
        });
      try {
        await aws('create-stream', '--stream-name', 'cli', '--shard-count', '2');
        await k.waitActive('cli');
        const records = Array.from({ length: 250 }, (_, i) => ({
          Data: JSON.stringify({ k: `key${i % 9}`, i, text: 'é✓' }),
          PartitionKey: `key${i % 9}`,
        }));
        const file = join(dir, 'records.json');
        writeFileSync(file, JSON.stringify(records));
        const { stdout } = await aws(
          'put-records',
          '--stream-name',
          'cli',
          '--records',
          `file://${file}`,
          '--cli-binary-format',
          'raw-in-base64-out',
        );
        assert.equal((JSON.parse(stdout) as { FailedRecordCount: number }).FailedRecordCount, 0);
        const src = kinesisSource({
          stream: 'cli',
          endpoint: k.endpoint,
          region: 'us-east-1',
          callIntervalMs: 20,
        });
        await src.open({ pipeline: 'p', startOffsets: undefined });
        const got = parsed(await readN(src, 250));
        await src.close();
        assert.equal(got.length, 250);
        assert.deepEqual(
          got.map((v) => v.i).sort((a, b) => a - b),
          Array.from({ length: 250 }, (_, i) => i),
        );
        assert.ok(
          got.every((v) => (v as { text?: string }).text === 'é✓'),
          'bytes as the CLI sent them',
        );
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );

  it('says what to check when the stream does not exist', async () => {
    const src = kinesisSource({ stream: 'nope', endpoint: k.endpoint, region: 'us-east-1' });
    await assert.rejects(src.open({ pipeline: 'p', startOffsets: undefined }), {
      code: 'SLUICE_SOURCE_UNAVAILABLE',
      message: /kinesisSource nope .*check the stream name, the region/,
    });
  });
});
