// Idempotent producers' state kept with the log: snapshots at roll and close, the tail after
// the newest snapshot rebuilt from batch headers after a crash, damaged or stale snapshots
// detected and never used.

import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { encodeRecordBatch, Partition } from '../../src/log/index.js';
import type { ProducerStates } from '../../src/log/producer-state.js';
import { defer, tempDir } from './helpers.js';

const PID = 1_700_000_000_000_123;

/** Appends batches of `size` records from producer `pid`, sequences continuing from `seq`. */
function appendIdempotent(p: Partition, pid: number, seq: number, batches: number, size = 3): number {
  for (let b = 0; b < batches; b++) {
    const recs = Array.from({ length: size }, (_, i) => ({ value: Buffer.from(`${pid}-${seq + i}`) }));
    p.appendBatch(encodeRecordBatch(recs, 0, { producerId: pid, producerEpoch: 2, baseSequence: seq }));
    seq += size;
  }
  return seq;
}

function snapshots(dir: string): string[] {
  return readdirSync(dir).filter((n) => n.endsWith('.snapshot'));
}

function summary(states: ProducerStates, pid: number): unknown {
  const e = states.get(pid);
  return e && { epoch: e.epoch, lastSeq: e.lastSeq, recent: e.recent.map((b) => [b.firstSeq, b.baseOffset]) };
}

test('producer state is snapshotted at close and read back on open', (t) => {
  const dir = tempDir(t);
  const p = Partition.open(dir);
  appendIdempotent(p, PID, 0, 7);
  const before = summary(p.producers(), PID);
  assert.deepEqual(before, {
    epoch: 2,
    lastSeq: 20,
    recent: [
      [6, 6],
      [9, 9],
      [12, 12],
      [15, 15],
      [18, 18],
    ],
  });
  p.close();
  assert.deepEqual(snapshots(dir), ['00000000000000000021.snapshot']);
  const again = Partition.open(dir);
  defer(t, () => again.close());
  assert.deepEqual(summary(again.producers(), PID), before);
});

test('after a crash the batches after the newest snapshot are replayed into the state', (t) => {
  const dir = tempDir(t);
  // Small segments: each roll writes a snapshot, and batches after it exist only in the log.
  const p = Partition.open(dir, { segmentBytes: 400, fsync: 'batch' });
  defer(t, () => p.close());
  appendIdempotent(p, PID, 0, 6);
  appendIdempotent(p, 42, 0, 2, 1);
  const next = appendIdempotent(p, PID, 18, 2);
  assert.ok(snapshots(dir).length === 1, `one snapshot kept, found ${snapshots(dir).join(', ')}`);
  const snapOffset = Number(snapshots(dir)[0].slice(0, 20));
  assert.ok(snapOffset > 0 && snapOffset < p.highWatermark, 'some batches lie after the snapshot');
  // A second instance on the same files sees what a restart after kill -9 sees (p never closed).
  const warnings: string[] = [];
  const recovered = Partition.open(dir, { segmentBytes: 400, onWarning: (m) => warnings.push(m) });
  defer(t, () => recovered.close());
  assert.deepEqual(summary(recovered.producers(), PID), summary(p.producers(), PID));
  assert.deepEqual(summary(recovered.producers(), 42), summary(p.producers(), 42));
  assert.equal(recovered.producers().get(PID)!.lastSeq, next - 1);
  assert.deepEqual(warnings, []);
});

test('a damaged snapshot is reported and ignored: the state is rebuilt from the log', (t) => {
  const dir = tempDir(t);
  const p = Partition.open(dir);
  appendIdempotent(p, PID, 0, 4);
  const before = summary(p.producers(), PID);
  p.close();
  const [name] = snapshots(dir);
  const text = readFileSync(join(dir, name), 'utf8');
  writeFileSync(join(dir, name), text.replace('"version":1', '"version":1 '));
  const warnings: string[] = [];
  const again = Partition.open(dir, { onWarning: (m) => warnings.push(m) });
  defer(t, () => again.close());
  assert.deepEqual(summary(again.producers(), PID), before);
  assert.equal(warnings.length, 1);
  assert.match(warnings[0], /checksum does not match.*rebuilding producer state from the log/);
  assert.deepEqual(snapshots(dir), [], 'the damaged file is removed');
});

test('a snapshot beyond the recovered log end is stale and not used', (t) => {
  const dir = tempDir(t);
  const p = Partition.open(dir);
  appendIdempotent(p, PID, 0, 5);
  // A snapshot claiming batches the log does not hold (as if written before a tail was cut).
  p.producers().record(PID, 2, 15, 1000, 15);
  p.producers().writeSnapshot(dir, 500);
  p.close();
  const warnings: string[] = [];
  const last = Partition.open(dir, { onWarning: (m) => warnings.push(m) });
  defer(t, () => last.close());
  assert.equal(last.producers().get(PID)!.lastSeq, 14, 'state rebuilt from the log, not the stale snapshot');
  assert.match(warnings.join('\n'), /lies beyond the log end 15/);
});
