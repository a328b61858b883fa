/**
 * Writes scored rows in NAB's results layout: one CSV per series, `timestamp,value,anomaly_score`,
 * under the same category folder and file name as the input (`<out>/realKnownCause/nyc_taxi.csv`).
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, truncateSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Envelope, Sink } from '../../index.js';

export const RESULTS_HEADER = 'timestamp,value,anomaly_score';

export interface ScoredPoint {
  series: number;
  timestamp: string;
  value: number;
  score: number;
}

/** Digits kept for scores: NAB's threshold sweep reads the files back, so what is written is what counts. */
export const formatScore = (s: number): string => s.toFixed(6);

export class NabResultsWriter implements Sink<ScoredPoint> {
  readonly name = 'results';
  private readonly fds = new Map<number, number>();

  /**
   * `paths[i]`: the results file of series i, relative to `outDir`. `resumeRows(i)`: rows of
   * series i a restored checkpoint covers; its file keeps those lines (what a crashed run wrote
   * after them is cut, the replay writes it again), others start empty.
   */
  constructor(
    private readonly outDir: string,
    private readonly paths: readonly string[],
    private readonly resumeRows: (series: number) => number = () => 0,
  ) {}

  private fd(series: number): number {
    let fd = this.fds.get(series);
    if (fd === undefined) {
      const path = join(this.outDir, this.paths[series] ?? `series-${series}.csv`);
      mkdirSync(dirname(path), { recursive: true });
      const keep = this.resumeRows(series);
      if (keep > 0) {
        truncateSync(path, endOfLine(path, keep + 1));
        fd = openSync(path, 'a');
      } else {
        fd = openSync(path, 'w');
        writeSync(fd, RESULTS_HEADER + '\n');
      }
      this.fds.set(series, fd);
    }
    return fd;
  }

  write(records: Envelope<ScoredPoint>[]): void {
    // Batches come from one file at a time: gather each series' lines and write them at once.
    const lines = new Map<number, string[]>();
    for (const r of records) {
      const p = r.value;
      let list = lines.get(p.series);
      if (!list) lines.set(p.series, (list = []));
      list.push(`${p.timestamp},${p.value},${formatScore(p.score)}`);
    }
    for (const [series, list] of lines) writeSync(this.fd(series), list.join('\n') + '\n');
  }

  /** Called before each checkpoint: the lines it counts must be on disk. */
  flush(): void {
    for (const fd of this.fds.values()) fsyncSync(fd);
  }

  async close(): Promise<void> {
    for (const fd of this.fds.values()) closeSync(fd);
    this.fds.clear();
  }
}

/** The byte length of the first `lines` lines of a file (newlines included). */
function endOfLine(path: string, lines: number): number {
  const buf = readFileSync(path);
  let at = -1;
  for (let i = 0; i < lines; i++) {
    at = buf.indexOf(0x0a, at + 1);
    if (at < 0)
      throw new Error(
        `${path} has fewer than the ${lines} lines its checkpoint covers: was it edited? remove the data dir to start over`,
      );
  }
  return at + 1;
}

/** A results file read back: timestamps (as written), times (epoch ms) and scores. */
export function readResults(
  path: string,
  parseTime: (s: string) => number,
): { timestamps: string[]; times: number[]; scores: number[] } {
  const out = { timestamps: [] as string[], times: [] as number[], scores: [] as number[] };
  const lines = readFileSync(path, 'utf8').split('\n');
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (line === '') continue;
    const a = line.indexOf(',');
    const b = line.lastIndexOf(',');
    const ts = line.slice(0, a);
    out.timestamps.push(ts);
    out.times.push(parseTime(ts));
    out.scores.push(Number(line.slice(b + 1)));
  }
  return out;
}
