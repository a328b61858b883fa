import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ObserveError,
  PipelineMetrics,
  SloMonitor,
  parseDuration,
  parseSloRule,
  type SloAlert,
  type SloRule,
} from '../../src/observe/index.js';

/** A pipeline's metrics, a monitor and a fake clock driving both (ticks and evaluations). */
function setup(rules: SloRule[]) {
  let now = 1_000_000;
  const m = new PipelineMetrics('p', () => now);
  const alerts: SloAlert[] = [];
  const lines: string[] = [];
  const slo = new SloMonitor({ rules, onAlert: (a) => void alerts.push(a), log: (l) => lines.push(l) });
  /** One second passes: the pipeline ticks, then the monitor evaluates. */
  const second = (lag = 0) => {
    now += 1000;
    m.tick(lag);
    return slo.evaluate([m], now);
  };
  return { m, alerts, lines, slo, second, now: () => now };
}

describe('SLO rules', () => {
  it('parse from the command-line form and validate once, with a message that says what to fix', () => {
    assert.deepEqual(parseSloRule('e2e-p99=e2e_p99_ms<100@1m'), {
      name: 'e2e-p99',
      metric: 'e2e_p99_ms',
      op: '<',
      threshold: 100,
      window: '1m',
    });
    assert.deepEqual(parseSloRule('lag <= 10_000'), {
      name: 'lag',
      metric: 'lag',
      op: '<=',
      threshold: 10000,
    });
    assert.equal(parseSloRule('error_ratio:infer<0.01@5m').metric, 'error_ratio:infer');
    assert.equal(parseDuration('1.5s'), 1500);
    assert.throws(() => parseSloRule('e2e_p99_ms ~ 3'), /must look like/);
    assert.throws(
      () => parseSloRule('p99<3'),
      (e: Error) => e instanceof ObserveError && /unknown SLO metric "p99"/.test(e.message),
    );
    assert.throws(() => parseSloRule('lag<3@2d'), /duration "2d"/);
    assert.throws(
      () => new SloMonitor({ rules: [{ name: 'x', metric: 'lag', op: '<', threshold: 1, window: 10 }] }),
      /window must be from 1s/,
    );
    assert.throws(
      () =>
        new SloMonitor({
          rules: [
            { name: 'x', metric: 'lag', op: '<', threshold: 1 },
            { name: 'x', metric: 'lag', op: '<', threshold: 2 },
          ],
        }),
      /two SLO rules are named "x"/,
    );
  });

  it('fires once on a latency breach and resolves once when the window no longer holds it', () => {
    const rule: SloRule = { name: 'e2e-p99', metric: 'e2e_p99_ms', op: '<', threshold: 100, window: '10s' };
    const { m, alerts, lines, second, now } = setup([rule]);
    assert.equal(second()[0]!.state, 'no-data', 'nothing finished yet: no verdict');
    m.e2e.recordMany(20, 1000);
    assert.equal(second()[0]!.state, 'ok');
    m.e2e.recordMany(250, 100); // p99 of the window jumps above 100 ms
    let st = second()[0]!;
    assert.equal(st.state, 'firing');
    assert.equal(alerts.length, 1);
    assert.deepEqual(
      { ...alerts[0]!, value: Math.round(alerts[0]!.value) },
      {
        rule,
        pipeline: 'p',
        state: 'firing',
        value: 250,
        at: now(),
      },
    );
    for (let i = 0; i < 5; i++) {
      m.e2e.recordMany(20, 1000);
      st = second()[0]!;
    }
    assert.equal(st.state, 'firing', 'still in the window: no flapping, no second alert');
    assert.equal(alerts.length, 1);
    for (let i = 0; i < 12; i++) {
      m.e2e.recordMany(20, 1000);
      st = second()[0]!;
    }
    assert.equal(st.state, 'ok');
    assert.deepEqual(
      alerts.map((a) => a.state),
      ['firing', 'resolved'],
    );
    assert.equal(alerts[1]!.value, 20);
    assert.equal(st.fired, 1);
    assert.match(
      lines[0]!,
      /^\[slo\] FIRING e2e-p99 \(pipeline p\): e2e_p99_ms = 250, objective < 100 over 10s$/,
    );
    assert.match(lines[1]!, /^\[slo\] resolved e2e-p99/);
  });

  it('averages gauges over the window (lag) and computes ratios from counter deltas', () => {
    const { m, alerts, second } = setup([
      { name: 'lag', metric: 'lag', op: '<', threshold: 10_000, window: '5s' },
      { name: 'infer-errors', metric: 'error_ratio:infer', op: '<', threshold: 0.01, window: '5s' },
      { name: 'eps', metric: 'throughput_eps', op: '>=', threshold: 500, window: '5s' },
    ]);
    m.stage('infer');
    const work = (ok: number, dead: number) => {
      m.stage('infer').recordMany(1, ok);
      m.countDeadLetters(Array.from({ length: dead }, () => ({ stage: 'infer' })));
      m.counters.processed += ok;
      m.counters.deadLetters += dead;
    };
    second(0);
    for (let i = 0; i < 3; i++) {
      work(1000, 0);
      second(30_000);
    }
    assert.deepEqual(
      alerts.map((a) => `${a.rule.name}:${a.state}`),
      ['lag:firing'],
    );
    work(900, 100); // 10% of infer's records fail
    second(0);
    assert.ok(alerts.some((a) => a.rule.name === 'infer-errors' && a.state === 'firing'));
    for (let i = 0; i < 7; i++) {
      work(1000, 0);
      second(0);
    }
    for (let i = 0; i < 7; i++) second(0); // no records: throughput drops below 500/s
    assert.deepEqual(
      alerts.map((a) => `${a.rule.name}:${a.state}`),
      ['lag:firing', 'infer-errors:firing', 'lag:resolved', 'infer-errors:resolved', 'eps:firing'],
    );
  });

  it('applies a rule to one pipeline when it names one, and survives a failing alert sink', async () => {
    let now = 0;
    const a = new PipelineMetrics('a', () => now);
    const b = new PipelineMetrics('b', () => now);
    const lines: string[] = [];
    const slo = new SloMonitor({
      rules: [{ name: 'lag-b', metric: 'lag', op: '<', threshold: 1, pipeline: 'b' }],
      onAlert: async () => {
        throw new Error('pager down');
      },
      log: (l) => lines.push(l),
    });
    now = 1000;
    a.tick(5);
    b.tick(5);
    const st = slo.evaluate([a, b], now);
    assert.deepEqual(
      st.map((s) => `${s.pipeline}:${s.state}`),
      ['b:firing'],
    );
    await new Promise((r) => setImmediate(r));
    assert.match(lines.at(-1)!, /alert sink failed: pager down/);
  });
});
