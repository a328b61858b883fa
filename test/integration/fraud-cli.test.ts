// The fraud demo's connector flags and the dead-letter CLI: --alerts-to and --from give the same
// actions digest as the default run (same record ids, same alerts), --json stays one line, and
// `sluice dlq` lists, shows and replays what failed to decode.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { dlq } from '../../src/cli/commands/dlq.js';
import { Log } from '../../src/log/index.js';
import { needService, portOpen } from '../helpers/services.js';
import { runSluice, uniqueName } from './helpers.js';

const tmp = mkdtempSync(join(tmpdir(), 'sluice-fraud-cli-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const COMMON = ['--events', '8000', '--seed', '7', '--bad-rate', '0.01', '--no-dashboard', '--quiet'];
const PG_URL = 'postgres://postgres@127.0.0.1:5432/test';
const noPostgres = await needService('postgres on 127.0.0.1:5432', () => portOpen(5432));

/** Runs `sluice dlq ARGS` in this process, capturing what it prints. */
async function inProcess(args: string[]): Promise<{ code: number; out: string }> {
  let out = '';
  const write = process.stdout.write;
  process.stdout.write = ((chunk: string) => ((out += chunk), true)) as typeof process.stdout.write;
  try {
    return { code: await dlq(args), out };
  } finally {
    process.stdout.write = write;
  }
}

/** Runs the CLI (asynchronously) in the test's directory. */
const sluice = (args: string[]) => runSluice(args, tmp);

async function demo(args: string[]): Promise<Record<string, unknown>> {
  const r = await sluice(['demo', 'fraud', '--json', ...args]);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines.length, 1, 'one JSON line on stdout');
  return JSON.parse(lines[0]!) as Record<string, unknown>;
}

let base: Record<string, unknown>;
const baseDir = join(tmp, 'base');

describe('fraud demo with connectors, and sluice dlq', () => {
  before(async () => {
    base = await demo([...COMMON, '--data', baseDir]);
    assert.equal(base.events_in, 8000);
    assert.ok((base.actions as number) > 0 && (base.dead_letters as number) > 0);
  });

  it("--alerts-to file: writes each alert once; the digest is the default run's", async () => {
    const out = join(tmp, 'alerts.jsonl');
    const r = await demo([...COMMON, '--data', join(tmp, 'file'), '--alerts-to', `file:${out}`]);
    assert.equal(r.actions_digest, base.actions_digest);
    assert.equal(readFileSync(out, 'utf8').trim().split('\n').length, base.actions);
  });

  it('--alerts-to postgres:// fills the table, once per alert', { skip: noPostgres }, async (t) => {
    const table = uniqueName('sluice_demo');
    const client = new pg.Client({ connectionString: PG_URL });
    await client.connect();
    t.after(async () => {
      await client.query(`DROP TABLE IF EXISTS ${table}`);
      await client.end();
    });
    const r = await demo([...COMMON, '--data', join(tmp, 'pg'), '--alerts-to', `${PG_URL}?table=${table}`]);
    assert.equal(r.actions_digest, base.actions_digest);
    const { rows } = await client.query(`SELECT count(*)::int AS n FROM ${table}`);
    assert.equal(rows[0].n, base.actions);
  });

  it('--from file: replays a captured stream to the same actions and state', async () => {
    // Capture the generated stream (corrupted records included) as NDJSON named after the topic,
    // so the record ids, and therefore the idempotency keys, are those of the default run.
    const log = Log.open(join(baseDir, 'log'));
    const parts: Buffer[] = [];
    const p = log.partition('transactions', 0);
    for (let o = 0; o < p.highWatermark;) {
      const { records, nextOffset } = p.read(o);
      for (const rec of records) parts.push(rec.value!, Buffer.from('\n'));
      o = nextOffset;
    }
    log.close();
    const file = join(tmp, 'transactions.ndjson');
    writeFileSync(file, Buffer.concat(parts));
    const r = await demo([
      '--seed',
      '7',
      '--no-dashboard',
      '--quiet',
      '--data',
      join(tmp, 'from'),
      '--from',
      `file:${file}`,
    ]);
    assert.equal(r.events_in, 8000);
    assert.equal(r.actions_digest, base.actions_digest);
    assert.equal(r.state_digest, base.state_digest);
    assert.equal(r.dead_letters, base.dead_letters);
  });

  it('sluice dlq lists, shows and replays dead letters (each replayed once)', async () => {
    const list = await sluice(['dlq', 'list', '--data', baseDir, '--json', '--limit', '1000']);
    assert.equal(list.code, 0, list.stderr);
    const letters = list.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { offset: number; stage: string; reason: string; source: string });
    assert.equal(letters.length, base.dead_letters);
    for (const d of letters) {
      assert.equal(d.stage, 'decode');
      assert.match(d.source, /^transactions\/0@\d+$/);
      assert.match(d.reason, /malformed JSON|not valid UTF-8|expected number|is missing/);
    }
    // The other subcommands in-process (a CLI start loads every layer: seconds each).
    const show = await inProcess(['show', String(letters[0]!.offset), '--data', baseDir]);
    assert.match(show.out, new RegExp(`source:  ${letters[0]!.source}`));
    const replay = await inProcess(['replay', '--data', baseDir, '--json']);
    assert.deepEqual(JSON.parse(replay.out), {
      replayed: letters.length,
      topics: { transactions: letters.length },
      skipped: [],
      next: letters.length,
    });
    const again = await inProcess(['replay', '--data', baseDir, '--json']);
    assert.equal(JSON.parse(again.out).replayed, 0, 'a second replay continues where the first stopped');
    const log = Log.open(join(baseDir, 'log'));
    assert.equal(log.partition('transactions', 0).highWatermark, 8000 + letters.length);
    log.close();
    await assert.rejects(inProcess(['list', '--data', baseDir, '--topic', 'nope']), {
      code: 'SLUICE_DLQ_NOT_FOUND',
      message: /no dead-letter topic "nope"/,
    });
    await assert.rejects(inProcess(['frob', '--data', baseDir]), {
      code: 'SLUICE_CLI_USAGE',
      message: /list, show OFFSET or replay/,
    });
  });
});
