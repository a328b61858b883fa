import type { PipelineMetrics } from './pipeline-metrics.js';
import {
  ObserveError,
  objectiveMet,
  validateRule,
  type AlertSink,
  type MetricSpec,
  type SloAlert,
  type SloOp,
  type SloRule,
} from './slo-rules.js';
import type { WindowedHistogram } from './windowed-histogram.js';

/** Where one rule stands for one pipeline. */
export interface SloStatus {
  name: string;
  pipeline: string;
  metric: string;
  op: SloOp;
  threshold: number;
  windowMs: number;
  /** 'no-data' until the metric has a value (e.g. no record finished yet). */
  state: 'ok' | 'firing' | 'no-data';
  value: number | null;
  /** Epoch ms of the last state change. */
  since: number;
  /** Times this rule fired for this pipeline. */
  fired: number;
}

export interface SloMonitorOptions {
  rules: readonly SloRule[];
  /** Receives each alert once when it fires and once when it resolves. */
  onAlert?: AlertSink;
  /** Writes one line per alert; default stderr; null for none. */
  log?: ((line: string) => void) | null;
}

interface Entry {
  rule: SloRule;
  spec: MetricSpec;
  status: SloStatus;
  /** Counter or gauge samples, one per evaluation, oldest first (at most one before the window). */
  samples: { at: number; a: number; b: number }[];
}

interface Memory {
  rss: number;
  heap: number;
}

/**
 * Evaluates SLO rules against pipeline metrics, about once per second (the caller's timer or
 * `Observer`'s): a breach fires one alert, clearing it sends one "resolved". Latency rules
 * read sliding HdrHistogram windows; rate, ratio and gauge rules keep one sample per evaluation.
 *
 * @example
 * const slo = new SloMonitor({ rules: [{ name: 'e2e-p99', metric: 'e2e_p99_ms', op: '<', threshold: 100, window: '1m' }], onAlert: (a) => console.log(a.state) });
 * setInterval(() => slo.evaluate([run.metrics]), 1000);
 */
export class SloMonitor {
  private readonly rules: { rule: SloRule; windowMs: number; spec: MetricSpec }[];
  private readonly entries = new Map<string, Entry>();
  private readonly log: ((line: string) => void) | null;

  constructor(private readonly opts: SloMonitorOptions) {
    const names = new Set<string>();
    this.rules = opts.rules.map((rule) => {
      if (names.has(rule.name)) throw new ObserveError(`two SLO rules are named "${rule.name}"`);
      names.add(rule.name);
      return { rule, ...validateRule(rule) };
    });
    this.log = opts.log === undefined ? (line) => process.stderr.write(line + '\n') : opts.log;
  }

  /** Checks every rule against every pipeline it applies to; `now` is epoch ms. */
  evaluate(pipelines: Iterable<PipelineMetrics>, now = Date.now()): SloStatus[] {
    let memory: Memory | undefined;
    const mem = () => (memory ??= { rss: process.memoryUsage.rss(), heap: process.memoryUsage().heapUsed });
    for (const m of pipelines) {
      for (const { rule, windowMs, spec } of this.rules) {
        if (rule.pipeline !== undefined && rule.pipeline !== m.pipeline) continue;
        const key = `${rule.name}\u0000${m.pipeline}`;
        let e = this.entries.get(key);
        if (!e) {
          const status: SloStatus = {
            ...{ name: rule.name, pipeline: m.pipeline, metric: rule.metric, op: rule.op },
            ...{ threshold: rule.threshold, windowMs, state: 'no-data', value: null, since: now, fired: 0 },
          };
          e = { rule, spec, status, samples: [] };
          this.entries.set(key, e);
        }
        const v = this.value(e, m, windowMs, now, mem);
        this.judge(e, v, now);
      }
    }
    return this.status();
  }

  /** The current state of every (rule, pipeline) pair evaluated so far. */
  status(): SloStatus[] {
    return [...this.entries.values()].map((e) => ({ ...e.status }));
  }

  private judge(e: Entry, v: number | undefined, now: number): void {
    const s = e.status;
    if (v === undefined || Number.isNaN(v)) return; // no data: keep the state, fire nothing
    s.value = v;
    const met = objectiveMet(s.op, v, s.threshold);
    if (s.state === 'no-data') {
      s.state = 'ok'; // first value: a breach fires just below
      s.since = now;
    }
    if (!met && s.state === 'ok') {
      s.state = 'firing';
      s.since = now;
      s.fired++;
      this.emit({ rule: e.rule, pipeline: s.pipeline, state: 'firing', value: v, at: now });
    } else if (met && s.state === 'firing') {
      s.state = 'ok';
      s.since = now;
      this.emit({ rule: e.rule, pipeline: s.pipeline, state: 'resolved', value: v, at: now });
    }
  }

  private emit(alert: SloAlert): void {
    const r = alert.rule;
    this.log?.(
      `[slo] ${alert.state === 'firing' ? 'FIRING' : 'resolved'} ${r.name} (pipeline ${alert.pipeline}): ` +
        `${r.metric} = ${+alert.value.toPrecision(4)}, objective ${r.op} ${r.threshold} over ${r.window ?? '1m'}`,
    );
    try {
      const p = this.opts.onAlert?.(alert);
      if (p) p.catch((err: unknown) => this.log?.(`[slo] alert sink failed: ${(err as Error).message}`));
    } catch (err) {
      this.log?.(`[slo] alert sink failed: ${(err as Error).message}`);
    }
  }

  private value(
    e: Entry,
    m: PipelineMetrics,
    windowMs: number,
    now: number,
    mem: () => Memory,
  ): number | undefined {
    const spec = e.spec;
    if (spec.kind === 'hist') {
      const series = histogramOf(m, spec.series, spec.stage);
      if (!series) return undefined;
      const h = series.window(windowMs).histogram();
      return h.count === 0 ? undefined : h.percentile(spec.q);
    }
    const c = m.counters;
    let a: number;
    let b = 0;
    if (spec.kind === 'ratio') {
      if (spec.stage === undefined) {
        a = c.deadLetters;
        b = c.processed + c.deadLetters;
      } else {
        a = m.deadLettersByStage.get(spec.stage) ?? 0;
        b = (m.stageNames().includes(spec.stage) ? m.stage(spec.stage).count : 0) + a;
      }
    } else if (spec.kind === 'mean') {
      if (spec.gauge === 'lag') a = m.lag;
      else if (spec.gauge === 'rss') a = mem().rss;
      else if (spec.gauge === 'heap') a = mem().heap;
      else {
        const q = m.queues.get(spec.stage!);
        if (!q) return undefined;
        a = q.depth();
      }
    } else if (spec.counter === 'done') a = c.processed + c.deadLetters;
    else if (spec.counter === 'dead') a = c.deadLetters;
    else a = [...m.lateRecords.values()].reduce((x, y) => x + y, 0);

    const s = e.samples;
    // Counters restored from a checkpoint, or a new run under the same name: start over.
    if (s.length > 0 && spec.kind !== 'mean' && (a < s[s.length - 1]!.a || b < s[s.length - 1]!.b))
      s.length = 0;
    s.push({ at: now, a, b });
    const from = now - windowMs;
    while (s.length > 1 && s[1]!.at <= from) s.shift();
    const first = s[0]!;
    const last = s[s.length - 1]!;
    if (spec.kind === 'mean') {
      const inWindow = first.at <= from && s.length > 1 ? s.slice(1) : s;
      return inWindow.reduce((x, y) => x + y.a, 0) / inWindow.length;
    }
    if (s.length < 2 || last.at <= first.at) return undefined;
    if (spec.kind === 'delta') return last.a - first.a;
    if (spec.kind === 'rate') return ((last.a - first.a) * 1000) / (last.at - first.at);
    const den = last.b - first.b;
    return den > 0 ? (last.a - first.a) / den : undefined;
  }
}

function histogramOf(
  m: PipelineMetrics,
  series: 'e2e' | 'event_time' | 'checkpoint' | 'stage',
  stage: string | undefined,
): WindowedHistogram | undefined {
  if (series === 'e2e') return m.e2e;
  if (series === 'event_time') return m.eventTime;
  if (series === 'checkpoint') return m.checkpointDuration;
  return m.stageNames().includes(stage!) ? m.stage(stage!) : undefined;
}
