// One idempotency-key format, `pipeline/action/origin-partition@position`, for records read from a
// source and for records a stage made (window results, joined pairs, a processor's outputs),
// as docs/actions.md documents it.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ActionLedger, action } from '../../src/actions/index.js';
import { count, fromArray, pipeline, tumbling, valueState } from '../../src/stream/index.js';

const tmp = mkdtempSync(join(tmpdir(), 'sluice-idem-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

interface Click {
  user: string;
  t: number;
}
const clicks: Click[] = [
  { user: 'u1', t: 1000 },
  { user: 'u2', t: 1500 },
  { user: 'u1', t: 61_000 },
];

/** The keys an action on `build`'s output writes to its ledger. */
async function ledgerKeys(
  name: string,
  build: (actionSink: ReturnType<typeof action<unknown>>) => Promise<unknown>,
) {
  const path = join(tmp, `${name}.jsonl`);
  const ledger = ActionLedger.open(path);
  await build(action({ name: 'a', ledger, payload: (v: unknown) => v }));
  ledger.close();
  return readFileSync(path, 'utf8')
    .trim()
    .split('\n')
    .map((l) => (JSON.parse(l) as { key: string }).key);
}

describe('idempotency keys: one format for every record', () => {
  it('a source record: pipeline/action/topic-partition@offset', async () => {
    const keys = await ledgerKeys(
      'source',
      (sink) =>
        pipeline('p')
          .from(fromArray(clicks, { topic: 'clicks' }))
          .to(sink)
          .run().done,
    );
    assert.deepEqual(keys, ['p/a/clicks-0@0', 'p/a/clicks-0@1', 'p/a/clicks-0@2']);
  });

  it('a window result: pipeline/action/stage-key@windowStart, #n for updates', async () => {
    const perMinute = (emit: 'close' | 'update') => (sink: ReturnType<typeof action<unknown>>) =>
      pipeline('p')
        .from(fromArray(clicks, { topic: 'clicks' }))
        .eventTime((c) => c.t)
        .keyBy((c) => c.user)
        .window(tumbling({ size: 60_000 }), { name: 'perMinute' })
        .aggregate({ n: count() }, { emit })
        .to(sink)
        .run().done;
    assert.deepEqual(await ledgerKeys('close', perMinute('close')), [
      'p/a/perMinute-u1@0',
      'p/a/perMinute-u2@0',
      'p/a/perMinute-u1@60000',
    ]);
    assert.deepEqual(await ledgerKeys('update', perMinute('update')), [
      'p/a/perMinute-u1@0#1',
      'p/a/perMinute-u2@0#1',
      'p/a/perMinute-u1@60000#1',
    ]);
  });

  it("a processor's further outputs: stage-key@inputId#i (the first keeps the input's id)", async () => {
    const keys = await ledgerKeys(
      'process',
      (sink) =>
        pipeline('p')
          .from(fromArray(clicks.slice(0, 1), { topic: 'clicks' }))
          .keyBy((c) => c.user)
          .process({ name: 'twice', state: { n: valueState<number>() }, onRecord: (c) => [c.t, c.t + 1] })
          .to(sink)
          .run().done,
    );
    assert.deepEqual(keys, ['p/a/clicks-0@0', 'p/a/twice-u1@clicks-0@0#1']);
  });

  it('docs/actions.md documents the format with these examples', () => {
    const doc = readFileSync(new URL('../../docs/actions.md', import.meta.url), 'utf8');
    assert.match(doc, /`pipeline\/action\/origin-partition@position`/);
    for (const shape of [
      '`topic-partition@offset`',
      '`stage-key@windowStart`',
      '`stage-key@windowStart#n`',
      '`stage-key@inputId#i`',
      '`stage-key@timer:time`',
    ])
      assert.ok(doc.includes(shape), shape);
  });
});
