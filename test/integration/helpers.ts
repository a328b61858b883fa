// Helpers of the integration tests: temp dirs, unique names per run, an events topic to replay,
// and a child pipeline process killed with SIGKILL at moments where it is mid-stream.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { Log } from '../../src/log/index.js';
import { seededRandom } from '../../src/core/random.js';

/** A fresh directory removed when the test ends. */
export function tempDir(t: TestContext, prefix = 'sluice-it-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A name no other run uses (tables, streams, subjects, topics). */
export function uniqueName(prefix: string): string {
  return `${prefix}_${process.pid}_${Date.now().toString(36)}_${Math.floor(Math.random() * 1e6).toString(36)}`;
}

/** Writes `n` events `{id, v}` to topic "events" of the log in `dir`/log. */
export function fillEvents(dir: string, n: number): void {
  const log = Log.open(join(dir, 'log'));
  log.createTopic('events', { partitions: 1 });
  const p = log.partition('events', 0);
  for (let i = 0; i < n; i += 500) {
    const batch = [];
    for (let j = i; j < Math.min(n, i + 500); j++)
      batch.push({ value: Buffer.from(JSON.stringify({ id: j, v: j * 0.5 })) });
    p.append(batch);
  }
  log.close();
}

/** The ids the fixture's action fires for (id % 3 !== 0). */
export function expectedIds(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i).filter((i) => i % 3 !== 0);
}

const root = new URL('../../', import.meta.url).pathname;

/** What a CLI run gave: its exit code and output. */
export interface SluiceRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI (bin/sluice.js) in `cwd` to its exit, asynchronously. */
export function runSluice(args: string[], cwd: string, env?: NodeJS.ProcessEnv): Promise<SluiceRun> {
  const child = spawn(process.execPath, [join(root, 'bin/sluice.js'), ...args], { cwd, env });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code: code ?? 1, stdout, stderr })));
}

/** `sluice demo fraud --from URL` over `events` records, run in `dir` with its data in `dir`/`name`. */
export function fraudDemoFrom(dir: string, name: string, from: string, events: number): Promise<SluiceRun> {
  return runSluice(
    [
      'demo',
      'fraud',
      '--json',
      '--quiet',
      '--no-dashboard',
      '--events',
      String(events),
      '--data',
      join(dir, name),
      '--from',
      from,
    ],
    dir,
  );
}

/**
 * {@link fraudDemoFrom}, which must exit 0 having read every record and dead-lettered none
 * (`name` names the case in failures).
 */
export async function fraudDemoReadsAll(
  dir: string,
  name: string,
  from: string,
  events: number,
): Promise<void> {
  const r = await fraudDemoFrom(dir, name, from, events);
  assert.equal(r.code, 0, `${name}: ${r.stderr}`);
  const summary = JSON.parse(r.stdout.trim()) as { events_in: number; dead_letters: number };
  assert.equal(summary.events_in, events, `${name}: every record processed`);
  assert.equal(summary.dead_letters, 0, `${name}: none dead-lettered`);
}

/**
 * Runs a fixture script with tsx `kills` times, each killed with SIGKILL at a random moment
 * after it printed "running" (a checkpoint is saved: mid-stream, whatever the load), then once to
 * its end; resolves with the last line it printed (its JSON summary).
 */
export async function killAndFinish(
  script: string,
  args: string[],
  kills: number,
  seed = 7,
): Promise<Record<string, unknown>> {
  const rand = seededRandom(seed);
  for (let k = 0; k < kills; k++) {
    const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const exited = new Promise((r) => child.once('exit', r));
    const running = new Promise<void>((r) =>
      child.stdout.on('data', (d: Buffer) => d.toString().includes('running') && r()),
    );
    await Promise.race([running, exited]);
    await Promise.race([new Promise((r) => setTimeout(r, 50 + rand() * 500)), exited]);
    child.kill('SIGKILL');
    await exited;
  }
  return runToEnd(script, args);
}

/**
 * Runs a fixture script to its end (asynchronously: servers in this process keep answering it)
 * and resolves with its last stdout line parsed as JSON.
 */
export async function runToEnd(
  script: string,
  args: string[],
  timeoutMs = 60_000,
): Promise<Record<string, unknown>> {
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const code = await new Promise((r) => child.once('exit', r));
  clearTimeout(timer);
  assert.equal(code, 0, `exit ${code}: ${err}`);
  return JSON.parse(out.trim().split('\n').at(-1)!) as Record<string, unknown>;
}
