import type { DashboardSnapshot } from './observer.js';

/** One readiness condition: its name, whether it holds, and why not (what an operator reads). */
export interface HealthCheck {
  name: string;
  ok: boolean;
  reason?: string;
}

/** The body of `/readyz`: ready when every check holds. */
export interface Readiness {
  ready: boolean;
  checks: HealthCheck[];
}

/** A snapshot older than this means the pipeline stopped ticking (ticks come about once a second). */
const STALE_MS = 10_000;

/**
 * Readiness of the observed pipelines from their latest snapshots: at least one pipeline
 * running, each one ticking (a snapshot in the last 10 s), and each one's source lag at most
 * `maxLag` records (no lag check when undefined).
 *
 * @example
 * pipelineChecks(observer.latest(), 10_000, Date.now());
 * // [{ name: 'running', ok: true }, { name: 'ticking:fraud', ok: true }, { name: 'lag:fraud', ok: true }]
 */
export function pipelineChecks(
  snapshots: readonly DashboardSnapshot[],
  maxLag: number | undefined,
  now: number,
): HealthCheck[] {
  if (snapshots.length === 0) return [{ name: 'running', ok: false, reason: 'no pipeline has reported yet' }];
  const checks: HealthCheck[] = [{ name: 'running', ok: true }];
  for (const s of snapshots) {
    const age = now - s.at;
    checks.push(
      age <= STALE_MS
        ? { name: `ticking:${s.pipeline}`, ok: true }
        : {
            name: `ticking:${s.pipeline}`,
            ok: false,
            reason: `last progress ${Math.round(age / 1000)} s ago (stopped or stalled)`,
          },
    );
    if (maxLag !== undefined)
      checks.push(
        s.lag <= maxLag
          ? { name: `lag:${s.pipeline}`, ok: true }
          : { name: `lag:${s.pipeline}`, ok: false, reason: `lag ${s.lag} records is above ${maxLag}` },
      );
  }
  return checks;
}

/**
 * Folds checks into the `/readyz` answer.
 *
 * @example
 * readiness([{ name: 'assigned', ok: false, reason: 'no partitions yet' }]).ready; // false
 */
export function readiness(checks: HealthCheck[]): Readiness {
  return { ready: checks.every((c) => c.ok), checks };
}
