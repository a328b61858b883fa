// Dead-letter replay, as a crashing machine and as an attacker would try it: `sluice dlq
// replay` killed (SIGKILL) after each of its durable steps and run again, then run twice more,
// must append each dead letter once, and the fixed pipeline must leave exactly one row per
// record in Postgres, with the record's original idempotency key. Dead letters Sluice did not
// write (hand-made or altered headers) are refused with a reason, and `sluice dlq list|show`
// print control characters escaped.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import pg from 'pg';
import { dlq } from '../../src/cli/commands/dlq.js';
import {
  action,
  logDeadLetters,
  logSource,
  pipeline,
  postgresActionSink,
  type Decoder,
} from '../../src/index.js';
import { DLQ_HEADERS, replayDeadLetters } from '../../src/connectors/index.js';
import { Log } from '../../src/log/index.js';
import { MemoryCheckpointStore } from '../../src/testing.js';
import { needService, portOpen } from '../helpers/services.js';

const PG_URL = 'postgres://postgres@127.0.0.1:5432/test';
const noPostgres = await needService('postgres on 127.0.0.1:5432', () => portOpen(5432));
const driver = new URL('./dlq-replay-driver.ts', import.meta.url).pathname;
const tmp = mkdtempSync(join(tmpdir(), 'sluice-dlq-replay-'));
const tables: string[] = [];
after(async () => {
  rmSync(tmp, { recursive: true, force: true });
  if (noPostgres || tables.length === 0) return;
  const c = new pg.Client(PG_URL);
  await c.connect();
  for (const t of tables) await c.query(`DROP TABLE IF EXISTS ${t}`);
  await c.end();
});

const N = 300;
/** Every 5th record (of both partitions) fails the first version of the pipeline: 60 dead letters. */
const isBad = (i: number) => i % 5 === 0;
const BAD = Array.from({ length: N }, (_, i) => i).filter(isBad).length;

type Row = { id: number; bad: boolean };
const parse = (raw: unknown) => JSON.parse(Buffer.from(raw as Buffer).toString('utf8')) as Row;
/** The pipeline before the fix: records marked bad throw (and are dead-lettered). */
const strict: Decoder<Row> = {
  name: 'strict',
  decode(raw) {
    const r = parse(raw);
    if (r.bad) throw new Error(`record ${r.id} is marked bad`);
    return r;
  },
};
/** After the fix: every record decodes. */
const fixed: Decoder<Row> = { name: 'fixed', decode: parse };

/** Record i goes to partition i % 2 at offset floor(i / 2); its original idempotency key. */
const keyOf = (i: number) => `dlq-replay/audit/in-${i % 2}@${Math.floor(i / 2)}`;

function openWithRecords(dir: string): Log {
  const log = Log.open(dir);
  log.createTopic('in', { partitions: 2 });
  for (const p of [0, 1]) {
    const records = [];
    for (let i = p; i < N; i += 2)
      records.push({ value: Buffer.from(JSON.stringify({ id: i, bad: isBad(i) })) });
    log.partition('in', p).append(records);
  }
  return log;
}

function runPipeline(log: Log, decoder: Decoder<Row>, checkpoints: MemoryCheckpointStore, table: string) {
  return pipeline('dlq-replay')
    .from(logSource({ log, topic: 'in', endWhen: 'caught-up' }))
    .decode(decoder)
    .to(action({ name: 'audit', payload: (r) => r, to: postgresActionSink({ url: PG_URL, table }) }))
    .run({ checkpoints, deadLetters: logDeadLetters(log, 'in.dlq') }).done;
}

async function keysIn(table: string): Promise<string[]> {
  const c = new pg.Client(PG_URL);
  await c.connect();
  try {
    const { rows } = await c.query<{ k: string }>(`SELECT idempotency_key AS k FROM ${table} ORDER BY 1`);
    return rows.map((r) => r.k);
  } finally {
    await c.end();
  }
}

const recordsIn = (log: Log) => log.partition('in', 0).highWatermark + log.partition('in', 1).highWatermark;

/**
 * The first pipeline run (dead-lettering BAD records), then replays killed after each step in
 * `kills` (one child process each), then two replays to the end, then the fixed pipeline.
 */
async function crashScenario(name: string, kills: string[]) {
  const dir = join(tmp, name);
  const table = `dlq_replay_${process.pid}_${name.replace(/\W/g, '_')}`;
  tables.push(table);
  const checkpoints = new MemoryCheckpointStore();
  let log = openWithRecords(dir);
  const first = await runPipeline(log, strict, checkpoints, table);
  assert.equal(first.counters.deadLetters, BAD);
  log.close();
  for (const k of kills) {
    const r = spawnSync(process.execPath, ['--import', 'tsx', driver, dir, 'in.dlq', k], {
      encoding: 'utf8',
    });
    assert.equal(
      r.signal,
      'SIGKILL',
      `${name}: the replay was to be killed after "${k}": ${r.stderr}${r.stdout}`,
    );
  }
  log = Log.open(dir);
  const rest = replayDeadLetters(log, 'in.dlq');
  const again = replayDeadLetters(log, 'in.dlq');
  assert.equal(again.replayed, 0, `${name}: a second replay appends nothing`);
  assert.equal(recordsIn(log), N + BAD, `${name}: each of the ${BAD} dead letters appended once`);
  await runPipeline(log, fixed, checkpoints, table);
  log.close();
  const keys = await keysIn(table);
  assert.deepEqual(keys, Array.from({ length: N }, (_, i) => keyOf(i)).sort(), `${name}: one row per record`);
  return rest;
}

describe('sluice dlq replay: each dead letter once, with its original id', { skip: noPostgres }, () => {
  // Every point a kill can fall on: after the intent, after one partition's append, after all
  // appends (before the final commit); and kills of a replay that found an earlier intent.
  it(`killed after appending to both partitions, before its commit; replayed again twice: ${N} rows, ${N + BAD} records`, async () => {
    const rest = await crashScenario('appended-2', ['appended#2']);
    assert.equal(rest.replayed, 0);
    assert.ok(
      rest.skipped.length === BAD && rest.skipped.every((s) => /already replayed/.test(s.why)),
      'the replay after the kill found everything the killed one had appended',
    );
  });

  it('killed three times in a row (intent, then each partition), then replayed: the same', async () => {
    const rest = await crashScenario('chain', ['intent', 'appended#1', 'appended#1']);
    assert.equal(rest.replayed, 0, 'the three killed runs had appended everything between them');
    assert.equal(rest.skipped.length, BAD);
  });

  it('a replayed record keeps its idempotency key: appended twice by hand, still one row; an unsigned record id is ignored', async () => {
    const dir = join(tmp, 'twice');
    const table = `dlq_replay_${process.pid}_twice`;
    tables.push(table);
    const checkpoints = new MemoryCheckpointStore();
    const log = openWithRecords(dir);
    await runPipeline(log, strict, checkpoints, table);
    const ends = [0, 1].map((p) => log.partition('in', p).highWatermark);
    assert.equal(replayDeadLetters(log, 'in.dlq').replayed, BAD);
    // Copy every replayed record once more, headers and all (as a second replay tool might).
    for (const p of [0, 1]) {
      const part = log.partition('in', p);
      const { records } = part.read(ends[p]!, 1 << 20);
      part.append(records.map((r) => ({ value: Buffer.from(r.value!), headers: r.headers })));
    }
    // Someone else's record claiming the id of record 1 without Sluice's signature.
    log.partition('in', 0).append([
      {
        value: Buffer.from(JSON.stringify({ id: 1, bad: false })),
        headers: [
          { key: 'sluice.record-id', value: Buffer.from('in-1@0') },
          { key: 'sluice.record-id.mac', value: Buffer.from('00'.repeat(32)) },
          { key: 'sluice.dlq.replayed-from', value: Buffer.from('in.dlq@0') },
        ],
      },
    ]);
    const forgedAt = log.partition('in', 0).highWatermark - 1;
    const s = await runPipeline(log, fixed, checkpoints, table);
    assert.equal(s.counters.duplicateActions, BAD, 'the second copies were duplicates');
    log.close();
    const keys = await keysIn(table);
    const want = [...Array.from({ length: N }, (_, i) => keyOf(i)), `dlq-replay/audit/in-0@${forgedAt}`];
    assert.deepEqual(keys, want.sort());
  });
});

describe('sluice dlq: only signed dead letters are replayed; terminal output is escaped', () => {
  const dir = join(tmp, 'forged');

  it('a hand-made or altered dead letter is refused with the reason, and nothing of it is appended', async () => {
    const log = Log.open(dir);
    log.createTopic('in', { partitions: 1 });
    log.partition('in', 0).append([{ value: Buffer.from('{"id":0}') }]);
    const sink = logDeadLetters(log, 'in.dlq');
    sink.write([
      {
        stage: 'decode',
        reason: 'bad JSON',
        original: Buffer.from('{oops'),
        topic: 'in',
        partition: 0,
        offset: 0,
        time: 1,
      },
    ]);
    const dlqPart = log.partition('in.dlq', 0);
    const genuine = dlqPart.read(0).records[0]!;
    const header = (key: string, value: string) => ({ key, value: Buffer.from(value) });
    dlqPart.append([
      // As anyone producing to the topic could: the headers Sluice writes, but no signature.
      {
        value: Buffer.from('{"id":666,"amount":1e9}'),
        headers: [
          header(DLQ_HEADERS.stage, 'decode'),
          header(DLQ_HEADERS.reason, 'x'),
          header(DLQ_HEADERS.source, 'in/0@0'),
          header(DLQ_HEADERS.time, new Date(0).toISOString()),
        ],
      },
      // A genuine dead letter with its value changed (the signature copied along).
      { value: Buffer.from('{"id":667,"amount":1e9}'), headers: genuine.headers.map((h) => ({ ...h })) },
    ]);
    sink.flush!();
    const report = replayDeadLetters(log, 'in.dlq');
    assert.equal(report.replayed, 1);
    assert.deepEqual(
      report.skipped.map((s) => s.offset),
      [1, 2],
    );
    assert.match(report.skipped[0]!.why, /^refused: no sluice\.dlq\.mac signature: not written by Sluice/);
    assert.match(report.skipped[1]!.why, /^refused: sluice\.dlq\.mac does not match/);
    assert.equal(log.partition('in', 0).highWatermark, 2, 'only the genuine dead letter went back');
    assert.equal(log.partition('in', 0).read(1).records[0]!.value!.toString(), '{oops');
    log.close();
  });

  it('the key: SLUICE_DLQ_KEY signs instead of dlq.key; a dead letter signed with another key is refused; a damaged dlq.key stops with what to do', async () => {
    const dir2 = join(tmp, 'keys');
    const log = Log.open(dir2);
    log.createTopic('in', { partitions: 1 });
    const letter = {
      stage: 'decode',
      reason: 'r',
      original: Buffer.from('x'),
      topic: 'in',
      partition: 0,
      offset: 0,
      time: 1,
    };
    process.env.SLUICE_DLQ_KEY = 'a-key-of-at-least-16-characters';
    try {
      logDeadLetters(log, 'in.dlq').write([letter]);
    } finally {
      delete process.env.SLUICE_DLQ_KEY;
    }
    logDeadLetters(log, 'in.dlq').write([letter]); // signed with dlq.key
    const report = replayDeadLetters(log, 'in.dlq');
    assert.equal(report.replayed, 1);
    assert.deepEqual(
      report.skipped.map((x) => x.offset),
      [0],
    );
    assert.match(report.skipped[0]!.why, /does not match.*another key \(SLUICE_DLQ_KEY or dlq\.key\)/);
    log.close();
    const short = Log.open(join(tmp, 'keys-short'));
    process.env.SLUICE_DLQ_KEY = 'short';
    try {
      assert.throws(() => logDeadLetters(short, 'in.dlq'), {
        code: 'SLUICE_DLQ_KEY_INVALID',
        message: /too short: give at least 16 characters/,
      });
    } finally {
      delete process.env.SLUICE_DLQ_KEY;
      short.close();
    }
    const dir3 = join(tmp, 'keys-damaged');
    Log.open(dir3).close();
    writeFileSync(join(dir3, 'dlq.key'), 'not hex\n');
    const damaged = Log.open(dir3);
    assert.throws(() => logDeadLetters(damaged, 'in.dlq'), {
      code: 'SLUICE_DLQ_KEY_INVALID',
      message: /dlq\.key is damaged \(expected 64 hex digits\); restore it, or remove it/,
    });
    damaged.close();
  });

  it('list, show and --json print control characters from headers and values escaped', async () => {
    const log = Log.open(dir);
    logDeadLetters(log, 'evil.dlq').write([
      {
        stage: 'decode\x1b[8m',
        reason: 'bad \x1b]0;owned\x07\x1b[2J\u009b31m\u202eevil\r',
        original: Buffer.from('v\x1b[31mred\ttab\nline'),
        topic: 'in\x1b[1m',
        partition: 0,
        offset: 1,
        time: 1,
      },
    ]);
    log.partition('evil.dlq', 0).flush();
    log.close();
    // eslint-disable-next-line no-control-regex -- looking for raw control characters
    const raw = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202e]/;
    for (const args of [['list'], ['list', '--json'], ['show', '0'], ['show', '0', '--json']]) {
      const out = await inProcess([...args, '--data', dir, '--topic', 'evil.dlq']);
      assert.doesNotMatch(out, raw, `sluice dlq ${args.join(' ')} printed a raw control character`);
      assert.match(out, /\\(x1b|u001b)\]0;owned\\(x07|u0007)/, `${args.join(' ')}: the escape shown escaped`);
    }
    const show = await inProcess(['show', '0', '--data', dir, '--topic', 'evil.dlq']);
    assert.match(show, /v\\x1b\[31mred\ttab\nline/, 'show keeps tabs and line breaks of the value');
  });
});

/** Runs `sluice dlq ARGS` in this process, capturing what it prints. */
async function inProcess(args: string[]): Promise<string> {
  let out = '';
  const write = process.stdout.write;
  process.stdout.write = ((chunk: string) => ((out += chunk), true)) as typeof process.stdout.write;
  try {
    assert.equal(await dlq(args), 0);
    return out;
  } finally {
    process.stdout.write = write;
  }
}
