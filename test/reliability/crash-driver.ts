// The crash driver of the reliability suite: runs a `sluice` command on a data dir, kills it
// with SIGKILL at seeded random moments (or stops it with Ctrl-C at given progress), and
// finishes it, so a test can compare the outcome with an uninterrupted run. Shared by the demo
// crash suites (fraud, anomaly).
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { seededRandom } from '../../src/core/random.js';

const bin = new URL('../../bin/sluice.js', import.meta.url).pathname;

/** Runs `sluice <args> --json --data <dataDir>` to its end and returns its JSON summary. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function finishRun(args: string[], dataDir: string): Record<string, any> {
  const r = spawnSync(process.execPath, [bin, ...args, '--json', '--data', dataDir], {
    encoding: 'utf8',
    timeout: 120_000,
  });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout.trim()) as Record<string, unknown>;
}

export interface KillCyclesOptions {
  /** The command and its arguments (after `sluice`), without --data. */
  args: string[];
  dataDir: string;
  cycles: number;
  seed: number;
  /**
   * Each run is killed `from + U[0, spread)` ms after it was started, or, with
   * `after: 'first-progress'`, after its first progress line (the pipeline is up: start-up time
   * on a loaded machine then cannot push every kill before the first checkpoint). A run that
   * ends by itself first is not killed.
   */
  killAfterMs: { from: number; spread: number; after?: 'start' | 'first-progress' };
  /** Called after each kill (e.g. to note how far the stream had got). */
  onKilled?: (cycle: number) => void;
}

/** Starts and SIGKILLs the command `cycles` times on the same data dir; resolves with the kill times. */
export async function killCycles(o: KillCyclesOptions): Promise<number[]> {
  const rand = seededRandom(o.seed);
  const kills: number[] = [];
  const onProgress = o.killAfterMs.after === 'first-progress';
  for (let cycle = 0; cycle < o.cycles; cycle++) {
    // Progress lines go to stderr unless --quiet; they are only read to find the first one.
    const child = spawn(
      process.execPath,
      [bin, ...o.args, ...(onProgress ? [] : ['--quiet']), '--data', o.dataDir],
      {
        stdio: ['ignore', 'ignore', onProgress ? 'pipe' : 'ignore'],
      },
    );
    const exited = new Promise((r) => child.once('exit', r));
    const at = o.killAfterMs.from + Math.floor(rand() * o.killAfterMs.spread);
    kills.push(at);
    if (onProgress) {
      const up = new Promise<void>((r) =>
        child.stderr!.setEncoding('utf8').on('data', (d: string) => d.includes('processed') && r()),
      );
      await Promise.race([up, exited]);
    }
    await Promise.race([new Promise((r) => setTimeout(r, at)), exited]);
    child.kill('SIGKILL');
    await exited;
    o.onKilled?.(cycle);
  }
  return kills;
}

export interface StopCyclesOptions {
  /** The command and its arguments (after `sluice`), without --data; it must print progress lines. */
  args: string[];
  dataDir: string;
  /** One run per entry: Ctrl-C (SIGINT) once its progress line shows at least this many records done. */
  stopAtDone: number[];
}

/**
 * Starts the command once per `stopAtDone` entry on the same data dir and stops it gracefully
 * (SIGINT, as Ctrl-C does) once its once-a-second progress line (`processed N`, counted from the
 * first run) reaches the entry. Cutting on progress rather than on a timer keeps the cut points
 * where they were meant to be on a loaded machine. Resolves with the records each run had done
 * when it stopped (from its summary line), failing if a run ended before it could be stopped.
 */
export async function stopCycles(o: StopCyclesOptions): Promise<number[]> {
  const stoppedAt: number[] = [];
  for (const target of o.stopAtDone) {
    // Without --json and --quiet the CLI prints progress to stderr and a summary to stdout.
    const child = spawn(process.execPath, [bin, ...o.args, '--data', o.dataDir], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let signalled = false;
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
      const done = [...stderr.matchAll(/processed ([\d,]+)/g)].map((m) => Number(m[1]!.replace(/,/g, '')));
      // Progress lines start once the run (and its SIGINT handler) is up.
      if (!signalled && done.length > 0 && done[done.length - 1]! >= target) {
        signalled = true;
        child.kill('SIGINT');
      }
    });
    const code = await new Promise<number | null>((r) => child.once('close', r));
    const context = `stop at ${target}; stderr: ${stderr.slice(-600)}`;
    assert.ok(signalled, `the run ended before it reached ${target} records; ${context}`);
    assert.equal(code, 130, `a graceful stop exits 130; ${context}`);
    assert.match(stderr, /stopping: finishing in-flight records and saving a checkpoint/, context);
    const summary = /stopped(?: \(resumed\))?: (\d+) processed \+ (\d+) dead letters/.exec(stdout);
    assert.ok(summary, `no summary line on stdout: ${stdout}; ${context}`);
    stoppedAt.push(Number(summary[1]) + Number(summary[2]));
  }
  return stoppedAt;
}

/** Asserts that `got` has the values of `clean` for each key, in order: the first difference fails. */
export function assertSameOutcome(
  clean: Record<string, unknown>,
  got: Record<string, unknown>,
  keys: string[],
  context: string,
): void {
  for (const k of keys)
    assert.deepEqual(got[k], clean[k], `${k} differs from the uninterrupted run; ${context}`);
}

/** Files under `dir` (relative paths, sorted), leaving out names that match `skip`. */
function filesUnder(dir: string, skip: RegExp, root = dir, out: string[] = []): string[] {
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) filesUnder(path, skip, root, out);
    else if (!skip.test(name)) out.push(relative(root, path));
  }
  return out;
}

/** Asserts two folders hold the same files with the same lines; fails on the first differing line. */
export function assertSameFiles(cleanDir: string, gotDir: string, skip: RegExp, context: string): void {
  const files = filesUnder(cleanDir, skip);
  assert.deepEqual(filesUnder(gotDir, skip), files, `different files; ${context}`);
  for (const f of files) {
    const a = readFileSync(join(cleanDir, f), 'utf8').split('\n');
    const b = readFileSync(join(gotDir, f), 'utf8').split('\n');
    const i = a.findIndex((line, k) => line !== b[k]);
    const at = i >= 0 ? i : a.length < b.length ? a.length : -1;
    assert.equal(at, -1, `${f} line ${at + 1}: "${b[at]}" instead of "${a[at]}"; ${context}`);
  }
}
