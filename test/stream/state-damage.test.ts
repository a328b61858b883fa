// A damaged LMDB state store is detected before use (issue 20, item 4): a truncated or zeroed
// data.mdb gives a clear SLUICE_STATE_UNREADABLE error instead of SIGBUS/SIGSEGV, and changed bytes in
// the stored state fail the checkpoint checksum instead of giving wrong results.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  mkdtempSync,
  readFileSync,
  rmSync,
  truncateSync,
  writeFileSync,
  existsSync,
  readdirSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { LocalStateDb } from '../../src/connectors/scale/partition-state.js';
import { LmdbCheckpointStore, SluiceError } from '../../src/stream/index.js';

const tmp = mkdtempSync(join(tmpdir(), 'sluice-state-damage-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const fixture = new URL('./fixtures/open-state.ts', import.meta.url).pathname;

/** A store with two checkpoints of 3,000 counters (values 1000 + i) for pipeline "p". */
async function makeStore(name: string): Promise<string> {
  const path = join(tmp, name);
  const store = LmdbCheckpointStore.open(path);
  const changes = (from: number) =>
    Array.from({ length: 1500 }, (_, i) => ({ ns: 'counts', key: `k${from + i}`, value: 1000 + from + i }));
  await store.save({ pipeline: 'p', id: 1, offsets: { 't/0': 1500 }, counters: {}, savedAt: 1 }, changes(0));
  await store.save(
    { pipeline: 'p', id: 2, offsets: { 't/0': 3000 }, counters: {}, savedAt: 2 },
    changes(1500),
  );
  await store.close();
  return path;
}

const EXPECTED_SUM = Array.from({ length: 3000 }, (_, i) => 1000 + i).reduce((a, b) => a + b, 0);

function openInChild(path: string): {
  status: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
} {
  const r = spawnSync(process.execPath, ['--import', 'tsx', fixture, path], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

test('an intact store opens and reads back its state', async () => {
  const r = openInChild(await makeStore('intact'));
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), { id: 2, sum: EXPECTED_SUM });
});

test('a truncated data.mdb gives a clear error, not SIGBUS', async () => {
  const path = await makeStore('truncated');
  const file = join(path, 'data.mdb');
  truncateSync(file, Math.floor(readFileSync(file).length / 2) - 100);
  const r = openInChild(path);
  assert.equal(r.signal, null, `killed by ${r.signal}`);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /state store .* is damaged: .*truncated.*Rebuild the state from the log/s);
});

test('zeroed header pages give a clear error, not SIGSEGV', async () => {
  const path = await makeStore('zeroed');
  const file = join(path, 'data.mdb');
  const bytes = readFileSync(file);
  bytes.fill(0, 0, 2 * 4096);
  writeFileSync(file, bytes);
  const r = openInChild(path);
  assert.equal(r.signal, null, `killed by ${r.signal}`);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /is damaged: meta page 0 has magic 0x0/);
});

test('a changed stored value fails the checkpoint checksum instead of giving a wrong result', async () => {
  const path = await makeStore('changed');
  const file = join(path, 'data.mdb');
  const bytes = readFileSync(file);
  // msgpack stores 1000 + 2345 = 3345 as uint16 0xcd 0x0d 0x11; make it 3346 (everywhere: LMDB's
  // copy-on-write pages can hold stale copies besides the live one).
  const pattern = Buffer.from([0xcd, 0x0d, 0x11]);
  let changed = 0;
  for (let at = bytes.indexOf(pattern); at >= 0; at = bytes.indexOf(pattern, at + 3), changed++)
    bytes[at + 2] = 0x12;
  assert.ok(changed > 0, 'the value is in the file');
  writeFileSync(file, bytes);
  const r = openInChild(path);
  assert.equal(r.status, 1, `read ${r.stdout}`);
  assert.match(
    r.stderr,
    /pipeline p fails its checkpoint checksum \(3000 entries, the checkpoint has 3000 with other contents\)/,
  );
});

test('open with rebuild sets a damaged store aside and starts empty', async () => {
  const path = await makeStore('rebuild');
  truncateSync(join(path, 'data.mdb'), 5000);
  assert.throws(
    () => LmdbCheckpointStore.open(path),
    (e: unknown) => e instanceof SluiceError && e.code === 'SLUICE_STATE_UNREADABLE',
  );
  const store = LmdbCheckpointStore.open(path, { rebuild: true });
  try {
    assert.equal(await store.load('p'), undefined);
  } finally {
    await store.close();
  }
  assert.ok(existsSync(path));
  assert.equal(readdirSync(tmp).filter((n) => n.startsWith('rebuild.set-aside-')).length, 1);
});

test('a scaled-out worker refuses a damaged local state file (sluice run --data)', async () => {
  const path = join(tmp, 'worker');
  const db = LocalStateDb.open(path);
  db.partition(0).apply(Array.from({ length: 2000 }, (_, i) => ({ ns: 'n', key: `k${i}`, value: i })));
  await db.close();
  const bytes = readFileSync(join(path, 'data.mdb'));
  bytes.fill(0, 0, 2 * 4096);
  writeFileSync(join(path, 'data.mdb'), bytes);
  assert.throws(
    () => LocalStateDb.open(path),
    (e: unknown) =>
      e instanceof SluiceError && /local state .* is damaged: meta page 0 .*changelog topics/.test(e.message),
  );
});
