/**
 * Scenario `pubsub`: messages/s of the Pub/Sub source and sink against the test Pub/Sub server
 * (test/connectors/pubsub-server, in its own process), each beside the bare client doing the
 * same work: the source beside `subscription.on('message', m => m.ack())`, the sink (an action
 * with its ledger) beside `topic.publishMessage` with the same batching. The test server, a
 * single Node process, is the limit here, not Pub/Sub; medians of alternating rounds.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ActionLedger, action, pubsubActionSink } from '../../src/actions/index.js';
import { pubsubSource } from '../../src/connectors/index.js';
import { MemoryCheckpointStore, fromArray, json, pipeline } from '../../src/stream/index.js';
import type { ScenarioResult } from '../run.js';

const M = Number(process.env.SLUICE_BENCH_PUBSUB_MESSAGES ?? 20_000);
const ROUNDS = 3;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const TX = { id: 1, ts: 1_700_000_000_000, customerId: 17, terminalId: 401, amount: 57.16, fraud: 0 };

async function startServer(): Promise<{ host: string; stop: () => void }> {
  const main = new URL('../../test/connectors/pubsub-server/main.ts', import.meta.url).pathname;
  const child = spawn(process.execPath, ['--import', 'tsx', main], { stdio: ['ignore', 'pipe', 'inherit'] });
  const host = await new Promise<string>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`the test Pub/Sub server exited (${code})`)));
    child.stdout.on('data', (d: Buffer) => {
      const m = /PUBSUB_EMULATOR_HOST=(\S+)/.exec(d.toString());
      if (m) resolve(m[1]!);
    });
  });
  return { host, stop: () => child.kill('SIGTERM') };
}

export async function run(): Promise<ScenarioResult> {
  const server = await startServer();
  process.env.PUBSUB_EMULATOR_HOST = server.host;
  process.env.METADATA_SERVER_DETECTION = 'none';
  const { PubSub } = await import('@google-cloud/pubsub');
  const client = new PubSub({ projectId: 'bench' });
  const tmp = mkdtempSync(join(tmpdir(), 'sluice-bench-pubsub-'));
  const data = Array.from({ length: M }, (_, i) => Buffer.from(JSON.stringify({ ...TX, id: i })));
  const batching = { maxMessages: 1000, maxBytes: 9 << 20, maxMilliseconds: 10 };
  const rates = {
    source: [] as number[],
    client_source: [] as number[],
    sink: [] as number[],
    client_sink: [] as number[],
  };
  try {
    for (let round = 0; round < ROUNDS; round++) {
      // One topic per round, a subscription for each reader, filled once before either reads.
      const [topic] = await client.createTopic(`tx-${round}`);
      const [rawSub] = await topic.createSubscription(`raw-${round}`);
      const [ourSub] = await topic.createSubscription(`ours-${round}`);
      const publisher = client.topic(topic.name, { batching });
      await Promise.all(data.map((d) => publisher.publishMessage({ data: d })));

      const readRaw = async () => {
        const t = performance.now();
        const sub = client.subscription(rawSub.name, { flowControl: { maxMessages: 20_000 } });
        let n = 0;
        await new Promise<void>((resolve) =>
          sub.on('message', (m) => {
            m.ack();
            if (++n === M) resolve();
          }),
        );
        await sub.close();
        rates.client_source.push(M / ((performance.now() - t) / 1000));
      };
      const readOurs = async () => {
        let n = 0;
        const t = performance.now();
        await pipeline('bench-pubsub')
          .from(pubsubSource({ subscription: ourSub.name, endWhen: () => n >= M }))
          .decode(json({ id: 'integer', amount: 'number' }))
          .to({ name: 'count', write: (r) => void (n += r.length) })
          .run({ checkpoints: new MemoryCheckpointStore() }).done;
        rates.source.push(M / ((performance.now() - t) / 1000));
      };
      const [out] = await client.createTopic(`alerts-${round}`);
      const publishRaw = async () => {
        const t = performance.now();
        const p = client.topic(out.name, { batching });
        await Promise.all(data.map((d) => p.publishMessage({ data: d })));
        rates.client_sink.push(M / ((performance.now() - t) / 1000));
      };
      const publishOurs = async () => {
        const ledger = ActionLedger.open(join(tmp, `ledger-${round}.jsonl`));
        const t = performance.now();
        await pipeline('bench-pubsub-sink')
          .from(fromArray(data.map((_, i) => ({ ...TX, id: i }))))
          .to(action({ name: 'alert', ledger, payload: (v) => v, to: pubsubActionSink({ topic: out.name }) }))
          .run({ checkpoints: new MemoryCheckpointStore() }).done;
        rates.sink.push(M / ((performance.now() - t) / 1000));
        ledger.close();
      };
      // Alternate which goes first: a warmer process or server does not always favour one side.
      const steps =
        round % 2 === 0
          ? [readRaw, readOurs, publishRaw, publishOurs]
          : [readOurs, readRaw, publishOurs, publishRaw];
      for (const step of steps) await step();
      await topic.delete();
      await out.delete();
    }
  } finally {
    await client.close();
    server.stop();
    rmSync(tmp, { recursive: true, force: true });
  }
  const figures = {
    messages: M,
    rounds: ROUNDS,
    source_msgs_per_s: Math.round(median(rates.source)),
    client_source_msgs_per_s: Math.round(median(rates.client_source)),
    sink_msgs_per_s: Math.round(median(rates.sink)),
    client_sink_msgs_per_s: Math.round(median(rates.client_sink)),
    limit: 'the test Pub/Sub server (one Node process), not Pub/Sub',
  };
  return {
    figures,
    ratios: {
      source_vs_client: figures.source_msgs_per_s / figures.client_source_msgs_per_s,
      sink_vs_client: figures.sink_msgs_per_s / figures.client_sink_msgs_per_s,
    },
  };
}
