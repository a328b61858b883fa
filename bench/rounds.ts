/**
 * Ratios that hold on a noisy machine: a ratio is taken per round of alternating runs
 * (A, B, A, B, …, so a burst of other work hits both sides alike), and reported as the median
 * of those per-round ratios with their min and max.
 */
import type { RatioSpread } from './run.js';

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Median, min and max of per-round ratios, to 3 decimals. */
export function spreadOf(ratios: readonly number[]): RatioSpread {
  const r = (x: number) => Number(x.toFixed(3));
  return { median: r(median(ratios)), min: r(Math.min(...ratios)), max: r(Math.max(...ratios)) };
}

/**
 * Runs `a` then `b`, `rounds` times, and returns each side's figures and the per-round ratios
 * a ÷ b (higher = A ahead when both are rates).
 */
export async function alternate(
  rounds: number,
  a: () => Promise<number>,
  b: () => Promise<number>,
): Promise<{ a: number[]; b: number[]; ratios: number[] }> {
  const out = { a: [] as number[], b: [] as number[], ratios: [] as number[] };
  for (let i = 0; i < rounds; i++) {
    const x = await a();
    const y = await b();
    out.a.push(x);
    out.b.push(y);
    out.ratios.push(x / y);
  }
  return out;
}

/**
 * Runs each side in turn, `rounds` times (A, B, C, A, B, C, …), and returns each side's figures
 * by name, in round order: for a ratio of A to several baselines from the same rounds.
 */
export async function alternateEach<K extends string>(
  rounds: number,
  sides: Record<K, () => Promise<number>>,
): Promise<Record<K, number[]>> {
  const names = Object.keys(sides) as K[];
  const out = Object.fromEntries(names.map((n) => [n, [] as number[]])) as Record<K, number[]>;
  for (let i = 0; i < rounds; i++) for (const n of names) out[n].push(await sides[n]());
  return out;
}

/** The per-round ratios a[i] ÷ b[i]. */
export function ratiosOf(a: readonly number[], b: readonly number[]): number[] {
  return a.map((x, i) => x / b[i]!);
}

/**
 * The machine's own noise floor: the p99 lateness (ms) of a 1 ms timer loop running alone for
 * `ms`. On a quiet machine it is ~0.1 ms; when other processes share the cores it grows, and a
 * pipeline's p99 cannot be lower than what the event loop itself is given.
 */
export async function timerLatenessP99(
  ms = 3000,
): Promise<{ p50_ms: number; p99_ms: number; max_ms: number }> {
  const late: number[] = [];
  const end = performance.now() + ms;
  while (performance.now() < end) {
    const t = performance.now();
    await new Promise((resolve) => setTimeout(resolve, 1));
    late.push(performance.now() - t - 1);
  }
  late.sort((x, y) => x - y);
  const at = (q: number) => Number(late[Math.min(late.length - 1, Math.floor(q * late.length))]!.toFixed(2));
  return { p50_ms: at(0.5), p99_ms: at(0.99), max_ms: at(1) };
}
