import { requireOption } from '../errors.js';

/** Windows of a fixed size, known from a record's event time alone (tumbling, hopping). */
export type FixedWindowAssigner =
  { kind: 'tumbling'; size: number } | { kind: 'hopping'; size: number; advance: number };
/** Session windows: they grow and merge, so their aggregates must merge (`MergeableAggregate`). */
export type SessionWindowAssigner = { kind: 'session'; gap: number };
/** How records are grouped into windows by event time. */
export type WindowAssigner = FixedWindowAssigner | SessionWindowAssigner;

/** Fixed, non-overlapping windows [k·size, (k+1)·size). @example tumbling({ size: minutes(1) }) */
export function tumbling(opts: { size: number }): FixedWindowAssigner {
  requireOption(opts.size > 0, `tumbling: size must be > 0 ms, got ${opts.size}`);
  return { kind: 'tumbling', size: opts.size };
}

/** Overlapping windows of `size` starting every `advance` ms. @example hopping({ size: minutes(5), advance: minutes(1) }) */
export function hopping(opts: { size: number; advance: number }): FixedWindowAssigner {
  requireOption(opts.size > 0 && opts.advance > 0, `hopping: size and advance must be > 0 ms`);
  requireOption(
    opts.advance <= opts.size,
    `hopping: advance (${opts.advance}) must not exceed size (${opts.size}); use tumbling for gaps`,
  );
  return { kind: 'hopping', size: opts.size, advance: opts.advance };
}

/** Per-key activity sessions closed by `gap` ms without records. @example session({ gap: minutes(30) }) */
export function session(opts: { gap: number }): SessionWindowAssigner {
  requireOption(opts.gap > 0, `session: gap must be > 0 ms, got ${opts.gap}`);
  return { kind: 'session', gap: opts.gap };
}

/** The [start, end) windows a record at `t` belongs to (tumbling and hopping). */
export function windowsOf(a: WindowAssigner, t: number): [number, number][] {
  if (a.kind === 'tumbling') {
    const start = Math.floor(t / a.size) * a.size;
    return [[start, start + a.size]];
  }
  if (a.kind === 'hopping') {
    const out: [number, number][] = [];
    const last = Math.floor(t / a.advance) * a.advance;
    for (let start = last; start > t - a.size; start -= a.advance) out.push([start, start + a.size]);
    return out.reverse();
  }
  return [[t, t + a.gap]];
}
