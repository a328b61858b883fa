import { collect, fromArray, pipeline } from '../../src/stream/index.js';

/**
 * A real pipeline that runs for about `ms`: a map that rejects one record in 500 (dead
 * letters), and an async "model" stage that sleeps per batch, so ticks and queues have
 * something to show.
 */
export function slowPipeline(name: string, ms: number, events = 20_000) {
  const batches = Math.ceil(events / 256);
  const sleep = Math.max(1, ms / batches);
  return pipeline(name)
    .from(fromArray(Array.from({ length: events }, (_, i) => i)))
    .map(
      (v) => {
        if (v % 500 === 7) throw new Error('bad record');
        return v * 2;
      },
      { name: 'double' },
    )
    .mapBatch(
      async (vs: number[]) => {
        await new Promise((r) => setTimeout(r, sleep));
        return vs;
      },
      { name: 'model' },
    )
    .to(collect<number>());
}

export interface PromSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}
export interface PromFamily {
  name: string;
  type: string;
  help: string;
  samples: PromSample[];
}

/**
 * A small parser of the Prometheus text format (0.0.4): HELP/TYPE lines and samples with
 * escaped label values; summary `_sum`/`_count` samples join their family.
 */
export function parsePrometheus(text: string): Map<string, PromFamily> {
  const families = new Map<string, PromFamily>();
  const family = (name: string) => {
    let f = families.get(name);
    if (!f) {
      f = { name, type: '', help: '', samples: [] };
      families.set(name, f);
    }
    return f;
  };
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const meta = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line);
    if (meta) {
      if (meta[1] === 'HELP') family(meta[2]!).help = meta[3]!;
      else family(meta[2]!).type = meta[3]!;
      continue;
    }
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`not a Prometheus sample line: ${line}`);
    const labels: Record<string, string> = {};
    const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)",?/gy;
    let l: RegExpExecArray | null;
    const body = m[2] ?? '';
    let consumed = 0;
    while ((l = re.exec(body))) {
      labels[l[1]!] = l[2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
      consumed = re.lastIndex;
    }
    if (consumed !== body.length) throw new Error(`bad labels: ${line}`);
    const v = m[3]!;
    const value = v === '+Inf' ? Infinity : v === '-Inf' ? -Infinity : Number(v);
    if (Number.isNaN(value) && v !== 'NaN') throw new Error(`bad value: ${line}`);
    const name = m[1]!;
    const base = name.replace(/_(sum|count|bucket)$/, '');
    const owner = families.has(name) ? name : families.has(base) ? base : name;
    family(owner).samples.push({ name, labels, value });
  }
  return families;
}
