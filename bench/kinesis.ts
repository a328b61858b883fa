// Kinesis connector throughput against kinesalite (its own process, 127.0.0.1): kinesisActionSink
// putting N actions and kinesisSource reading them back, each beside the plain SDK loop that
// does the same calls (PutRecords of 500; GetRecords of 10,000 per shard, at most 5 per second
// per shard as Kinesis allows) in the same round. The source also keeps to 2 MiB/s per shard (a
// large read delays the shard's next call), which the plain loop does not: most of the gap.
// Alternating rounds, medians. kinesalite (a JavaScript emulator on LevelDB-in-memory) is the
// limit here, not Kinesis: real streams take 1,000 records/s per shard for writes, 2 MiB/s reads.
//
//   node --import tsx bench/kinesis.ts [N] [ROUNDS] [SHARDS]    (default 20000 3 2), JSON on stdout
import { kinesisActionSink } from '../src/actions/index.js';
import type { ActionEntry } from '../src/actions/sink.js';
import { kinesisSource } from '../src/connectors/index.js';
import { startKinesalite } from '../test/helpers/kinesalite.js';

const N = Number(process.argv[2] ?? 20_000);
const ROUNDS = Number(process.argv[3] ?? 3);
const SHARDS = Number(process.argv[4] ?? 2);
const k = await startKinesalite({ inChild: true });
const value = (i: number) => ({
  id: i,
  ts: 1_700_000_000_000 + i,
  customerId: i % 1000,
  amount: 42.5,
  fraud: 0,
});

const rate = (n: number, t0: number) => Math.round((n * 1000) / (performance.now() - t0));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function sinkRound(stream: string): Promise<number> {
  const sink = kinesisActionSink({ stream, region: 'us-east-1', endpoint: k.endpoint });
  await sink.open!({ pipeline: 'bench' });
  const t0 = performance.now();
  for (let i = 0; i < N; i += 1024) {
    const entries: ActionEntry[] = [];
    for (let j = i; j < Math.min(N, i + 1024); j++)
      entries.push({
        key: `bench/put/tx-0@${j}`,
        action: 'put',
        payload: value(j),
        time: 0,
        recordKey: j % 1000,
        eventTime: 0,
      });
    await sink.deliver(entries); // a pipeline batch (1,024 records)
  }
  const r = rate(N, t0);
  await sink.close!();
  return r;
}

async function rawPutRound(stream: string): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < N; i += 500) {
    const Records = [];
    for (let j = i; j < Math.min(N, i + 500); j++)
      Records.push({ Data: Buffer.from(JSON.stringify(value(j))), PartitionKey: String(j % 1000) });
    await k.client.send(new k.sdk.PutRecordsCommand({ StreamName: stream, Records }));
  }
  return rate(N, t0);
}

async function sourceRound(stream: string): Promise<number> {
  const src = kinesisSource({ stream, region: 'us-east-1', endpoint: k.endpoint });
  await src.open({ pipeline: 'bench', startOffsets: undefined });
  const t0 = performance.now();
  let n = 0;
  while (n < N) n += (await src.poll(1024))!.length;
  const r = rate(n, t0);
  await src.close();
  return r;
}

async function rawGetRound(stream: string): Promise<number> {
  const t0 = performance.now();
  const shards = (await k.client.send(new k.sdk.ListShardsCommand({ StreamName: stream }))).Shards!;
  let n = 0;
  await Promise.all(
    shards.map(async (s) => {
      let it = (
        await k.client.send(
          new k.sdk.GetShardIteratorCommand({
            StreamName: stream,
            ShardId: s.ShardId!,
            ShardIteratorType: 'TRIM_HORIZON',
          }),
        )
      ).ShardIterator;
      let last = 0;
      for (;;) {
        // Kinesis allows 5 GetRecords per second per shard: the same spacing as the source's.
        const wait = last + 200 - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        last = performance.now();
        const r = await k.client.send(new k.sdk.GetRecordsCommand({ ShardIterator: it, Limit: 10_000 }));
        n += r.Records!.length;
        if (r.Records!.length === 0) break;
        it = r.NextShardIterator;
      }
    }),
  );
  return rate(n, t0);
}

const figures = {
  sink: [] as number[],
  raw_put: [] as number[],
  source: [] as number[],
  raw_get: [] as number[],
};
for (let round = 0; round < ROUNDS; round++) {
  const a = `bench-a-${round}`;
  const b = `bench-b-${round}`;
  await k.createStream(a, SHARDS);
  await k.createStream(b, SHARDS);
  // Alternate which side goes first.
  if (round % 2 === 0) {
    figures.sink.push(await sinkRound(a));
    figures.raw_put.push(await rawPutRound(b));
    figures.source.push(await sourceRound(a));
    figures.raw_get.push(await rawGetRound(b));
  } else {
    figures.raw_put.push(await rawPutRound(b));
    figures.sink.push(await sinkRound(a));
    figures.raw_get.push(await rawGetRound(b));
    figures.source.push(await sourceRound(a));
  }
}
await k.close();
const out = {
  records: N,
  rounds: ROUNDS,
  shards: SHARDS,
  sink_records_per_s: median(figures.sink),
  raw_put_records_per_s: median(figures.raw_put),
  source_records_per_s: median(figures.source),
  raw_get_records_per_s: median(figures.raw_get),
  sink_vs_raw: +(median(figures.sink) / median(figures.raw_put)).toFixed(2),
  source_vs_raw: +(median(figures.source) / median(figures.raw_get)).toFixed(2),
  each_round: figures,
  note: 'kinesalite (in its own process) is the limit; loaded 2-core machine',
};
console.log(JSON.stringify(out));
