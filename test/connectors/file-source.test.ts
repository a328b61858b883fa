import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileSource } from '../../src/connectors/index.js';
import { MemoryCheckpointStore, json, pipeline, type Envelope, type Sink } from '../../src/stream/index.js';
import { tempDir } from '../integration/helpers.js';

const SCHEMA = { id: 'integer', amount: 'number', note: 'string?' } as const;
type Row = { id: number; amount: number };

function capture<T>(): Sink<T> & { got: Envelope<T>[] } {
  const got: Envelope<T>[] = [];
  return { name: 'capture', got, write: (records) => void got.push(...records.map((r) => ({ ...r }))) };
}

describe('fileSource', () => {
  it('replays NDJSON with event times; every bad line goes to the dead letters with its reason', async (t) => {
    const path = join(tempDir(t), 'tx.ndjson');
    const big = JSON.stringify({ id: 9, amount: 1, note: 'x'.repeat(2000) });
    writeFileSync(
      path,
      Buffer.concat([
        Buffer.from('{"id":1,"amount":2.5,"ts":1700000000}\n'),
        Buffer.from('{"id":2,"amount":\n'), // malformed JSON
        Buffer.from('{"id":3,"amount":"12,50"}\r\n'), // wrong type, CRLF
        Buffer.from('{"amount":4}\n'), // missing field
        Buffer.from(big + '\n'), // oversize
        Buffer.from('{"id":6,"amount":1,"note":"'),
        Buffer.from([0xc3, 0x28]),
        Buffer.from('"}\n'), // invalid UTF-8
        Buffer.from('\n{"id":7,"amount":7,"ts":1700000060}'), // blank line, no final newline
      ]),
    );
    const out = capture<Row>();
    const run = pipeline('file')
      .from(fileSource({ path, eventTime: 'ts', timeUnit: 's' }))
      .decode(json(SCHEMA, { maxBytes: 1024 }))
      .to(out)
      .run();
    const s = await run.done;
    assert.equal(s.counters.in, 7);
    assert.deepEqual(
      out.got.map((e) => [e.value.id, e.eventTime, e.offset]),
      [
        [1, 1_700_000_000_000, 0],
        [7, 1_700_000_060_000, 6],
      ],
    );
    const reasons = run.deadLetters!.items.map((d) => [d.offset, d.stage, d.reason]);
    assert.equal(reasons.length, 5);
    for (const [, stage] of reasons) assert.equal(stage, 'decode');
    assert.match(String(reasons[0]![2]), /malformed JSON/);
    assert.match(String(reasons[1]![2]), /field "amount": expected number, got string/);
    assert.match(String(reasons[2]![2]), /field "id" is missing/);
    assert.match(String(reasons[3]![2]), /exceeds the 1024-byte limit/);
    assert.match(String(reasons[4]![2]), /not valid UTF-8/);
    assert.deepEqual(
      run.deadLetters!.items[0]!.original,
      Buffer.from('{"id":2,"amount":'),
      'the original bytes are kept',
    );
  });

  it('replays CSV as JSON records typed by the schema; bad rows are dead-lettered with reasons', async (t) => {
    const path = join(tempDir(t), 'tx.csv');
    writeFileSync(
      path,
      Buffer.concat([
        Buffer.from('\uFEFFid,amount,note,ts\n'),
        Buffer.from('1,2.5,"hello, ""world""",2024-01-01T00:00:00Z\n'),
        Buffer.from('2,abc,,2024-01-01T00:00:01Z\n'), // wrong type
        Buffer.from('3,,x,2024-01-01T00:00:02Z\n'), // missing amount
        Buffer.from('4,1,"two\nlines",2024-01-01T00:00:03Z\n'), // quoted newline
        Buffer.from('5,1,x,y,z\n'), // too many cells
        Buffer.from('6,1,"open\n'), // quote never closed
      ]),
    );
    const out = capture<Row & { note?: string }>();
    const run = pipeline('csv')
      .from(fileSource({ path, schema: SCHEMA, eventTime: 'ts' }))
      .decode(json(SCHEMA))
      .to(out)
      .run();
    await run.done;
    assert.deepEqual(
      out.got.map((e) => [e.value.id, e.value.amount, e.value.note, e.eventTime]),
      [
        [1, 2.5, 'hello, "world"', Date.parse('2024-01-01T00:00:00Z')],
        [4, 1, 'two\nlines', Date.parse('2024-01-01T00:00:03Z')],
      ],
    );
    const reasons = run.deadLetters!.items.map((d) => d.reason);
    assert.equal(reasons.length, 4);
    assert.match(reasons[0]!, /field "amount": expected number, got string "abc"/);
    assert.match(reasons[1]!, /field "amount" is missing/);
    assert.match(reasons[2]!, /malformed JSON/);
    assert.match(reasons[3]!, /malformed JSON/);
  });

  it('paces to the given rate and resumes from a checkpoint without repeating a record', async (t) => {
    const path = join(tempDir(t), 'events.ndjson');
    writeFileSync(
      path,
      Array.from({ length: 400 }, (_, i) => JSON.stringify({ id: i, amount: i })).join('\n') + '\n',
    );
    const store = new MemoryCheckpointStore();
    const first = capture<Row>();
    const began = performance.now();
    const run = pipeline('paced')
      .from(fileSource({ path, rate: 1000 }))
      .decode(json(SCHEMA))
      .to(first)
      .run({ checkpoints: store, checkpointIntervalMs: 20, batchSize: 32 });
    await new Promise((r) => setTimeout(r, 150));
    await run.stop();
    const elapsed = performance.now() - began;
    assert.ok(first.got.length > 0 && first.got.length < 400, `stopped mid-file at ${first.got.length}`);
    assert.ok(
      first.got.length <= (elapsed / 1000) * 1000 + 32,
      `no faster than 1000/s: ${first.got.length} in ${elapsed} ms`,
    );
    const rest = capture<Row>();
    const again = await pipeline('paced')
      .from(fileSource({ path }))
      .decode(json(SCHEMA))
      .to(rest)
      .run({ checkpoints: store }).done;
    assert.equal(again.resumed, true);
    const ids = [...first.got, ...rest.got].map((e) => e.value.id);
    assert.deepEqual(
      ids,
      Array.from({ length: 400 }, (_, i) => i),
    );
  });

  it('says what to fix when the file is missing', async () => {
    const run = pipeline('missing')
      .from(fileSource({ path: '/nonexistent/x.ndjson' }))
      .to(capture())
      .run();
    await assert.rejects(run.done, { code: 'SLUICE_SOURCE_UNAVAILABLE', message: /does not exist/ });
  });
});

describe('CSV cells for nested schema fields', () => {
  it('parses JSON cells for arrays and nested objects, and leaves unparseable ones for the decoder', async () => {
    const { csvValue } = await import('../../src/connectors/csv.js');
    assert.deepEqual(csvValue('[1,2.5]', 'number[]'), [1, 2.5]);
    assert.deepEqual(csvValue('{"city":"Oslo"}', { city: 'string' }), { city: 'Oslo' });
    assert.deepEqual(csvValue('[{"sku":"a"}]', [{ sku: 'string' }]), [{ sku: 'a' }]);
    assert.equal(csvValue('not json', 'string[]?'), 'not json');
    assert.equal(csvValue('7', 'integer?'), 7);
  });
});
