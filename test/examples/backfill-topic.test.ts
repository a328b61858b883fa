// Backfill from a topic — the embedded log (log:DIR/topic) and Kafka (sluice broker) — from an
// offset or a time, writing Parquet: exactly the records of the range, and the same features as
// the CSV path for the same records (the windows are warmed with the lookback before the time).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { parquetReadObjects } from 'hyparquet';
import { backfillFraudFeatures, type BackfillResult } from '../../src/apps/fraud/backfill.js';
import { FEATURE_GROUPS, MODEL_INPUTS, MODEL_WIDTH } from '../../src/apps/fraud/features.js';
import { FEATURES_CSV_HEADER } from '../../src/apps/fraud/features-csv.js';
import { TX_CSV_HEADER, generateTransactions, toCsvRow } from '../../src/apps/fraud/generator.js';
import { historySource, lookbackHorizon, type HistoryRange } from '../../src/connectors/history-source.js';
import { Log } from '../../src/log/index.js';
import { diffFeatureFiles } from '../../src/train.js';
import { testBroker } from '../broker/helpers.js';

const root = new URL('../../', import.meta.url).pathname;
const tmp = mkdtempSync(join(tmpdir(), 'sluice-backfill-topic-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const txs = generateTransactions(8000, { seed: 11, customers: 50, terminals: 100 });
const csv = join(tmp, 'history.csv');
writeFileSync(csv, [TX_CSV_HEADER, ...txs.map(toCsvRow)].join('\n') + '\n');
const T = txs[Math.floor(txs.length * 0.6)]!.ts;
const logDir = join(tmp, 'log');
{
  const log = Log.open(logDir);
  log.createTopic('transactions', { partitions: 1 });
  log.createTopic('handbook', { partitions: 1 });
  log.createTopic('split', { partitions: 2 });
  const rec = (value: string, ts: number) => ({ value: Buffer.from(value), timestamp: ts });
  log.partition('transactions', 0).append(txs.map((t) => rec(JSON.stringify(t), t.ts)));
  // The handbook rows as "sluice ingest history.csv" would put them: one JSON object per CSV row.
  const header = TX_CSV_HEADER.split(',');
  log.partition('handbook', 0).append(
    txs.map((t) => {
      const cells = toCsvRow(t).split(',');
      const row = Object.fromEntries(
        header.map((h, i) => [h, h === 'TX_DATETIME' ? cells[i] : Number(cells[i])]),
      );
      return rec(JSON.stringify(row), t.ts);
    }),
  );
  for (const p of [0, 1])
    log
      .partition('split', p)
      .append(txs.filter((t) => t.customerId % 2 === p).map((t) => rec(String(t.id), t.ts)));
  log.close();
}

const fileOf = (path: string) => {
  const b = readFileSync(path);
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.length);
};

/** The CSV path's matrix, the reference every topic backfill is held to. */
let reference: BackfillResult;
const refRowOf = new Map<number, number>(); // transaction id -> its row in the reference

/**
 * Numbers equal as "sluice features diff" counts them (relative 1e-9): a window's running sum
 * that has added and dropped more history differs in the last bits (1e-14 relative here).
 */
const close = (a: number, b: number) => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));

/** Every row of `got` equals the reference's row of the same transaction (exactly when `exact`). */
function sameAsReference(got: BackfillResult, ids: number[], exact = false): void {
  assert.equal(got.n, ids.length);
  for (let i = 0; i < got.n; i++) {
    const r = refRowOf.get(ids[i]!)!;
    assert.equal(got.ts[i], reference.ts[r], `row ${i}`);
    for (let j = 0; j < MODEL_WIDTH; j++) {
      const [a, b] = [got.X[i * MODEL_WIDTH + j]!, reference.X[r * MODEL_WIDTH + j]!];
      assert.ok(exact ? a === b : close(a, b), `transaction ${ids[i]} ${MODEL_INPUTS[j]}: ${a} vs ${b}`);
    }
  }
}

async function drain(input: string, range: HistoryRange): Promise<Map<number, number[]>> {
  const { source } = await historySource(input, range);
  await source.open({ pipeline: 'test', startOffsets: undefined });
  const offsets = new Map<number, number[]>();
  for (;;) {
    const batch = await source.poll(500);
    if (batch === null) break;
    for (const e of batch) offsets.set(e.partition, [...(offsets.get(e.partition) ?? []), e.offset]);
  }
  await source.close();
  return offsets;
}

describe('backfill from a topic', () => {
  it('the log, whole: the same features as the CSV path; Parquet holds them with the feature names', async () => {
    const csvOut = join(tmp, 'csv-all.csv');
    reference = await backfillFraudFeatures(csv, { featuresOut: csvOut });
    txs.forEach((t, i) => refRowOf.set(t.id, i));
    const out = join(tmp, 'log-all.parquet');
    const got = await backfillFraudFeatures(`log:${logDir}/transactions`, { featuresOut: out });
    sameAsReference(
      got,
      txs.map((t) => t.id),
      true,
    );
    const rows = (await parquetReadObjects({ file: fileOf(out) })) as Record<string, unknown>[];
    assert.equal(rows.length, txs.length);
    rows.forEach((row, i) => {
      assert.equal(row.TRANSACTION_ID, BigInt(txs[i]!.id));
      assert.equal((row.TX_DATETIME as Date).getTime(), txs[i]!.ts);
      MODEL_INPUTS.forEach((name, j) =>
        assert.equal(Number(row[name]), reference.X[i * MODEL_WIDTH + j], name),
      );
    });
    // The parity check reads both formats: CSV from the file, Parquet from the log.
    const d = diffFeatureFiles(csvOut, out);
    assert.deepEqual([d.matched, d.mismatches, d.missingInA, d.missingInB], [txs.length, 0, 0, 0]);
    assert.deepEqual(d.onlyInA, []);
    assert.deepEqual(d.columns, FEATURES_CSV_HEADER.split(',').slice(1)); // all but the key
  });

  it('the log from a time: exactly the records from then on, features as online (windows warmed)', async () => {
    const got = await backfillFraudFeatures(`log:${logDir}/transactions`, { range: { fromTime: T } });
    // The read starts the windows' horizon before T (more history than that is left unread).
    assert.equal(lookbackHorizon(FEATURE_GROUPS), 37 * 86_400_000);
    assert.ok(T - 37 * 86_400_000 > txs[0]!.ts);
    const ids = txs.filter((t) => t.ts >= T).map((t) => t.id);
    assert.ok(ids.length > 1000 && ids.length < txs.length);
    sameAsReference(got, ids);
  });

  it('offsets and times select exactly their records in every partition', async () => {
    const input = `log:${logDir}/split`;
    const expect = (p: number, keep: (t: (typeof txs)[number], offset: number) => boolean) =>
      txs
        .filter((t) => t.customerId % 2 === p)
        .map((t, offset) => (keep(t, offset) ? offset : -1))
        .filter((o) => o >= 0);
    const byOffset = await drain(input, { fromOffset: 10, toOffset: 25 });
    for (const p of [0, 1])
      assert.deepEqual(
        byOffset.get(p),
        expect(p, (_, o) => o >= 10 && o < 25),
      );
    const U = txs[Math.floor(txs.length * 0.8)]!.ts;
    const byTime = await drain(input, { fromTime: T, toTime: U });
    for (const p of [0, 1])
      assert.deepEqual(
        byTime.get(p),
        expect(p, (t) => t.ts >= T && t.ts < U),
      );
    const late = await drain(input, { fromTime: txs.at(-1)!.ts + 1 });
    assert.equal(late.size, 0);
  });

  it('sluice train PIPELINE.ts --input log:… --from-time … writes a Parquet training set of those rows', async () => {
    const out = join(tmp, 'cli', 'fraud.onnx');
    const set = join(tmp, 'cli', 'set.parquet');
    const p = spawnSync(
      process.execPath,
      [
        join(root, 'bin/sluice.js'),
        'train',
        join(root, 'examples/fraud/train-pipeline.ts'),
        ...['--input', `log:${logDir}/handbook`, '--label', 'fraud', '--out', out],
        ...['--training-set', set, '--from-time', new Date(T).toISOString(), '--test-fraction', '0.4'],
      ],
      { encoding: 'utf8', timeout: 120_000 },
    );
    assert.equal(p.status, 0, p.stderr);
    const rows = (await parquetReadObjects({ file: fileOf(set) })) as Record<string, unknown>[];
    const want = txs.filter((t) => t.ts >= T);
    assert.equal(rows.length, want.length);
    rows.forEach((row, i) => {
      const r = refRowOf.get(want[i]!.id)!;
      assert.equal((row.event_time as Date).getTime(), want[i]!.ts);
      assert.equal(row.fraud, BigInt(want[i]!.fraud));
      MODEL_INPUTS.forEach((name, j) =>
        assert.ok(close(row[name] as number, reference.X[r * MODEL_WIDTH + j]!), name),
      );
    });
    assert.equal(JSON.parse(p.stdout).data.rows, want.length);
  });

  it('Kafka (sluice broker) from a time: the same rows and features as the log', async (t) => {
    const broker = await testBroker(t, { log: Log.open(logDir) });
    const got = await backfillFraudFeatures(`kafka://127.0.0.1:${broker.port}/transactions`, {
      range: { fromTime: T },
    });
    sameAsReference(
      got,
      txs.filter((x) => x.ts >= T).map((x) => x.id),
    );
  });
});
