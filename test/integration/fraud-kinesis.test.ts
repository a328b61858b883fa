// The fraud demo from the CLI on Kinesis both ways, against kinesalite: transactions read from a
// two-shard stream with --from kinesis://, alerts put on another with --alerts-to kinesis://.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { kinesisSource } from '../../src/connectors/index.js';
import { startKinesalite, type Kinesalite } from '../helpers/kinesalite.js';
import { putTransactions } from '../helpers/kinesis-tx.js';

const bin = new URL('../../bin/sluice.js', import.meta.url).pathname;
const tmp = mkdtempSync(join(tmpdir(), 'sluice-fraud-kinesis-'));
const EVENTS = 15_000;
let k: Kinesalite;

before(async () => {
  k = await startKinesalite({ inChild: true });
  await k.createStream('tx', 2);
  await k.createStream('alerts', 1);
  await putTransactions(k, 'tx', EVENTS, { seed: 3, customers: 250, terminals: 500 });
});
after(async () => {
  await k?.close();
  rmSync(tmp, { recursive: true, force: true });
});

describe('sluice demo fraud on Kinesis', () => {
  it('--from kinesis:// reads every shard; --alerts-to kinesis:// puts each alert once', async () => {
    const url = (stream: string) => `kinesis://${stream}?region=us-east-1&endpoint=${k.endpoint}`;
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [
        bin,
        'demo',
        'fraud',
        '--from',
        url('tx'),
        '--alerts-to',
        url('alerts'),
        '--events',
        String(EVENTS),
      ].concat(['--no-dashboard', '--no-slo', '--quiet', '--json', '--data', join(tmp, 'data')]),
      { timeout: 120_000 },
    );
    const r = JSON.parse(stdout) as { processed: number; dead_letters: number; actions: number };
    assert.equal(r.processed + r.dead_letters, EVENTS);
    assert.ok(r.actions > 0);
    const src = kinesisSource({
      stream: 'alerts',
      endpoint: k.endpoint,
      region: 'us-east-1',
      endWhen: () => true,
    });
    await src.open({ pipeline: 'check', startOffsets: undefined });
    const keys: string[] = [];
    for (;;) {
      const recs = await src.poll(1000);
      if (recs === null) break;
      for (const e of recs) keys.push((JSON.parse(e.value.toString()) as { key: string }).key);
    }
    await src.close();
    assert.equal(keys.length, r.actions, 'one record per alert');
    assert.equal(new Set(keys).size, keys.length);
    for (const key of keys) assert.match(key, /^fraud\/alert\/tx-shardId-00000000000[01]@\d+$/);
  });
});
