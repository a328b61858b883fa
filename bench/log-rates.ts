// Ad-hoc measurement, not a test: append and read rates of one partition for 1M records of
// 100-byte values in batches of 500. Run: node --import tsx bench/log-rates.ts
// Prints JSON. Absolute numbers drift on shared machines; compare runs on one machine.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  crc32c,
  decodeRecordBatch,
  encodeRecordBatch,
  Partition,
  type FsyncPolicy,
} from '../src/log/index.js';

const RECORDS = 1_000_000;
const BATCH = 500;
const VALUE = 100;

const batches = Array.from({ length: 16 }, (_, b) =>
  Array.from({ length: BATCH }, (_, i) => ({ key: null, value: Buffer.alloc(VALUE, (b + i) % 256) })),
);

function measure(fsync: FsyncPolicy) {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-log-rates-'));
  try {
    const p = Partition.open(dir, { fsync });
    let t = process.hrtime.bigint();
    for (let n = 0; n < RECORDS / BATCH; n++) p.append(batches[n % batches.length]);
    p.flush();
    const appendS = Number(process.hrtime.bigint() - t) / 1e9;
    const bytes = sizeOnDisk(p);

    t = process.hrtime.bigint();
    let count = 0;
    let next = 0;
    while (next < p.highWatermark) {
      const r = p.read(next);
      count += r.records.length;
      next = r.nextOffset;
    }
    const readS = Number(process.hrtime.bigint() - t) / 1e9;
    if (count !== RECORDS) throw new Error(`read ${count} records, expected ${RECORDS}`);

    t = process.hrtime.bigint();
    let raw = 0;
    next = 0;
    while (next < p.highWatermark) {
      const data = p.readBatches(next);
      raw += data.length;
      next = lastOffsetOfBuffer(data) + 1;
    }
    const rawS = Number(process.hrtime.bigint() - t) / 1e9;
    p.close();
    return {
      fsync,
      appendRecordsPerSec: Math.round(RECORDS / appendS),
      appendMBPerSec: round(bytes / appendS / 1e6),
      readRecordsPerSec: Math.round(RECORDS / readS),
      readMBPerSec: round(bytes / readS / 1e6),
      readBatchesMBPerSec: round(raw / rawS / 1e6),
      logBytes: bytes,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function lastOffsetOfBuffer(data: Buffer): number {
  let pos = 0;
  let last = -1;
  while (pos < data.length) {
    last = Number(data.readBigInt64BE(pos)) + data.readInt32BE(pos + 23);
    pos += data.readInt32BE(pos + 8) + 12;
  }
  return last;
}

function sizeOnDisk(p: Partition): number {
  let total = 0;
  let next = 0;
  while (next < p.highWatermark) {
    const d = p.readBatches(next, 64 << 20);
    total += d.length;
    next = lastOffsetOfBuffer(d) + 1;
  }
  return total;
}

function codecOnly() {
  const records = batches[0];
  let t = process.hrtime.bigint();
  let batch = encodeRecordBatch(records, 0);
  for (let i = 0; i < 2000; i++) batch = encodeRecordBatch(records, i * BATCH);
  const encS = Number(process.hrtime.bigint() - t) / 1e9;
  t = process.hrtime.bigint();
  for (let i = 0; i < 2000; i++) decodeRecordBatch(batch);
  const decS = Number(process.hrtime.bigint() - t) / 1e9;
  const big = Buffer.alloc(64 << 20, 7);
  t = process.hrtime.bigint();
  crc32c(big);
  const crcS = Number(process.hrtime.bigint() - t) / 1e9;
  return {
    encodeRecordsPerSec: Math.round((2000 * BATCH) / encS),
    decodeRecordsPerSec: Math.round((2000 * BATCH) / decS),
    crc32cMBPerSec: round(big.length / crcS / 1e6),
  };
}

function round(x: number): number {
  return Math.round(x * 10) / 10;
}

measure('never'); // warm-up: lets V8 optimise the hot paths before anything is timed
const runs = (['never', 'interval', 'batch'] as const).map(measure);
console.log(
  JSON.stringify(
    { node: process.version, records: RECORDS, batch: BATCH, valueBytes: VALUE, codec: codecOnly(), runs },
    null,
    2,
  ),
);
