// Where a scaled app is split, and the pipelines it refuses with a message that says what to do.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { count, days, json, lookback, valueState } from '../../src/index.js';
import { collect } from '../../src/testing.js';
import { planApp, scaledApp } from '../../src/scale.js';

const ctx = { brokers: ['127.0.0.1:9092'], group: 'g', member: 'm' };
const schema = { user: 'integer', ts: 'integer' } as const;
const perUser = lookback<{ user: number }>({
  key: (e) => e.user,
  windows: [days(1)],
  aggregate: { n: count() },
});

describe('planApp', () => {
  it('splits at the keyBy before the first stateful stage', () => {
    const plan = planApp(
      scaledApp({
        name: 'a',
        input: 'in',
        build: (s) =>
          s
            .decode(json(schema))
            .filter((e) => e.user > 0)
            .keyBy((e) => e.user)
            .features({ u: perUser })
            .map((e) => e.features[0])
            .to(collect()),
      }),
      ctx,
    );
    assert.deepEqual(
      plan.front.map((s) => s.name),
      ['decode', 'filter', 'keyBy'],
    );
    assert.deepEqual(
      plan.back!.map((s) => s.name),
      ['features', 'map'],
    );
  });

  it('keeps a stateless app whole, with its own sink', () => {
    const sink = collect();
    const plan = planApp(
      scaledApp({ name: 'a', input: 'in', build: (s) => s.decode(json(schema)).to(sink) }),
      ctx,
    );
    assert.equal(plan.back, undefined);
    assert.equal(plan.sink, sink);
  });

  it('refuses state before any keyBy, and a second repartition before more state', () => {
    assert.throws(
      () =>
        planApp(
          scaledApp({
            name: 'a',
            input: 'in',
            build: (s) => s.decode(json(schema)).features({ u: perUser }).to(collect()),
          }),
          ctx,
        ),
      /keeps state but no \.keyBy\(\) comes before it/,
    );
    assert.throws(
      () =>
        planApp(
          scaledApp({
            name: 'a',
            input: 'in',
            build: (s) =>
              s
                .decode(json(schema))
                .keyBy((e) => e.user)
                .features({ u: perUser })
                .keyBy((e) => e.ts)
                .withState({ n: valueState<number>() }, (e) => e)
                .to(collect()),
          }),
          ctx,
        ),
      /one repartition per scaled app/,
    );
  });
});
