/**
 * Scenario `naive`: the fraud pipeline next to what a user would write without Sluice, over the
 * same Kafka topic in the same run.
 *
 * N transactions (the demo's generator, same population as `e2e`) are produced with kcat into
 * `sluice broker`, started in this process on a free port. Then, alternating:
 * - naive: an @platformatic/kafka consumer loop (`for await` over the message stream,
 *   autocommit on) handling one record at a time: JSON.parse, the 12 handbook window features
 *   kept in Maps of arrays (loops over each window), amount/weekend/night, one onnxruntime
 *   `session.run` per record on examples/fraud/model-lr.onnx, and each alert appended to a file as
 *   it is found;
 * - Sluice: the same topic through `kafkaSource` (own consumer group), `json(TX_SCHEMA)`,
 *   `FEATURE_GROUPS`, `modelRow`, the same model, an `action` with a ledger, durable LMDB
 *   checkpoints every second.
 * Each side's time runs from creating its consumer to its last record handled (models loaded
 * and files opened before). Both must raise the same number of alerts. After one warm-up round
 * of each side, rounds alternate which side goes first; `e2e_vs_naive` is the median of the
 * rounds' own ratios (min and max in `ratios_spread`). N defaults to 200,000
 * (SLUICE_BENCH_NAIVE_N), rounds to 5 (SLUICE_BENCH_NAIVE_ROUNDS).
 */
import { spawn } from 'node:child_process';
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Consumer, stringDeserializers } from '@platformatic/kafka';
import * as ort from 'onnxruntime-node';
import {
  FEATURE_GROUPS,
  LABEL_DELAY,
  MODEL_WIDTH,
  TX_SCHEMA,
  isNight,
  isWeekend,
  modelRow,
  type Tx,
} from '../../src/apps/fraud/features.js';
import { generateTransactions } from '../../src/apps/fraud/generator.js';
import { LR_MODEL_INFO_PATH, LR_MODEL_PATH, readModelInfo } from '../../src/apps/fraud/model-info.js';
import { LmdbCheckpointStore, OnnxModel, action, json, kafkaSource, pipeline } from '../../src/index.js';
import { ActionLedger } from '../../src/actions/index.js';
import { startBroker, type RunningBroker } from '../../src/broker/index.js';
import { spreadOf } from '../rounds.js';
import type { ScenarioResult } from '../run.js';

const N = Number(process.env.SLUICE_BENCH_NAIVE_N ?? 200_000);
const ROUNDS = Number(process.env.SLUICE_BENCH_NAIVE_ROUNDS ?? 5);
const TOPIC = 'transactions';
const POPULATION = { seed: 42, customers: 1000, terminals: 2000 };
const DAY = 86_400_000;

interface SideResult {
  ms: number;
  alerts: number;
}

function exec(cmd: string, args: string[]): Promise<{ code: number | null; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, err }));
  });
}

/** Writes the N transactions as `key<TAB>json` lines (the demo producer's key and value). */
function transactionsFile(path: string): void {
  const lines = generateTransactions(N, POPULATION).map((tx) => `${tx.customerId}\t${JSON.stringify(tx)}\n`);
  writeFileSync(path, lines.join(''));
}

// ---------------------------------------------------------------------------------------------
// What a user writes without Sluice: one record at a time, state in Maps, a model call each.

interface CustomerTx {
  ts: number;
  amount: number;
}
interface TerminalTx {
  ts: number;
  fraud: number;
}

export async function naive(
  address: string,
  groupId: string,
  alertsPath: string,
  threshold: number,
): Promise<SideResult> {
  const session = await ort.InferenceSession.create(LR_MODEL_PATH);
  const inputName = session.inputNames[0]!;
  const outputName = session.outputNames[0]!;
  const customers = new Map<number, CustomerTx[]>();
  const terminals = new Map<number, TerminalTx[]>();
  const windows = [1, 7, 30].map((d) => d * DAY);
  let alerts = 0;
  let handled = 0;

  const t0 = performance.now();
  const consumer = new Consumer({
    groupId,
    clientId: 'naive',
    bootstrapBrokers: [address],
    deserializers: stringDeserializers,
    maxWaitTime: 200,
  });
  const stream = await consumer.consume({ topics: [TOPIC], mode: 'earliest', autocommit: true });
  for await (const message of stream) {
    const tx = JSON.parse(message.value) as Tx;

    // Customer: number of tx and mean amount over (t - w, t], this one included.
    let mine = customers.get(tx.customerId);
    if (!mine) customers.set(tx.customerId, (mine = []));
    mine.push({ ts: tx.ts, amount: tx.amount });
    while (mine.length > 0 && mine[0]!.ts <= tx.ts - windows[2]!) mine.shift();
    const row = [tx.amount, isWeekend(tx.ts), isNight(tx.ts)];
    for (const w of windows) {
      let n = 0;
      let sum = 0;
      for (const c of mine) {
        if (c.ts > tx.ts - w) {
          n++;
          sum += c.amount;
        }
      }
      row.push(n, n === 0 ? 0 : sum / n);
    }

    // Terminal: number of tx and fraud ratio over (t - 7d - w, t - 7d] (labels arrive late).
    let seen = terminals.get(tx.terminalId);
    if (!seen) terminals.set(tx.terminalId, (seen = []));
    seen.push({ ts: tx.ts, fraud: tx.fraud });
    while (seen.length > 0 && seen[0]!.ts <= tx.ts - LABEL_DELAY - windows[2]!) seen.shift();
    const end = tx.ts - LABEL_DELAY;
    for (const w of windows) {
      let n = 0;
      let frauds = 0;
      for (const s of seen) {
        if (s.ts > end - w && s.ts <= end) {
          n++;
          frauds += s.fraud;
        }
      }
      row.push(n, n === 0 ? 0 : frauds / n);
    }

    const input = new ort.Tensor('float32', Float32Array.from(row), [1, row.length]);
    const out = await session.run({ [inputName]: input });
    const score = (out[outputName]!.data as Float32Array)[0]!;
    if (score >= threshold) {
      const payload = {
        tx: tx.id,
        customer: tx.customerId,
        terminal: tx.terminalId,
        amount: tx.amount,
        score: Number(score.toFixed(4)),
      };
      appendFileSync(alertsPath, JSON.stringify({ key: `naive/alert/${message.offset}`, payload }) + '\n');
      alerts++;
    }
    if (++handled === N) break;
  }
  const ms = performance.now() - t0;
  await consumer.close(true);
  await session.release();
  return { ms, alerts };
}

// ---------------------------------------------------------------------------------------------
// The same work as a Sluice pipeline reading the same topic.

export async function sluice(
  address: string,
  groupId: string,
  dir: string,
  threshold: number,
): Promise<SideResult> {
  const ledger = ActionLedger.open(join(dir, 'alerts.jsonl'));
  const model = await OnnxModel.load(LR_MODEL_PATH, { name: 'fraud_lr' });
  const store = LmdbCheckpointStore.open(join(dir, 'state'));
  const row = new Float64Array(MODEL_WIDTH);
  const t0 = performance.now();
  const run = pipeline('fraud')
    .from(kafkaSource({ brokers: address, topic: TOPIC, groupId, endWhen: 'caught-up', onWarning: () => {} }))
    .decode(json(TX_SCHEMA))
    .eventTime((t) => t.ts)
    .features(FEATURE_GROUPS)
    .infer(model, {
      width: MODEL_WIDTH,
      input: (t) => modelRow(t, t.features, row),
      output: (t, out) => ({ tx: t as Tx, score: out[0]! }),
    })
    .to(
      action({
        name: 'alert',
        ledger,
        when: (s) => s.score >= threshold,
        payload: (s) => ({
          tx: s.tx.id,
          customer: s.tx.customerId,
          terminal: s.tx.terminalId,
          amount: s.tx.amount,
          score: Number(s.score.toFixed(4)),
        }),
      }),
    )
    .run({ checkpoints: store, checkpointIntervalMs: 1000 });
  const summary = await run.done;
  const ms = performance.now() - t0;
  const alerts = ledger.size;
  ledger.close();
  await model.close();
  await store.close();
  const done = summary.counters.processed + summary.counters.deadLetters;
  if (done !== N) throw new Error(`naive scenario: Sluice handled ${done} records of ${N}`);
  return { ms, alerts };
}

/** Starts a broker on a free port and produces the N transactions into it with kcat. */
export async function brokerWithTransactions(dir: string): Promise<RunningBroker> {
  const broker = await startBroker({
    port: 0,
    dataDir: join(dir, 'log'),
    fsync: 'interval',
    onWarning: () => {},
  });
  try {
    const file = join(dir, 'tx.tsv');
    transactionsFile(file);
    const k = await exec('kcat', ['-P', '-b', broker.address, '-t', TOPIC, '-K', '\t', '-l', file]);
    if (k.code !== 0) throw new Error(`kcat failed (the naive scenario produces with kcat): ${k.err}`);
    const stored = broker.log.partition(TOPIC, 0).highWatermark;
    if (stored !== N) throw new Error(`the broker holds ${stored} transactions, expected ${N}`);
    return broker;
  } catch (err) {
    await broker.close();
    throw err;
  }
}

export async function run(): Promise<ScenarioResult> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-naive-'));
  const broker = await brokerWithTransactions(dir);
  try {
    const { threshold } = readModelInfo(LR_MODEL_INFO_PATH);

    const naiveRuns: SideResult[] = [];
    const sluiceRuns: SideResult[] = [];
    // Round -1 warms both sides up (JIT, client code paths) and is not counted.
    for (let round = -1; round < ROUNDS; round++) {
      const keep = (runs: SideResult[], r: SideResult) => (round >= 0 ? runs.push(r) : 0);
      // Alternate which side goes first, so drift on a shared machine hits both alike.
      const sides = [
        async () =>
          keep(
            naiveRuns,
            await naive(broker.address, `naive-${round}`, join(dir, `naive-${round}.jsonl`), threshold),
          ),
        async () =>
          keep(
            sluiceRuns,
            await sluice(broker.address, `sluice-${round}`, join(dir, `sluice-${round}`), threshold),
          ),
      ];
      if (round % 2 !== 0) sides.reverse();
      for (const side of sides) await side();
    }
    const alerts = new Set([...naiveRuns, ...sluiceRuns].map((r) => r.alerts));
    if (alerts.size !== 1)
      throw new Error(
        `naive scenario: the sides raised different alert counts: naive ${naiveRuns.map((r) => r.alerts)}, sluice ${sluiceRuns.map((r) => r.alerts)}`,
      );
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const rate = (r: SideResult) => N / (r.ms / 1000);
    const naiveEps = median(naiveRuns.map(rate));
    const sluiceEps = median(sluiceRuns.map(rate));
    // Per round: naive time over Sluice time (= Sluice's rate over naive's); the median counts.
    const spread = spreadOf(sluiceRuns.map((r, i) => naiveRuns[i]!.ms / r.ms));
    return {
      figures: {
        events: N,
        rounds: ROUNDS,
        alerts: [...alerts][0],
        transport: 'sluice broker (in-process, Kafka protocol over TCP), @platformatic/kafka consumers',
        sluice_events_per_s: Math.round(sluiceEps),
        naive_events_per_s: Math.round(naiveEps),
        sluice_round_ms: sluiceRuns.map((r) => Math.round(r.ms)),
        naive_round_ms: naiveRuns.map((r) => Math.round(r.ms)),
      },
      ratios: { e2e_vs_naive: spread.median },
      ratios_spread: { e2e_vs_naive: spread },
    };
  } finally {
    await broker.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
