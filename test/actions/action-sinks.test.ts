import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  ACTION_HEADERS,
  ActionLedger,
  action,
  actionSinkFromUrl,
  alert,
  fileActionSink,
  topicActionSink,
  type ActionEntry,
  type ActionSink,
} from '../../src/actions/index.js';
import { Log } from '../../src/log/index.js';
import { MemoryDeadLetters, fromArray, pipeline } from '../../src/stream/index.js';
import { tempDir } from '../integration/helpers.js';

const entry = (i: number, recordKey?: string): ActionEntry => ({
  key: `p/a/t-0@${i}`,
  action: 'a',
  payload: { i },
  time: 0,
  recordKey,
  eventTime: i,
});

/** A sink that refuses odd ids with a 4xx-like reason and records the rest. */
function picky(): ActionSink & { got: string[] } {
  const got: string[] = [];
  return {
    name: 'picky',
    dedupes: true,
    got,
    async deliver(entries) {
      const rejected = entries
        .filter((e) => (e.payload as { id: number }).id % 2 === 1)
        .map((e) => ({ entry: e, reason: 'HTTP 400: odd' }));
      const ok = entries.filter((e) => (e.payload as { id: number }).id % 2 === 0);
      got.push(...ok.map((e) => e.key));
      return { done: ok.length, duplicates: 0, rejected };
    },
  };
}

describe('action sinks', () => {
  it('sends refused actions to the dead letters with the reason; the ledger records only the rest', async (t) => {
    const ledger = ActionLedger.open(join(tempDir(t), 'l.jsonl'));
    const dlq = new MemoryDeadLetters();
    const sink = picky();
    const s = await pipeline('p')
      .from(
        fromArray(
          Array.from({ length: 10 }, (_, id) => ({ id })),
          { topic: 't' },
        ),
      )
      .to(action({ name: 'a', ledger, payload: (v) => v, to: sink, deadLetters: dlq }))
      .run().done;
    assert.equal(s.counters.actions, 5);
    assert.equal(ledger.size, 5);
    assert.deepEqual(
      dlq.items.map((d) => [d.stage, d.reason, d.offset]),
      [1, 3, 5, 7, 9].map((o) => ['action:a', 'HTTP 400: odd', o]),
    );
    ledger.close();
  });

  it('without a dead-letter sink a refusal fails the pipeline with SLUICE_ACTION_REJECTED', async () => {
    const run = pipeline('p')
      .from(fromArray([{ id: 1 }], { topic: 't' }))
      .to(action({ name: 'a', payload: (v) => v, to: picky() }))
      .run();
    await assert.rejects(run.done, {
      code: 'SLUICE_ACTION_REJECTED',
      message: /refused 1 action.*deadLetters/,
    });
  });

  it('asks for a ledger when the sink cannot dedupe by itself', () => {
    const plain: ActionSink = {
      name: 'plain',
      dedupes: false,
      deliver: async () => ({ done: 0, duplicates: 0, rejected: [] }),
    };
    assert.throws(
      () => action({ name: 'a', payload: (v) => v, to: plain }),
      /cannot deduplicate by itself; give the action a ledger/,
    );
    assert.throws(() => action({ name: 'a', payload: (v) => v }), /needs a ledger .* or a sink/);
  });

  it('topicActionSink: keyed records with the idempotency key header; a reopened sink dedupes a replay', async (t) => {
    const dir = tempDir(t);
    let log = Log.open(dir);
    let sink = topicActionSink({ log, topic: 'alerts', partitions: 2 });
    await sink.open!({ pipeline: 'p' });
    assert.deepEqual(await sink.deliver([entry(1, 'card-1'), entry(2, 'card-2'), entry(3, 'card-1')]), {
      done: 3,
      duplicates: 0,
      rejected: [],
    });
    sink.flush!();
    log.close();
    log = Log.open(dir); // a restart: the keys come back from the topic itself
    t.after(() => log.close());
    sink = topicActionSink({ log, topic: 'alerts' });
    await sink.open!({ pipeline: 'p' });
    assert.deepEqual(await sink.deliver([entry(2, 'card-2'), entry(3, 'card-1'), entry(4, 'card-9')]), {
      done: 1,
      duplicates: 2,
      rejected: [],
    });
    const rows: [number, string, string][] = [];
    for (let p = 0; p < 2; p++) {
      for (const r of log.partition('alerts', p).read(0).records)
        rows.push([
          p,
          r.key!.toString(),
          r.headers.find((h) => h.key === ACTION_HEADERS.key)!.value!.toString(),
        ]);
    }
    assert.equal(rows.length, 4);
    const partOf = new Map(rows.map(([p, k]) => [k, p]));
    assert.equal(rows.filter(([, k]) => k === 'card-1').length, 2);
    assert.ok(
      rows.filter(([, k]) => k === 'card-1').every(([p]) => p === partOf.get('card-1')),
      'one key, one partition',
    );
  });

  it('fileActionSink writes ledger lines once per key, across reopenings', async (t) => {
    const path = join(tempDir(t), 'out', 'alerts.jsonl');
    for (let round = 0; round < 2; round++) {
      const sink = actionSinkFromUrl(`file:${path}`);
      await sink.open!({ pipeline: 'p' });
      await sink.deliver([entry(1), entry(2 + round)]);
      await sink.flush!();
      await sink.close!();
    }
    const keys = readFileSync(path, 'utf8')
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { key: string }).key);
    assert.deepEqual(keys, ['p/a/t-0@1', 'p/a/t-0@2', 'p/a/t-0@3']);
  });

  it('actionSinkFromUrl knows postgres, http(s), kafka and file URLs, and says which when it does not', () => {
    assert.match(
      actionSinkFromUrl('postgres://u@h:5432/db?table=alerts').name,
      /^postgres:h:5432\/db\/alerts$/,
    );
    assert.equal(actionSinkFromUrl('postgresql://u@h/db').name, 'postgres:h:5432/db/sluice_actions');
    assert.equal(
      actionSinkFromUrl('https://hooks.example.com/a?x=1', { webhook: { secret: 's3' } }).name,
      'webhook:https://hooks.example.com/a',
    );
    assert.equal(actionSinkFromUrl('kafka://h1:9092,h2/alerts').name, 'kafka:alerts');
    assert.equal(fileActionSink({ path: '/x.jsonl' }).name, 'file:/x.jsonl');
    assert.equal(actionSinkFromUrl('file:rel/a.jsonl').name, `file:${join(process.cwd(), 'rel/a.jsonl')}`);
    for (const bad of ['smtp://x', 'nothing', 'kafka://h:9092', 'file:'])
      assert.throws(
        () => actionSinkFromUrl(bad),
        { code: 'SLUICE_SINK_URL', message: /use one of postgres:\/\//, name: 'ActionError' },
        bad,
      );
  });

  it('alert: webhook-shaped payloads, rate limited per key in event time, the same after a restart', async (t) => {
    const path = join(tempDir(t), 'alerts.jsonl');
    // Card 1 fires every 10 s of event time for 5 minutes; card 2 twice, far apart.
    const events = [
      ...Array.from({ length: 30 }, (_, i) => ({ card: 1, ts: i * 10_000, score: 0.99 })),
      { card: 2, ts: 0, score: 0.97 },
      { card: 2, ts: 200_000, score: 0.98 },
    ].sort((a, b) => a.ts - b.ts);
    const collected: ActionEntry[] = [];
    const sink: ActionSink = {
      name: 'hook',
      dedupes: true,
      deliver: async (e) => (collected.push(...e), { done: e.length, duplicates: 0, rejected: [] }),
    };
    const runOnce = async (upTo: number) => {
      const ledger = ActionLedger.open(path);
      const a = alert<(typeof events)[number]>({
        name: 'fraud',
        ledger,
        to: sink,
        severity: (e) => (e.score > 0.98 ? 'critical' : 'warning'),
        key: (e) => `card-${e.card}`,
        summary: (e) => `card ${e.card} scored ${e.score}`,
        rateLimit: { max: 2, perMs: 60_000 },
      });
      await pipeline('p')
        .from(fromArray(events.slice(0, upTo), { topic: 'tx', eventTime: (e) => e.ts }))
        .to(a)
        .run().done;
      const out = { digest: ledger.digest(), size: ledger.size, suppressed: a.suppressed() };
      ledger.close();
      return out;
    };
    const once = await runOnce(events.length);
    // card 1: 2 per minute over 5 minutes (0, 10 s, 60 s, 70 s, ...); card 2: both.
    assert.equal(once.size, 10 + 2);
    assert.deepEqual(Object.keys(collected[0]!.payload as object), [
      'alert',
      'severity',
      'key',
      'summary',
      'event_time',
    ]);
    assert.equal(
      (
        collected.find((c) => (c.payload as { key: string }).key === 'card-2')!.payload as {
          severity: string;
        }
      ).severity,
      'warning',
    );
    // A crash half-way and a restart replaying from the start: same alerts, none twice.
    const { rmSync } = await import('node:fs');
    rmSync(path);
    collected.length = 0;
    await runOnce(15);
    const resumed = await runOnce(events.length);
    assert.equal(resumed.digest, once.digest);
    assert.equal(new Set(collected.map((c) => c.key)).size, collected.length, 'no alert sent twice');
  });
});
