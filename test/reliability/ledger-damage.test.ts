// Issue 20, item 2: one bad byte in line 101 of the fraud demo's action ledger made the rerun cut
// the file to 100 lines, silently (exit 0, `actions` 100 instead of 450). Now the damaged entry is
// set aside and reported, and every other entry survives the rerun.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';

const bin = new URL('../../bin/sluice.js', import.meta.url).pathname;
const tmp = mkdtempSync(join(tmpdir(), 'sluice-ledger-damage-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const ARGS = ['demo', 'fraud', '--events', '100000', '--seed', '3', '--no-dashboard', '--no-slo', '--json'];

function demo(dataDir: string): { summary: { actions: number; actions_digest: string }; stderr: string } {
  const r = spawnSync(process.execPath, [bin, ...ARGS, '--data', dataDir], {
    encoding: 'utf8',
    timeout: 180_000,
  });
  assert.equal(r.status, 0, r.stderr);
  return {
    summary: JSON.parse(r.stdout.trim()) as { actions: number; actions_digest: string },
    stderr: r.stderr,
  };
}

test(
  "a damaged line 101 of a finished run's ledger is set aside and reported; every other entry survives the rerun",
  { timeout: 300_000 },
  () => {
    const dir = join(tmp, 'run');
    const first = demo(dir).summary;
    assert.ok(first.actions > 150, `the run needs more than 150 actions, got ${first.actions}`);
    const ledger = join(dir, 'actions', 'alerts.jsonl');
    const lines = readFileSync(ledger, 'utf8').split('\n');
    assert.equal(lines.length - 1, first.actions);
    // One bad byte inside line 101, in its payload.
    const bad = lines[100]!;
    const at = bad.indexOf('"payload"') + 12;
    lines[100] = bad.slice(0, at) + (bad[at] === '1' ? '2' : '1') + bad.slice(at + 1);
    writeFileSync(ledger, lines.join('\n'));

    const { summary, stderr } = demo(dir);
    assert.match(
      stderr,
      /alerts\.jsonl: 1 damaged entry set aside in .*alerts\.jsonl\.damaged \(line 101: checksum mismatch/,
    );
    assert.equal(summary.actions, first.actions - 1, 'every entry but the damaged one is kept');
    const kept = readFileSync(ledger, 'utf8').split('\n').slice(0, -1);
    assert.deepEqual(kept, [...lines.slice(0, 100), ...lines.slice(101, -1)]);
    assert.ok(readFileSync(`${ledger}.damaged`, 'utf8').includes(lines[100]!));
    assert.notEqual(summary.actions_digest, first.actions_digest, 'the digest covers what is left');
    console.log(`# ${first.actions} actions; after damaging line 101: ${summary.actions} kept, 1 set aside`);

    const again = demo(dir);
    assert.equal(again.summary.actions, summary.actions, 'a third run finds the ledger whole');
    assert.equal(again.summary.actions_digest, summary.actions_digest);
    assert.doesNotMatch(again.stderr, /damaged/);
    assert.ok(existsSync(`${ledger}.damaged`));
  },
);
