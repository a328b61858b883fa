// Reading a label and a score out of a chat model's free-form answer.

/**
 * A parsed classification: `label` is an index into the labels (−1 when none was found),
 * `score` the model's confidence in [0, 1] (1 when it gave a label but no number, NaN when
 * nothing could be read).
 *
 * @example
 * const c: Classification = { label: 1, score: 0.92 };
 */
export interface Classification {
  label: number;
  score: number;
}

/**
 * Parses a chat answer: first as JSON (`{"label": "fraud", "score": 0.92}`, also inside prose
 * or a code fence), then as text: the earliest label named as a whole word and the first
 * number in [0, 1] (or a percentage).
 *
 * @example
 * parseClassification('{"label":"fraud","score":0.9}', ['ok', 'fraud']); // { label: 1, score: 0.9 }
 * parseClassification('Fraud (87%)', ['ok', 'fraud']); // { label: 1, score: 0.87 }
 */
export function parseClassification(content: string, labels: readonly string[]): Classification {
  const lower = labels.map((l) => l.toLowerCase());
  const start = content.indexOf('{');
  const end = content.lastIndexOf('}');
  if (start >= 0 && end > start) {
    try {
      const obj = JSON.parse(content.slice(start, end + 1)) as { label?: unknown; score?: unknown };
      const label = typeof obj.label === 'string' ? lower.indexOf(obj.label.trim().toLowerCase()) : -1;
      if (label >= 0) return { label, score: toScore(obj.score) ?? 1 };
    } catch {
      // not JSON after all: read it as text below
    }
  }
  let label = -1;
  let at = Infinity;
  lower.forEach((l, i) => {
    const m = new RegExp(`(^|[^\\p{L}\\p{N}_])${escape(l)}($|[^\\p{L}\\p{N}_])`, 'iu').exec(content);
    if (m !== null && m.index < at) [label, at] = [i, m.index];
  });
  if (label < 0) return { label: -1, score: Number.NaN };
  const pct = /(\d{1,3}(?:\.\d+)?)\s*%/.exec(content);
  if (pct !== null && Number(pct[1]) <= 100) return { label, score: Number(pct[1]) / 100 };
  const num = /(?:^|[^\d.])((?:0?\.\d+)|0|1(?:\.0+)?)(?!\d|\.\d)/.exec(content);
  return { label, score: num === null ? 1 : Number(num[1]) };
}

function toScore(v: unknown): number | undefined {
  const n = typeof v === 'string' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isFinite(n)) return undefined;
  return Math.min(1, Math.max(0, n > 1 && n <= 100 ? n / 100 : n));
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
