import { SluiceError } from '../core/errors.js';

/** Comparison an SLO objective holds to: `value op threshold` is the healthy state. */
export type SloOp = '<' | '<=' | '>' | '>=';

/**
 * A service-level objective on a pipeline metric, checked over a sliding window.
 *
 * Metrics: `e2e_{p50,p90,p99,p999,max}_ms` (log append → action done), `event_time_<q>_ms`
 * (event time → done), `checkpoint_<q>_ms`, `stage_<q>_ms:<stage>`, `throughput_eps`,
 * `error_ratio` (dead letters / finished), `error_ratio:<stage>` (that stage's dead letters /
 * records it saw), `dead_letters`, `late_records` (counts in the window), `lag`,
 * `queue_depth:<stage>`, `rss_bytes`, `heap_used_bytes` (means over the window).
 *
 * @example
 * const rule: SloRule = { name: 'e2e-p99', metric: 'e2e_p99_ms', op: '<', threshold: 100, window: '1m' };
 */
export interface SloRule {
  name: string;
  metric: string;
  op: SloOp;
  threshold: number;
  /** '30s', '1m', '5m', '1h' or milliseconds; default '1m'. */
  window?: string | number;
  /** Only this pipeline; default: every observed pipeline. */
  pipeline?: string;
}

/** What an alert sink receives: once when a rule starts failing, once when it clears. */
export interface SloAlert {
  rule: SloRule;
  pipeline: string;
  state: 'firing' | 'resolved';
  value: number;
  /** Epoch ms. */
  at: number;
}

/**
 * Receives SLO alerts (same shape as an action callback: one call per alert).
 *
 * @example
 * const onAlert: AlertSink = ({ rule, pipeline, state, value }) => console.log(rule.name, pipeline, state, value);
 */
export type AlertSink = (alert: SloAlert) => void | Promise<void>;

/**
 * An invalid observation option (SLO rule, dashboard option); the message says what to fix.
 *
 * @example
 * try { parseSloRule(flag) } catch (e) { if (e instanceof ObserveError) usage(e.message) }
 */
export class ObserveError extends SluiceError {
  declare readonly code: 'SLUICE_OBSERVE_INVALID_OPTION';
  constructor(message: string) {
    super('SLUICE_OBSERVE_INVALID_OPTION', message);
    this.name = 'ObserveError';
  }
}

/** How a metric is computed from the pipeline's aggregates. */
export type MetricSpec =
  | { kind: 'hist'; series: 'e2e' | 'event_time' | 'checkpoint' | 'stage'; q: number; stage?: string }
  | { kind: 'rate' | 'delta'; counter: 'done' | 'dead' | 'late' }
  | { kind: 'ratio'; stage?: string }
  | { kind: 'mean'; gauge: 'lag' | 'queue_depth' | 'rss' | 'heap'; stage?: string };

const QUANTILES: Record<string, number> = { p50: 50, p90: 90, p99: 99, p999: 99.9, max: 100 };
const OPS: readonly SloOp[] = ['<', '<=', '>', '>='];

/** Parses a metric name of the SLO vocabulary (see `SloRule`). */
export function parseMetric(metric: string): MetricSpec {
  const h = /^(e2e|event_time|checkpoint|stage)_(p50|p90|p99|p999|max)_ms(?::(.+))?$/.exec(metric);
  if (h && (h[1] === 'stage') === (h[3] !== undefined))
    return { kind: 'hist', series: h[1] as 'e2e', q: QUANTILES[h[2]!]!, stage: h[3] };
  const [base, stage] = metric.split(/:(.*)/s) as [string, string | undefined];
  if (stage === undefined) {
    if (base === 'throughput_eps') return { kind: 'rate', counter: 'done' };
    if (base === 'dead_letters') return { kind: 'delta', counter: 'dead' };
    if (base === 'late_records') return { kind: 'delta', counter: 'late' };
    if (base === 'error_ratio') return { kind: 'ratio' };
    if (base === 'lag') return { kind: 'mean', gauge: 'lag' };
    if (base === 'rss_bytes') return { kind: 'mean', gauge: 'rss' };
    if (base === 'heap_used_bytes') return { kind: 'mean', gauge: 'heap' };
  } else if (stage !== '') {
    if (base === 'error_ratio') return { kind: 'ratio', stage };
    if (base === 'queue_depth') return { kind: 'mean', gauge: 'queue_depth', stage };
  }
  throw new ObserveError(
    `unknown SLO metric "${metric}": use e2e_p99_ms, event_time_p99_ms, stage_p99_ms:<stage>, checkpoint_p99_ms (p50/p90/p99/p999/max), throughput_eps, error_ratio[:<stage>], dead_letters, late_records, lag, queue_depth:<stage>, rss_bytes or heap_used_bytes`,
  );
}

/**
 * Milliseconds of a duration: a number of ms, or '500ms', '30s', '1m', '2h'.
 *
 * @example
 * parseDuration('1m'); // 60000
 */
export function parseDuration(d: string | number): number {
  if (typeof d === 'number') return d;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(d.trim());
  if (!m) throw new ObserveError(`duration "${d}" must look like 500ms, 30s, 1m or 2h`);
  return Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 'ms'];
}

/** Checks a rule once, at construction; returns its window in ms and parsed metric. */
export function validateRule(rule: SloRule): { windowMs: number; spec: MetricSpec } {
  if (typeof rule.name !== 'string' || !/^[A-Za-z0-9._:-]{1,100}$/.test(rule.name))
    throw new ObserveError(`SLO name "${rule.name}" must be 1-100 letters, digits, ".", "_", ":" or "-"`);
  if (!OPS.includes(rule.op))
    throw new ObserveError(`SLO "${rule.name}": op must be one of ${OPS.join(' ')}, got "${rule.op}"`);
  if (!Number.isFinite(rule.threshold))
    throw new ObserveError(`SLO "${rule.name}": threshold must be a finite number, got ${rule.threshold}`);
  const windowMs = parseDuration(rule.window ?? '1m');
  if (!(windowMs >= 1000 && windowMs <= 24 * 3_600_000))
    throw new ObserveError(`SLO "${rule.name}": window must be from 1s to 24h, got ${rule.window}`);
  return { windowMs, spec: parseMetric(rule.metric) };
}

/** True when `value op threshold` holds (the objective is met). */
export function objectiveMet(op: SloOp, value: number, threshold: number): boolean {
  switch (op) {
    case '<':
      return value < threshold;
    case '<=':
      return value <= threshold;
    case '>':
      return value > threshold;
    case '>=':
      return value >= threshold;
  }
}

/**
 * Parses the command-line form `[name=]metric<op>threshold[@window]`.
 *
 * @example
 * parseSloRule('e2e-p99=e2e_p99_ms<100@1m'); // { name: 'e2e-p99', metric: 'e2e_p99_ms', op: '<', threshold: 100, window: '1m' }
 */
export function parseSloRule(text: string): SloRule {
  const m =
    /^\s*(?:([^=\s]+)\s*=\s*)?([A-Za-z0-9_:.-]+)\s*(<=|>=|<|>)\s*([-+0-9.eE_]+)\s*(?:@\s*(\S+))?\s*$/.exec(
      text,
    );
  if (!m)
    throw new ObserveError(
      `SLO "${text}" must look like [name=]metric<threshold[@window], e.g. e2e_p99_ms<100@1m`,
    );
  const rule: SloRule = {
    name: m[1] ?? m[2]!,
    metric: m[2]!,
    op: m[3] as SloOp,
    threshold: Number(m[4]!.replace(/_/g, '')),
  };
  if (m[5]) rule.window = m[5];
  validateRule(rule);
  return rule;
}
