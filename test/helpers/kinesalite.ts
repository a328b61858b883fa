// Starts kinesalite (an in-memory implementation of the Kinesis API) on 127.0.0.1 at a random
// port for a test, with the dummy AWS credentials and region the SDK and the AWS CLI need.
import { spawn } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { kinesisClient, loadKinesis } from '../../src/core/kinesis.js';

const require = createRequire(import.meta.url);

/** The environment a child process (sluice, aws) needs to reach kinesalite. */
export const KINESALITE_ENV = {
  AWS_ACCESS_KEY_ID: 'sluice-test',
  AWS_SECRET_ACCESS_KEY: 'sluice-test',
  AWS_REGION: 'us-east-1',
  AWS_DEFAULT_REGION: 'us-east-1',
  // The SDK warns once per process that Node 20 support ends in 2027; tests read stderr.
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
};
Object.assign(process.env, KINESALITE_ENV);

export interface Kinesalite {
  endpoint: string;
  port: number;
  client: KinesisClient;
  sdk: Awaited<ReturnType<typeof loadKinesis>>;
  /** Creates a stream and waits until it is ACTIVE. */
  createStream(name: string, shards: number): Promise<void>;
  /** Waits until the stream is ACTIVE again (after a split or merge). */
  waitActive(name: string): Promise<void>;
  close(): Promise<void>;
}

// No delays: streams are ACTIVE at once, splits and merges take effect at once.
const OPTIONS = { createStreamMs: 0, deleteStreamMs: 0, updateStreamMs: 0, shardLimit: 100 };

/**
 * Kinesalite in this process, or with `inChild` in a child process: tests that block their event
 * loop while a `sluice` process runs (spawnSync) need it elsewhere.
 */
export async function startKinesalite(opts: { inChild?: boolean } = {}): Promise<Kinesalite> {
  let port: number;
  let stop: () => Promise<void>;
  if (opts.inChild) {
    const script = `const s = require('kinesalite')(${JSON.stringify(OPTIONS)}); s.listen(0, '127.0.0.1', () => console.log(s.address().port));`;
    const child = spawn(process.execPath, ['-e', script], {
      cwd: fileURLToPath(new URL('../..', import.meta.url)),
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    port = await new Promise<number>((resolve, reject) => {
      child.stdout!.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
      child.once('exit', (code) => reject(new Error(`kinesalite exited with ${code}`)));
    });
    stop = async () => {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill();
      await exited;
    };
  } else {
    const kinesalite = require('kinesalite') as (o: object) => import('node:http').Server;
    const server = kinesalite(OPTIONS);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
    stop = async () => {
      server.closeAllConnections?.();
      await new Promise((r) => server.close(r));
    };
  }
  const endpoint = `http://127.0.0.1:${port}`;
  const sdk = await loadKinesis();
  const client = kinesisClient(sdk, { stream: '', region: 'us-east-1', endpoint });
  const waitActive = async (name: string) => {
    for (let i = 0; i < 200; i++) {
      const d = await client.send(new sdk.DescribeStreamSummaryCommand({ StreamName: name }));
      if (d.StreamDescriptionSummary?.StreamStatus === 'ACTIVE') return;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`stream ${name} not ACTIVE`);
  };
  return {
    endpoint,
    port,
    client,
    sdk,
    async createStream(name, shards) {
      await client.send(new sdk.CreateStreamCommand({ StreamName: name, ShardCount: shards }));
      await waitActive(name);
    },
    waitActive,
    async close() {
      client.destroy();
      await stop();
    },
  };
}
