/**
 * The fraud pipeline's work written by hand, with no framework: what an expert writes for the
 * one job. One loop scans the log, decodes and checks each transaction's JSON, computes the same
 * 15 model inputs (amount, weekend and night flags, 6 customer and 6 terminal lookback features
 * in plain Maps of sorted times and prefix sums), runs onnxruntime on batches of 1,024 rows,
 * writes each score to the scores file and appends an alert line to the ledger for the risky
 * ones, in the ledger's format (same keys and payloads, so the digests can be compared).
 *
 * With `checkpointIntervalMs` it also does what the pipeline's exactly-once checkpoints do, as
 * an expert would write them: every interval, fsync the ledger and the scores, then save the
 * timelines of the keys changed since the last checkpoint (live entries as raw float64 bytes)
 * and the next offset in one LMDB transaction, flushed in the background while the loop goes
 * on; a last one at the end. That is the same durable work as the pipeline's, so
 * `e2e_vs_handwritten` compares like with like; without it (`e2e_vs_handwritten_no_checkpoints`)
 * the program keeps nothing it could resume from.
 *
 * What it still leaves out that the pipeline does: latency metrics, dead-letter records (bad
 * records are only counted), a checksum over the saved state, resuming. So it is a ceiling for
 * the pipeline, not a peer: `e2e_vs_handwritten` is the share of it Sluice gets.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { RootDatabase } from 'lmdb';
import * as ort from 'onnxruntime-node';
import { encodeLine } from '../src/actions/ledger-lines.js';
import { MODEL_WIDTH, type Tx } from '../src/apps/fraud/features.js';
import { LR_MODEL_INFO_PATH, LR_MODEL_PATH, readModelInfo } from '../src/apps/fraud/model-info.js';
import { Log } from '../src/log/index.js';
import { loadLmdb } from '../src/stream/state/lmdb-module.js';

const DAY = 86_400_000;
const WINDOWS = [DAY, 7 * DAY, 30 * DAY];
const LABEL_DELAY = 7 * DAY;
const BATCH = 1024;

/** One key's live entries: sorted times and the prefix sums of one value (amount or fraud). */
interface Timeline {
  times: number[];
  /** sums[k] = sum of the values of entries before index k (length = times.length + 1). */
  sums: number[];
  start: number;
}

function upperBound(tl: Timeline, t: number): number {
  let lo = tl.start;
  let hi = tl.times.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (tl.times[mid]! <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Expires old entries, adds (t, value), and returns the timeline; sums restart at 0 when it empties. */
function update(
  map: Map<number, Timeline>,
  key: number,
  t: number,
  value: number,
  retention: number,
): Timeline {
  let tl = map.get(key);
  if (tl === undefined) {
    tl = { times: [], sums: [0], start: 0 };
    map.set(key, tl);
  }
  const n0 = tl.times.length;
  const last = n0 > tl.start ? tl.times[n0 - 1]! : -Infinity;
  tl.start = upperBound(tl, Math.max(last, t) - retention);
  if (tl.start === tl.times.length) {
    tl.times.length = 0;
    tl.sums.length = 1;
    tl.sums[0] = 0;
    tl.start = 0;
  } else if (tl.start >= 64 && tl.start * 2 >= tl.times.length) {
    tl.times.splice(0, tl.start);
    tl.sums.splice(0, tl.start);
    tl.start = 0;
  }
  const n = tl.times.length;
  if (n === tl.start || t >= tl.times[n - 1]!) {
    tl.times.push(t);
    tl.sums.push(tl.sums[n]! + value);
  } else {
    // Out of order: insert and redo the later sums from the values they encode.
    const at = upperBound(tl, t);
    const values: number[] = [];
    for (let k = at; k < n; k++) values.push(tl.sums[k + 1]! - tl.sums[k]!);
    tl.times.splice(at, 0, t);
    tl.sums.length = at + 1;
    tl.sums.push(tl.sums[at]! + value);
    for (const v of values) tl.sums.push(tl.sums[tl.sums.length - 1]! + v);
  }
  return tl;
}

/** Writes count and mean over (hi − w, hi] for each window into row[col..]; mean is `empty` when none. */
function windowFeatures(tl: Timeline, hi: number, row: Float32Array, col: number, empty: number): void {
  const j = upperBound(tl, hi);
  for (const w of WINDOWS) {
    const i = upperBound(tl, hi - w);
    const n = j - i;
    row[col++] = n;
    row[col++] = n === 0 ? empty : (tl.sums[j]! - tl.sums[i]!) / n;
  }
}

/** A timeline's live entries as raw float64 bytes: [n, times..., sums...] (the sums from `start`). */
function timelineBytes(tl: Timeline): Buffer {
  const n = tl.times.length - tl.start;
  const out = new Float64Array(1 + 2 * n + 1);
  out[0] = n;
  let at = 1;
  for (let i = tl.start; i < tl.times.length; i++) out[at++] = tl.times[i]!;
  for (let i = tl.start; i < tl.sums.length; i++) out[at++] = tl.sums[i]!;
  return Buffer.from(out.buffer, out.byteOffset, out.byteLength);
}

/**
 * The keys changed since the last checkpoint, saved with the offset to resume from in one LMDB
 * transaction; `save` returns once the previous save is done and this one has started (its
 * flush to disk goes on in the background, awaited by the next save or by `close`).
 */
class Checkpointer {
  readonly dirty = { customers: new Set<number>(), terminals: new Set<number>() };
  private readonly root: RootDatabase;
  private saving: Promise<unknown> = Promise.resolve();
  saves = 0;

  constructor(path: string) {
    this.root = loadLmdb().open({ path, maxDbs: 1, mapSize: 2 ** 34, encoding: 'binary' });
  }

  async save(
    maps: { customers: Map<number, Timeline>; terminals: Map<number, Timeline> },
    nextOffset: number,
  ): Promise<void> {
    await this.saving;
    const puts: [string, Buffer][] = [];
    for (const name of ['customers', 'terminals'] as const) {
      for (const key of this.dirty[name]) {
        const tl = maps[name].get(key)!;
        puts.push([`${name}/${key}`, timelineBytes(tl)]);
      }
      this.dirty[name].clear();
    }
    const offset = Buffer.alloc(8);
    offset.writeDoubleLE(nextOffset);
    this.saves++;
    this.saving = this.root
      .transaction(() => {
        for (const [k, v] of puts) this.root.putSync(k, v);
        this.root.putSync('offset', offset);
      })
      .then(() => this.root.flushed);
  }

  async close(): Promise<void> {
    await this.saving;
    await this.root.close();
  }
}

export interface HandwrittenOptions {
  /** Checkpoints as the pipeline's (see above) every this many ms; none when absent. */
  checkpointIntervalMs?: number;
}

export interface HandwrittenResult {
  processed: number;
  bad_records: number;
  alerts: number;
  elapsed_s: number;
  events_per_s: number;
  ledger_path: string;
  scores_path: string;
  checkpoints: number;
}

/**
 * Runs the hand-written program over `dataDir`'s log (topic `transactions`, partition 0), writing
 * its ledger and scores under `outDir`.
 */
export async function runHandwritten(
  dataDir: string,
  outDir: string,
  opts: HandwrittenOptions = {},
): Promise<HandwrittenResult> {
  const threshold = readModelInfo(LR_MODEL_INFO_PATH).threshold;
  const session = await ort.InferenceSession.create(LR_MODEL_PATH, { graphOptimizationLevel: 'all' });
  mkdirSync(outDir, { recursive: true });
  const ledgerPath = join(outDir, 'alerts.jsonl');
  const scoresPath = join(outDir, 'scores.bin');
  const ledgerFd = openSync(ledgerPath, 'w');
  const scoresFd = openSync(scoresPath, 'w');
  const log = Log.open(join(dataDir, 'log'));
  const part = log.partition('transactions', 0);
  const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  const customers = new Map<number, Timeline>();
  const terminals = new Map<number, Timeline>();
  const customerRetention = WINDOWS[2]!;
  const terminalRetention = WINDOWS[2]! + LABEL_DELAY;

  const rows = new Float32Array(BATCH * MODEL_WIDTH);
  const txs: Tx[] = [];
  const offsets: number[] = [];
  const scoreBuf = Buffer.alloc(BATCH * 24);
  let processed = 0;
  let bad = 0;
  let alerts = 0;
  const interval = opts.checkpointIntervalMs;
  const cp = interval === undefined ? undefined : new Checkpointer(join(outDir, 'state'));
  let lastCheckpointAt = performance.now();
  /** After a batch: when due, the effects so far made durable, then the state that produced them. */
  const checkpoint = async (nextOffset: number, force = false): Promise<void> => {
    if (cp === undefined || (!force && performance.now() - lastCheckpointAt < interval!)) return;
    lastCheckpointAt = performance.now();
    fsyncSync(ledgerFd);
    fsyncSync(scoresFd);
    await cp.save({ customers, terminals }, nextOffset);
  };

  const flushBatch = async (): Promise<void> => {
    const n = txs.length;
    if (n === 0) return;
    const input = new ort.Tensor('float32', rows.subarray(0, n * MODEL_WIDTH), [n, MODEL_WIDTH]);
    const out = (await session.run({ features: input })).score!.data as Float32Array;
    let ledgerText = '';
    const now = Date.now();
    // Scores by log offset, one write per run of consecutive offsets (bad records leave gaps).
    let runStart = 0;
    for (let k = 0; k < n; k++) {
      const tx = txs[k]!;
      const score = out[k]!;
      const at = (k - runStart) * 24;
      scoreBuf.writeFloatLE(score, at);
      scoreBuf.writeFloatLE(tx.fraud + 1, at + 4);
      scoreBuf.writeDoubleLE(tx.ts, at + 8);
      scoreBuf.writeDoubleLE(tx.customerId, at + 16);
      if (k === n - 1 || offsets[k + 1] !== offsets[k]! + 1) {
        writeSync(scoresFd, scoreBuf, 0, (k - runStart + 1) * 24, offsets[runStart]! * 24);
        runStart = k + 1;
      }
      if (score >= threshold) {
        alerts++;
        ledgerText += encodeLine({
          key: `fraud/alert/transactions-0@${offsets[k]}`,
          action: 'alert',
          payload: {
            tx: tx.id,
            customer: tx.customerId,
            terminal: tx.terminalId,
            amount: tx.amount,
            score: Number(score.toFixed(4)),
          },
          time: now,
        });
      }
    }
    if (ledgerText.length > 0) writeSync(ledgerFd, ledgerText);
    txs.length = 0;
    offsets.length = 0;
  };

  const t0 = performance.now();
  let offset = 0;
  while (offset < part.highWatermark) {
    const { records, nextOffset } = part.read(offset, 1 << 20);
    for (const r of records) {
      let tx;
      try {
        tx = JSON.parse(utf8.decode(r.value!)) as (typeof txs)[number];
      } catch {
        bad++;
        continue;
      }
      if (
        typeof tx !== 'object' ||
        tx === null ||
        !Number.isInteger(tx.id) ||
        !Number.isInteger(tx.ts) ||
        !Number.isInteger(tx.customerId) ||
        !Number.isInteger(tx.terminalId) ||
        typeof tx.amount !== 'number' ||
        !Number.isInteger(tx.fraud)
      ) {
        bad++;
        continue;
      }
      const t = tx.ts;
      const row = rows.subarray(txs.length * MODEL_WIDTH, (txs.length + 1) * MODEL_WIDTH);
      row[0] = tx.amount;
      const dow = (Math.floor(t / DAY) + 4) % 7; // 1970-01-01 was a Thursday
      row[1] = dow === 0 || dow === 6 ? 1 : 0;
      row[2] = Math.floor(t / 3_600_000) % 24 <= 6 ? 1 : 0;
      windowFeatures(update(customers, tx.customerId, t, tx.amount, customerRetention), t, row, 3, NaN);
      cp?.dirty.customers.add(tx.customerId);
      cp?.dirty.terminals.add(tx.terminalId);
      windowFeatures(
        update(terminals, tx.terminalId, t, tx.fraud, terminalRetention),
        t - LABEL_DELAY,
        row,
        9,
        0,
      );
      txs.push(tx);
      offsets.push(r.offset);
      processed++;
      if (txs.length === BATCH) {
        await flushBatch();
        await checkpoint(r.offset + 1);
      }
    }
    offset = nextOffset;
  }
  await flushBatch();
  await checkpoint(offset, true); // with checkpoints on: a last one, as the pipeline's
  fsyncSync(ledgerFd);
  fsyncSync(scoresFd);
  await cp?.close();
  const elapsed = (performance.now() - t0) / 1000;
  closeSync(ledgerFd);
  closeSync(scoresFd);
  log.close();
  await session.release();
  return {
    processed,
    bad_records: bad,
    alerts,
    elapsed_s: Number(elapsed.toFixed(3)),
    events_per_s: Math.round(processed / elapsed),
    ledger_path: ledgerPath,
    scores_path: scoresPath,
    checkpoints: cp?.saves ?? 0,
  };
}
