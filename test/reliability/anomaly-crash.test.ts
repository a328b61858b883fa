import assert from 'node:assert/strict';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { DEFAULT_NAB_DIR } from '../../src/cli/commands/demo-anomaly.js';
import { assertSameFiles, assertSameOutcome, finishRun, killCycles } from './crash-driver.js';

const tmp = mkdtempSync(join(tmpdir(), 'sluice-anomaly-crash-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

// Two NAB series (8,064 rows) keep the suite fast; one corrupt row checks dead letters too.
const SERIES = [
  'artificialWithAnomaly/art_daily_jumpsup.csv',
  'realKnownCause/ec2_request_latency_system_failure.csv',
];
const CYCLES = 8;

/** A NAB-layout folder with the chosen series, their labels and the profiles. */
function smallCorpus(dir: string): void {
  const labels = JSON.parse(
    readFileSync(join(DEFAULT_NAB_DIR, 'labels', 'combined_windows.json'), 'utf8'),
  ) as Record<string, unknown>;
  for (const rel of SERIES) {
    mkdirSync(join(dir, 'data', rel.split('/')[0]!), { recursive: true });
    copyFileSync(join(DEFAULT_NAB_DIR, 'data', rel), join(dir, 'data', rel));
  }
  const lines = readFileSync(join(dir, 'data', SERIES[0]!), 'utf8').split('\n');
  lines.splice(2000, 0, '2014-04-07 22:35:00,not-a-number');
  writeFileSync(join(dir, 'data', SERIES[0]!), lines.join('\n'));
  mkdirSync(join(dir, 'labels'));
  writeFileSync(
    join(dir, 'labels', 'combined_windows.json'),
    JSON.stringify(Object.fromEntries(SERIES.map((s) => [s, labels[s]]))),
  );
  mkdirSync(join(dir, 'config'));
  copyFileSync(join(DEFAULT_NAB_DIR, 'config', 'profiles.json'), join(dir, 'config', 'profiles.json'));
}

/** Rows in the results files so far (header lines left out). */
function resultRows(dataDir: string): number {
  let n = 0;
  for (const rel of SERIES) {
    const path = join(dataDir, 'results', rel);
    if (existsSync(path)) n += readFileSync(path, 'utf8').split('\n').length - 2;
  }
  return n;
}

describe(
  'crash suite: sluice demo anomaly under SIGKILL',
  { skip: !existsSync(DEFAULT_NAB_DIR) && `no NAB data at ${DEFAULT_NAB_DIR}` },
  () => {
    it(`${CYCLES} seeded kill -9 cycles end with the alerts, detector state and NAB results files of an uninterrupted run`, async () => {
      const nab = join(tmp, 'nab');
      smallCorpus(nab);
      const args = ['demo', 'anomaly', '--nab', nab];
      const clean = finishRun(args, join(tmp, 'clean'));
      assert.equal(clean.processed, 8064);
      assert.equal(clean.dead_letters, 1);
      assert.ok(clean.alerts > 0);

      const dir = join(tmp, 'killed');
      const progress: number[] = [];
      const kills = await killCycles({
        // 450 rows/s per series spreads the 8,064 rows over ~9 s of runs: the kills land mid-stream.
        args: [...args, '--rate', '450'],
        dataDir: dir,
        cycles: CYCLES,
        seed: 2027,
        // Counted from the first progress line (the run is up, whatever start-up took on a
        // loaded machine): kill 0.2-2.4 s into processing.
        killAfterMs: { from: 200, spread: 2200, after: 'first-progress' },
        onKilled: () => progress.push(resultRows(dir)),
      });
      const got = finishRun(args, dir);
      const context = `kill times (ms after the first progress line): ${kills.join(', ')}; result rows after each kill: ${progress.join(', ')}`;
      console.log(`# ${context}`);
      // Most kills hit a run that had scored part of the stream, not one starting up or done.
      assert.ok(progress.filter((n) => n > 0 && n < 8064).length >= CYCLES / 2, context);
      assert.equal(got.resumed, true, context);
      assertSameOutcome(
        clean,
        got,
        [
          'rows',
          'processed',
          'dead_letters',
          'alerts',
          'actions_digest',
          'alerts_digest',
          'state_digest',
          'nab',
          'nab_detail',
        ],
        context,
      );
      // The NAB results files, line by line (the alert ledger's times differ: its digest is compared).
      assertSameFiles(join(tmp, 'clean', 'results'), join(dir, 'results'), /^alerts\.jsonl$/, context);
    });
  },
);
