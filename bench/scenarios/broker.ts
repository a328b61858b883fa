/**
 * Scenario `broker`: ingestion throughput of `sluice broker` next to Redis Streams, same
 * records, same run. kcat (librdkafka, default producer settings: acks=all, linger 5 ms)
 * produces N records of 100 bytes into the broker (3 partitions, fsync 'interval'); redis-cli
 * --pipe sends the same N values as pipelined XADDs to the local Redis (in memory, no AOF).
 * Each side's time runs from starting its client to the last acknowledgement. Rounds
 * alternate; `broker_vs_redis` is the median of the rounds' own ratios (min and max in
 * `ratios_spread`), each side's rate its median round.
 * One more round into a broker with fsync 'batch' (durable before the ack) is reported as a
 * figure. N defaults to 1,000,000; SLUICE_BENCH_BROKER_N changes it.
 */
import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBroker } from '../../src/broker/index.js';
import { median, spreadOf } from '../rounds.js';
import type { ScenarioResult } from '../run.js';

const N = Number(process.env.SLUICE_BENCH_BROKER_N ?? 1_000_000);
const VALUE_BYTES = 100;
const ROUNDS = 5;
const PARTITIONS = 3;

function exec(
  cmd: string,
  args: string[],
  stdinFile?: string,
): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    // A file as stdin is read by the client directly, as with `redis-cli --pipe < file`.
    const input = stdinFile === undefined ? 'ignore' : openSync(stdinFile, 'r');
    const child = spawn(cmd, args, { stdio: [input, 'pipe', 'pipe'] });
    if (typeof input === 'number') closeSync(input);
    let out = '';
    let err = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out, err }));
  });
}

/** The N values, each 100 printable bytes ending in its index. */
function values(): Buffer {
  const line = VALUE_BYTES + 1;
  const buf = Buffer.alloc(N * line, 'x');
  for (let i = 0; i < N; i++) {
    const tag = String(i);
    buf.write(tag, i * line + VALUE_BYTES - tag.length, 'latin1');
    buf[i * line + VALUE_BYTES] = 0x0a;
  }
  return buf;
}

/** The same values as RESP XADD commands: XADD key * v <value>. */
function xadds(lines: Buffer, key: string): Buffer {
  const head = Buffer.from(
    `*5\r\n$4\r\nXADD\r\n$${key.length}\r\n${key}\r\n$1\r\n*\r\n$1\r\nv\r\n$${VALUE_BYTES}\r\n`,
  );
  const one = head.length + VALUE_BYTES + 2;
  const out = Buffer.alloc(N * one);
  for (let i = 0; i < N; i++) {
    const at = i * one;
    head.copy(out, at);
    lines.copy(out, at + head.length, i * (VALUE_BYTES + 1), i * (VALUE_BYTES + 1) + VALUE_BYTES);
    out.write('\r\n', at + head.length + VALUE_BYTES, 'latin1');
  }
  return out;
}

async function redisCli(...args: string[]): Promise<string> {
  const r = await exec('redis-cli', args);
  if (r.code !== 0) throw new Error(`redis-cli ${args.join(' ')} failed: ${r.err}`);
  return r.out.trim();
}

export async function run(): Promise<ScenarioResult> {
  if ((await exec('redis-cli', ['ping']).catch(() => ({ out: '' }))).out.trim() !== 'PONG') {
    throw new Error('the broker scenario needs Redis on 127.0.0.1:6379 and redis-cli (the baseline)');
  }
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-broker-'));
  const broker = await startBroker({
    port: 0,
    dataDir: join(dir, 'log'),
    partitions: PARTITIONS,
    fsync: 'interval',
    onWarning: () => {},
  });
  const key = `sluice-bench-${process.pid}`;
  try {
    const lines = values();
    const linesFile = join(dir, 'values.txt');
    const respFile = join(dir, 'xadd.resp');
    writeFileSync(linesFile, lines);
    writeFileSync(respFile, xadds(lines, key));
    const brokerMs: number[] = [];
    const redisMs: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const topic = `bench-${round}`;
      let t0 = performance.now();
      const k = await exec('kcat', ['-P', '-b', broker.address, '-t', topic, '-l', linesFile]);
      brokerMs.push(performance.now() - t0);
      if (k.code !== 0) throw new Error(`kcat failed: ${k.err}`);
      let stored = 0;
      for (let p = 0; p < PARTITIONS; p++) stored += broker.log.partition(topic, p).highWatermark;
      if (stored !== N) throw new Error(`the broker holds ${stored} records of ${topic}, expected ${N}`);

      await redisCli('del', key);
      t0 = performance.now();
      const r = await exec('redis-cli', ['--pipe'], respFile);
      redisMs.push(performance.now() - t0);
      if (r.code !== 0 || !/errors: 0/.test(r.out))
        throw new Error(`redis-cli --pipe failed: ${r.out} ${r.err}`);
      const len = Number(await redisCli('xlen', key));
      if (len !== N) throw new Error(`Redis holds ${len} entries, expected ${N}`);
      await redisCli('del', key);
    }
    // For reference, one round into a broker that fdatasyncs every batch before acknowledging it.
    const durable = await startBroker({
      port: 0,
      dataDir: join(dir, 'log-batch'),
      partitions: PARTITIONS,
      fsync: 'batch',
      onWarning: () => {},
    });
    const started = performance.now();
    const d = await exec('kcat', ['-P', '-b', durable.address, '-t', 'bench-durable', '-l', linesFile]);
    const durableMs = performance.now() - started;
    await durable.close();
    if (d.code !== 0) throw new Error(`kcat failed: ${d.err}`);
    const brokerRate = N / (median(brokerMs) / 1000);
    const redisRate = N / (median(redisMs) / 1000);
    // Per round (broker, then Redis): Redis's time over the broker's; the median counts.
    const spread = spreadOf(brokerMs.map((b, i) => redisMs[i]! / b));
    const mb = (rate: number) => Math.round((rate * VALUE_BYTES) / 1e4) / 100;
    return {
      figures: {
        records: N,
        value_bytes: VALUE_BYTES,
        rounds: ROUNDS,
        broker: {
          records_per_s: Math.round(brokerRate),
          value_mb_per_s: mb(brokerRate),
          round_ms: brokerMs.map(Math.round),
          client: 'kcat -P (librdkafka defaults)',
          partitions: PARTITIONS,
          fsync: 'interval',
        },
        broker_fsync_batch: {
          records_per_s: Math.round(N / (durableMs / 1000)),
          round_ms: [Math.round(durableMs)],
        },
        redis: {
          records_per_s: Math.round(redisRate),
          value_mb_per_s: mb(redisRate),
          round_ms: redisMs.map(Math.round),
          client: 'redis-cli --pipe, XADD key * v <value>',
        },
      },
      ratios: { broker_vs_redis: spread.median },
      ratios_spread: { broker_vs_redis: spread },
    };
  } finally {
    await redisCli('del', key).catch(() => '');
    await broker.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
