// Damaged stored data is detected, never silently used (issue 20, item 4), at process level with
// `sluice demo fraud`: changed bytes in the state store stop the run with a clear error and
// `--rebuild-state` rebuilds it from the log to the uninterrupted run's state; a changed digit in
// a log segment stops the run naming the partition and offsets, `sluice log check` lists it and
// `--repair` sets it aside so the pipeline runs again.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { open } from 'lmdb';

const tmp = mkdtempSync(join(tmpdir(), 'sluice-corruption-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const bin = new URL('../../bin/sluice.js', import.meta.url).pathname;
const DEMO = ['demo', 'fraud', '--events', '3000', '--seed', '3', '--no-dashboard', '--no-slo', '--quiet'];

function sluice(args: string[]): {
  status: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
} {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
function demo(dir: string, ...extra: string[]): Record<string, any> {
  const r = sluice([...DEMO, ...extra, '--json', '--data', dir]);
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout.trim()) as Record<string, unknown>;
}

/** Changes one byte in every copy, in data.mdb, of the stored value of the state's first entry. */
async function damageStateValue(stateDir: string): Promise<void> {
  const root = open({ path: stateDir, maxDbs: 4, readOnly: true });
  const db = root.openDB({ name: 'state', keyEncoding: 'ordered-binary', encoding: 'binary' });
  let value: Buffer | undefined;
  for (const { value: v } of db.getRange({ limit: 50 })) {
    if ((v as Buffer).length >= 24 && value === undefined) value = Buffer.from(v as Buffer);
  }
  await root.close();
  assert.ok(value, 'a stored state value of at least 24 bytes');
  const file = join(stateDir, 'data.mdb');
  const bytes = readFileSync(file);
  let copies = 0;
  for (let at = bytes.indexOf(value); at >= 0; at = bytes.indexOf(value, at + 1), copies++) {
    bytes[at + 12] ^= 0x10;
  }
  assert.ok(copies > 0, 'the value is in data.mdb');
  writeFileSync(file, bytes);
}

describe('damaged stored data under sluice demo fraud', () => {
  const clean = join(tmp, 'clean');
  const dir = join(tmp, 'damaged');
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  let reference: Record<string, any>;

  it('changed bytes in the state store stop the run; --rebuild-state rebuilds it from the log', async () => {
    reference = demo(clean);
    assert.equal(reference.processed, 3000);
    cpSync(clean, dir, { recursive: true });
    await damageStateValue(join(dir, 'state'));

    const damaged = sluice([...DEMO, '--json', '--data', dir]);
    assert.equal(damaged.signal, null);
    assert.equal(damaged.status, 1, `the damaged state was used: ${damaged.stdout}`);
    assert.match(damaged.stderr, /state store .* is damaged: .*fails its checkpoint checksum/);
    assert.match(damaged.stderr, /--rebuild-state/);

    const rebuilt = demo(dir, '--rebuild-state');
    assert.equal(rebuilt.processed, 3000, 'the whole log was replayed');
    assert.equal(rebuilt.state_digest, reference.state_digest);
    assert.equal(rebuilt.actions_digest, reference.actions_digest);
    assert.equal(rebuilt.actions, reference.actions, 'no action happened twice');
    assert.equal(readdirSync(dir).filter((n) => n.startsWith('state.set-aside-')).length, 1);
  });

  it('a changed digit in a log segment stops the run; sluice log check --repair sets it aside', () => {
    // The log of the clean run without its state: a run replays it from the start.
    const logDir = join(tmp, 'log-damaged');
    cpSync(join(clean, 'log'), join(logDir, 'log'), { recursive: true });
    cpSync(join(clean, 'demo.json'), join(logDir, 'demo.json'));
    const segment = join(logDir, 'log', 'transactions-0', '00000000000000000000.log');
    const bytes = readFileSync(segment);
    const at = bytes.indexOf('"amount":', Math.floor(bytes.length / 4)) + '"amount":'.length;
    assert.ok(bytes[at] >= 0x30 && bytes[at] <= 0x39, 'a digit');
    bytes[at] = bytes[at] === 0x39 ? 0x31 : bytes[at] + 1; // still valid JSON, another amount
    writeFileSync(segment, bytes);

    const run = sluice([...DEMO, '--json', '--data', logDir]);
    assert.equal(run.status, 1, `the damaged batch was processed: ${run.stdout}`);
    assert.match(run.stderr, /transactions-0.*offsets \d+\.\.\d+ fails its CRC-32C check/);
    assert.match(run.stderr, /sluice log check --data/);

    const check = sluice(['log', 'check', '--data', logDir, '--json']);
    assert.equal(check.status, 1, check.stderr);
    const report = JSON.parse(check.stdout) as {
      damage: { topic: string; fromOffset: number; toOffset: number }[];
    };
    assert.equal(report.damage.length, 1);
    assert.equal(report.damage[0].topic, 'transactions');
    const lost = report.damage[0].toOffset - report.damage[0].fromOffset;

    const repair = sluice(['log', 'check', '--data', logDir, '--repair']);
    assert.equal(repair.status, 0, repair.stderr);
    assert.match(repair.stdout, /1 damaged range set aside/);
    assert.equal(sluice(['log', 'check', '--data', logDir]).status, 0, 'a repaired log checks clean');

    const after = demo(logDir, '--rebuild-state');
    assert.equal(after.events_in, 3000, 'offsets stay dense');
    assert.equal(after.processed + after.dead_letters, 3000 - lost, 'every sound record is processed');
  });
});
