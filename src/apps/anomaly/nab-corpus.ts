/**
 * Reads a folder in the Numenta Anomaly Benchmark's layout: `data/<category>/<name>.csv`
 * (`timestamp,value`), `labels/combined_windows.json` (anomaly windows per relative path) and
 * `config/profiles.json` (cost matrices). Labels and profiles are optional: without them the
 * series are still scored by the detector, only the NAB figures are left out.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { SluiceError } from '../../index.js';

/** Weights of one scoring profile (NAB's cost matrix). */
export interface NabProfile {
  tpWeight: number;
  fpWeight: number;
  fnWeight: number;
}

/** NAB's three profiles, used when the folder has no config/profiles.json. */
export const NAB_PROFILES: Record<string, NabProfile> = {
  standard: { tpWeight: 1, fpWeight: 0.11, fnWeight: 1 },
  reward_low_FP_rate: { tpWeight: 1, fpWeight: 0.22, fnWeight: 1 },
  reward_low_FN_rate: { tpWeight: 1, fpWeight: 0.11, fnWeight: 2 },
};

export interface NabSeriesFile {
  /** Path under data/, with forward slashes: `realKnownCause/nyc_taxi.csv`. */
  relPath: string;
  absPath: string;
}

export interface NabCorpus {
  root: string;
  series: NabSeriesFile[];
  /** Anomaly windows as [start, end] epoch ms (inclusive), per relPath; undefined without labels. */
  windows: Map<string, [number, number][]> | undefined;
  profiles: Record<string, NabProfile>;
}

const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?Z?$/;

/** NAB timestamps (`2014-04-10 07:15:00[.000000]`) as epoch ms, read as UTC whatever the local zone. */
export function parseNabTimestamp(s: string): number {
  const m = TIMESTAMP.exec(s.trim());
  if (!m) {
    const n = Number(s);
    if (s.trim() !== '' && Number.isFinite(n)) return n < 1e11 ? n * 1000 : n; // epoch s or ms
    return NaN;
  }
  const ms = m[7] ? Math.round(Number(`0.${m[7]}`) * 1000) : 0;
  return Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, m[6] ? +m[6] : 0, ms);
}

function csvFiles(dir: string, out: string[]): string[] {
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) csvFiles(path, out);
    else if (name.toLowerCase().endsWith('.csv')) out.push(path);
  }
  return out;
}

/** Lists the series of a NAB-layout folder and reads its labels and profiles when present. */
export function readNabCorpus(root: string): NabCorpus {
  const dataDir = join(root, 'data');
  if (!existsSync(dataDir) || !statSync(dataDir).isDirectory())
    throw new SluiceError(
      'SLUICE_OPTION_INVALID',
      `${root} has no data/ folder: point --nab at a folder in NAB's layout (data/<category>/<series>.csv)`,
    );
  const series = csvFiles(dataDir, []).map((absPath) => ({
    absPath,
    relPath: relative(dataDir, absPath).split(sep).join('/'),
  }));
  if (series.length === 0) throw new SluiceError('SLUICE_OPTION_INVALID', `${dataDir} holds no .csv series`);
  const labelsPath = join(root, 'labels', 'combined_windows.json');
  let windows: NabCorpus['windows'];
  if (existsSync(labelsPath)) {
    const raw = JSON.parse(readFileSync(labelsPath, 'utf8')) as Record<string, [string, string][]>;
    windows = new Map();
    for (const [rel, list] of Object.entries(raw)) {
      windows.set(
        rel,
        list.map(([a, b]) => {
          const w: [number, number] = [parseNabTimestamp(a), parseNabTimestamp(b)];
          if (!Number.isFinite(w[0]) || !Number.isFinite(w[1]))
            throw new SluiceError(
              'SLUICE_OPTION_INVALID',
              `${labelsPath}: bad window [${a}, ${b}] for ${rel}`,
            );
          return w;
        }),
      );
    }
  }
  const profilesPath = join(root, 'config', 'profiles.json');
  let profiles = NAB_PROFILES;
  if (existsSync(profilesPath)) {
    const raw = JSON.parse(readFileSync(profilesPath, 'utf8')) as Record<
      string,
      { CostMatrix: { tpWeight: number; fpWeight: number; fnWeight: number } }
    >;
    profiles = {};
    for (const [name, p] of Object.entries(raw))
      profiles[name] = {
        tpWeight: p.CostMatrix.tpWeight,
        fpWeight: p.CostMatrix.fpWeight,
        fnWeight: p.CostMatrix.fnWeight,
      };
  }
  return { root, series, windows, profiles };
}

/** One series read whole (for scoring and tests; the demo streams the files instead). */
export function readNabSeries(path: string): { timestamps: string[]; times: number[]; values: number[] } {
  const lines = readFileSync(path, 'utf8').split(/\r?\n/);
  const out = { timestamps: [] as string[], times: [] as number[], values: [] as number[] };
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (line === '') continue;
    const comma = line.indexOf(',');
    const ts = line.slice(0, comma);
    out.timestamps.push(ts);
    out.times.push(parseNabTimestamp(ts));
    out.values.push(Number(line.slice(comma + 1)));
  }
  return out;
}

/** The labelled series of a corpus, read whole, with what scoring needs of each. */
export interface LabelledCorpus {
  labelled: NabSeriesFile[];
  data: ReturnType<typeof readNabSeries>[];
  /** Per series: its name (relPath), times and anomaly windows (scores are added per candidate). */
  base: { name: string; times: number[]; windows: [number, number][] }[];
}

/** Reads every labelled series of `corpus` (the offline searches and cross-validation). */
export function readLabelledSeries(corpus: NabCorpus): LabelledCorpus {
  const labelled = corpus.series.filter((s) => corpus.windows?.has(s.relPath));
  const data = labelled.map((s) => readNabSeries(s.absPath));
  const base = labelled.map((s, i) => ({
    name: s.relPath,
    times: data[i]!.times,
    windows: corpus.windows!.get(s.relPath)!,
  }));
  return { labelled, data, base };
}
