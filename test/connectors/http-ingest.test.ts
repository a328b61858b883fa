import assert from 'node:assert/strict';
import { request } from 'node:http';
import { describe, it, type TestContext } from 'node:test';
import { HttpIngest, httpIngestSource, logDeadLetters, readDeadLetters } from '../../src/connectors/index.js';
import { Log } from '../../src/log/index.js';
import { json, pipeline, collect } from '../../src/stream/index.js';
import { tempDir } from '../integration/helpers.js';

const SCHEMA = { id: 'integer', amount: 'number' } as const;

/** POSTs raw bytes with node:http (fetch refuses some of the malformed requests tested here). */
function post(
  url: string,
  body: Buffer | string,
  headers: Record<string, string> = {},
  method = 'POST',
): Promise<{ status: number; body: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode!, body: JSON.parse(Buffer.concat(chunks).toString() || '{}') }),
      );
    });
    req.on('error', reject);
    req.end(body);
  });
}

const NDJSON = { 'content-type': 'application/x-ndjson', authorization: 'Bearer tok' };

async function start(t: TestContext, opts: Partial<Parameters<typeof HttpIngest.start>[0]> = {}) {
  const log = Log.open(tempDir(t));
  log.createTopic('tx', { partitions: 1 });
  const ingest = await HttpIngest.start({
    log,
    token: 'tok',
    maxBodyBytes: 64 * 1024,
    maxRecordBytes: 1024,
    ...opts,
  });
  t.after(async () => {
    await ingest.close();
    log.close();
  });
  return { log, ingest, url: `${ingest.url}ingest/tx` };
}

describe('HTTP ingest', () => {
  it('binds 127.0.0.1 and answers each bad request with a 4xx that says what to fix', async (t) => {
    const { ingest, url, log } = await start(t);
    assert.match(ingest.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
    const cases: [string, Promise<{ status: number; body: Record<string, unknown> }>, number, RegExp][] = [
      ['no token', post(url, '{}', { 'content-type': 'application/json' }), 401, /Bearer/],
      ['wrong token', post(url, '{}', { ...NDJSON, authorization: 'Bearer nope' }), 401, /Bearer/],
      ['GET', post(url, '', NDJSON, 'GET'), 405, /POST/],
      ['unknown topic', post(`${ingest.url}ingest/nope`, '{}', NDJSON), 404, /does not exist/],
      ['bad route', post(`${ingest.url}other`, '{}', NDJSON), 404, /\/ingest\/\{topic\}/],
      [
        'content type',
        post(url, '{}', { authorization: 'Bearer tok', 'content-type': 'text/csv' }),
        415,
        /application\/x-ndjson/,
      ],
      ['too large', post(url, Buffer.alloc(100 * 1024, 'a'), NDJSON), 413, /smaller batches/],
      ['empty', post(url, '\n\n', NDJSON), 400, /no records/],
      [
        'malformed JSON body',
        post(url, '{"id":', { ...NDJSON, 'content-type': 'application/json' }),
        400,
        /malformed JSON/,
      ],
      [
        'bad UTF-8 JSON body',
        post(url, Buffer.from([0x7b, 0xc3, 0x28, 0x7d]), { ...NDJSON, 'content-type': 'application/json' }),
        400,
        /UTF-8/,
      ],
    ];
    for (const [what, res, status, message] of cases) {
      const r = await res;
      assert.equal(r.status, status, what);
      assert.match(String(r.body.error), message, what);
      assert.match(String(r.body.code), /^SLUICE_INGEST_/, what);
    }
    assert.equal(log.partition('tx', 0).highWatermark, 0, 'nothing stored');
  });

  it('stores JSON and NDJSON records; the pipeline dead-letters every bad one with its reason', async (t) => {
    const dir = tempDir(t);
    const log = Log.open(dir);
    t.after(() => log.close());
    let url = '';
    let received = 0;
    const source = httpIngestSource({
      log,
      topic: 'tx',
      token: 'tok',
      maxRecordBytes: 4096,
      onListen: (u) => (url = `${u}ingest/tx`),
      endWhen: () => received >= 9,
    });
    const out = collect<{ id: number }>();
    const run = pipeline('ingest')
      .from(source)
      .decode(json(SCHEMA, { maxBytes: 1024 }))
      .to(out)
      .run({ deadLetters: logDeadLetters(log, 'tx.dlq') });
    while (!url) await new Promise((r) => setTimeout(r, 5));
    const one = await post(url, '{"id":1,"amount":2}', { ...NDJSON, 'content-type': 'application/json' });
    assert.equal(one.status, 200);
    assert.deepEqual([one.body.accepted, one.body.offsets], [1, [0, 0]]);
    const arr = await post(url, '[{"id":2,"amount":3},{"id":"x","amount":1}]', {
      ...NDJSON,
      'content-type': 'application/json; charset=utf-8',
    });
    assert.equal(arr.body.accepted, 2);
    const nd = await post(
      url,
      Buffer.concat([
        Buffer.from('{"id":4,"amount":1}\r\n'),
        Buffer.from('{"id":5,\n'), // malformed
        Buffer.from('{"amount":6}\n'), // missing id
        Buffer.from(`{"id":7,"amount":1,"pad":"${'x'.repeat(2000)}"}\n`), // over the decoder's 1 KiB
        Buffer.concat([Buffer.from('{"id":8,"amount":1,"n":"'), Buffer.from([0xff]), Buffer.from('"}\n')]), // bad UTF-8
        Buffer.from('{"id":9,"amount":9}'),
      ]),
      NDJSON,
    );
    assert.equal(nd.status, 200);
    assert.equal(nd.body.accepted, 6);
    received = 9;
    const s = await run.done;
    assert.deepEqual(
      out.values.map((v) => v.id).sort((a, b) => a - b),
      [1, 2, 4, 9],
    );
    assert.equal(s.counters.deadLetters, 5);
    const letters = readDeadLetters(log, 'tx.dlq');
    const reasons = letters.map((d) => d.reason);
    for (const r of [
      /field "id": expected integer, got string/,
      /malformed JSON/,
      /field "id" is missing/,
      /exceeds the 1024-byte limit/,
      /not valid UTF-8/,
    ])
      assert.ok(
        reasons.some((x) => r.test(x)),
        `a dead letter for ${r}: ${reasons.join(' | ')}`,
      );
    for (const d of letters) assert.match(d.source, /^tx\/0@\d+$/);
  });

  it('with a decoder, refuses bad records at the edge (422 or listed), dead-lettered with reasons', async (t) => {
    const dir = tempDir(t);
    const log = Log.open(dir);
    log.createTopic('tx', { partitions: 1 });
    const ingest = await HttpIngest.start({
      log,
      token: '',
      decoder: json(SCHEMA),
      deadLetters: logDeadLetters(log, 'tx.dlq'),
      maxRecordBytes: 100,
    });
    t.after(async () => {
      await ingest.close();
      log.close();
    });
    const url = `${ingest.url}ingest/tx`;
    const h = { 'content-type': 'application/x-ndjson' };
    const mixed = await post(
      url,
      `{"id":1,"amount":1}\n{"id":"2","amount":1}\n{"id":3,"amount":1,"pad":"${'x'.repeat(200)}"}\n`,
      h,
    );
    assert.equal(mixed.status, 200);
    assert.equal(mixed.body.accepted, 1);
    assert.deepEqual(
      (mixed.body.refused as { index: number; reason: string }[]).map((r) => r.index),
      [1, 2],
    );
    const bad = await post(url, '{"nope":1}', h);
    assert.equal(bad.status, 422);
    assert.match(String(bad.body.error), /field "id" is missing/);
    assert.equal(log.partition('tx', 0).highWatermark, 1);
    const letters = readDeadLetters(log, 'tx.dlq');
    assert.deepEqual(
      letters.map((d) => d.stage),
      ['ingest', 'ingest', 'ingest'],
    );
    assert.match(letters[1]!.reason, /exceeds the 100-byte limit/);
  });

  it('a body of many slices: refused records counted and listed across slices, the rest at consecutive offsets', async (t) => {
    const dir = tempDir(t);
    const log = Log.open(dir);
    log.createTopic('tx', { partitions: 1 });
    const ingest = await HttpIngest.start({
      log,
      token: '',
      decoder: json(SCHEMA),
      deadLetters: logDeadLetters(log, 'tx.dlq'),
    });
    t.after(async () => {
      await ingest.close();
      log.close();
    });
    // 20,000 records (5 slices of 4,096), every 7th one bad; a JSON array body the same.
    const recs = Array.from({ length: 20_000 }, (_, i) =>
      i % 7 === 3 ? `{"id":"x${i}"}` : `{"id":${i},"amount":1}`,
    );
    const bad = recs.filter((_, i) => i % 7 === 3).length;
    const url = `${ingest.url}ingest/tx`;
    const nd = await post(url, recs.join('\n'), { 'content-type': 'application/x-ndjson' });
    const arr = await post(url, `[${recs.join(',')}]`, { 'content-type': 'application/json' });
    for (const [r, first] of [
      [nd, 0],
      [arr, 20_000 - bad],
    ] as const) {
      assert.equal(r.status, 200);
      assert.equal(r.body.accepted, 20_000 - bad);
      assert.equal(r.body.refusedCount, bad);
      const listed = r.body.refused as { index: number }[];
      assert.equal(listed.length, 100, 'the first 100 listed');
      assert.deepEqual(
        listed.slice(0, 3).map((x) => x.index),
        [3, 10, 17],
      );
      assert.deepEqual(r.body.offsets, [first, first + 20_000 - bad - 1]);
    }
    assert.equal(readDeadLetters(log, 'tx.dlq').length, 2 * bad);
    const back = log.partition('tx', 0).read(0, 64 << 20).records;
    assert.equal(back.length, 2 * (20_000 - bad));
    assert.equal(back[4]!.value!.toString(), '{"id":5,"amount":1}', 'in order, bad ones left out');
  });
});
