/**
 * The sensor-anomaly demo: every series of a NAB-layout folder is replayed through one
 * pipeline (file sources -> decode -> event time -> online anomaly model -> NAB results files +
 * alert actions), then the results files are scored with NAB's rules. With a data dir, the
 * detectors are checkpointed with the source offsets: a re-run with the same dir resumes.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  LmdbCheckpointStore,
  SluiceError,
  action,
  batchedModel,
  fanOut,
  fileSource,
  json,
  mergeSources,
  pipeline,
  sourceFromUrl,
  type PipelineRun,
  type RunSummary,
  type Source,
} from '../../index.js';
import { ActionLedger } from '../../actions/index.js';
import { type ProgressSnapshot } from '../../observe/index.js';
import {
  ANOMALY_INPUT_WIDTH,
  OnlineAnomalyModel,
  anomalyRow,
  type ScorerFactory,
  type SeriesScorer,
} from './anomaly-model.js';
import { MultiScaleARTime } from './artime-online.js';
import { RefractoryARTime } from './artime-refractory.js';
import { ARTimeDetector, type ARTimeSeriesInfo } from './artime.js';
import { DetectorCheckpoint } from './detector-checkpoint.js';
import type { DetectorConfig } from './detector.js';
import { EnsembleDetector } from './ensemble.js';
import { parseNabTimestamp, readNabCorpus, readNabSeries, type NabCorpus } from './nab-corpus.js';
import { optimizeThreshold, type NabResult, type ScoredSeries } from './nab-scorer.js';
import { NabResultsWriter, readResults, type ScoredPoint } from './results-writer.js';

/**
 * Alert when the anomaly score reaches this, per detector: about the threshold NAB's standard
 * profile picks for it on NAB's series (ensemble 0.421 on all 58 and 0.419 on the 13 shared
 * ones; ARTime's 0.32; this project's detector 0.78–0.81, evidence of 7 decades of rarity), so
 * the alerts are the detections NAB counts.
 */
export const ALERT_THRESHOLDS = Object.freeze({
  ensemble: 0.42,
  sluice: 0.8,
  'artime-online': 0.32,
  artime: 0.32,
  'artime-refractory': 0.32,
});

/**
 * The detectors the demo runs: the ensemble of this project's detector and ARTime at several
 * scales (`ensemble.ts`, the default), each of them alone (`sluice`: `detector.ts`;
 * `artime-online`: `artime-online.ts`), none told anything up front; and ARTime (`artime.ts`) and
 * ARTime with a refractory rule (`artime-refractory.ts`), both told each series' min, max and
 * length before its first row, read from its file (NAB folders only).
 */
export const DETECTOR_KINDS = ['ensemble', 'sluice', 'artime-online', 'artime', 'artime-refractory'] as const;
export type DetectorKind = (typeof DETECTOR_KINDS)[number];
/** The detectors told each series' min, max and length up front (NAB's look-ahead); no snapshots either. */
const LOOK_AHEAD_KINDS: readonly string[] = ['artime', 'artime-refractory'];

export interface AnomalyDemoOptions {
  /** A folder in NAB's layout (data/, labels/, config/); scored when it has labels. */
  nabDir?: string;
  /** Instead of a NAB folder: one live series from a source URL (JSON {timestamp, value}). */
  from?: string;
  /** Where the results files and the alert ledger go. */
  outDir: string;
  alertThreshold?: number;
  /** Which detector scores the rows (default `ensemble`). */
  detectorKind?: DetectorKind;
  /** Settings of this project's detector (`detectorKind` `sluice`, and its part of `ensemble`). */
  detector?: Partial<DetectorConfig>;
  /** Rows per pipeline batch (and model call). */
  batchSize?: number;
  /**
   * Checkpoints (detectors + source offsets, in LMDB) go here; a run with the same dir resumes
   * where the last one stopped or crashed, and ends with the same files, alerts and state.
   */
  dataDir?: string;
  /** Rows per second each series is replayed at; default as fast as the pipeline reads. */
  rate?: number;
  checkpointIntervalMs?: number;
  onProgress?: (p: ProgressSnapshot) => void;
  onStart?: (run: PipelineRun) => void;
}

export interface AnomalyDemoResult {
  /** The detector that scored the rows. */
  detector: DetectorKind;
  series: number;
  rows: number;
  processed: number;
  dead_letters: number;
  alerts: number;
  alerts_digest: string;
  /** The alert ledger's digest (same as alerts_digest; the name the other demos use). */
  actions_digest: string;
  /** SHA-256 of the checkpointed detector state (with a data dir). */
  state_digest?: string;
  resumed: boolean;
  checkpoints: number;
  throughput_eps: number;
  elapsed_s: number;
  latency_ms: {
    e2e: { p50: number; p99: number; max: number };
    stages: Record<string, { p50: number; p99: number }>;
  };
  inference: { calls: number; mean_batch_rows: number; model_run_us_p99: number };
  /** Normalised NAB score per profile (null without labels). */
  nab: Record<string, number> | null;
  /** Threshold, true/false positives and misses behind each profile's score. */
  nab_detail: Record<string, NabResult> | null;
  out_dir: string;
  stopped: boolean;
}

const SCHEMA = { timestamp: 'string', value: 'number' } as const;
const round = (x: number, d = 3) => Number(x.toFixed(d));

export async function runAnomalyDemo(opts: AnomalyDemoOptions): Promise<AnomalyDemoResult> {
  if ((opts.nabDir === undefined) === (opts.from === undefined))
    throw new SluiceError('SLUICE_OPTION_INVALID', 'give either a NAB folder or a source URL, not both');
  const kind = opts.detectorKind ?? 'ensemble';
  const refusal = detectorRefusal(kind, opts);
  if (refusal !== undefined) throw new SluiceError('SLUICE_OPTION_INVALID', refusal);
  const corpus = opts.nabDir !== undefined ? readNabCorpus(opts.nabDir) : undefined;
  const paths = corpus ? corpus.series.map((s) => s.relPath) : [`${liveName(opts.from!)}.csv`];
  // Resuming keeps the results files: the writer cuts them back to the checkpoint.
  if (opts.dataDir === undefined) for (const p of paths) rmSync(join(opts.outDir, p), { force: true });
  mkdirSync(opts.outDir, { recursive: true });
  if (opts.dataDir !== undefined) checkRunMeta(opts.dataDir, runMeta(opts, paths));

  const topics = new Map<string, number>();
  let source: Source<Buffer | null>;
  if (corpus) {
    source = mergeSources(
      ...corpus.series.map((s, i) => {
        topics.set(`nab${i}`, i);
        return fileSource({
          path: s.absPath,
          format: 'csv',
          schema: SCHEMA,
          topic: `nab${i}`,
          rate: opts.rate,
        });
      }),
    );
  } else source = sourceFromUrl(opts.from!, { file: { schema: SCHEMA } });

  const model = new OnlineAnomalyModel(opts.detector, scorerFactory(kind, opts.detector ?? {}, corpus));
  // One batch at a time keeps each series' rows in order through the learning model.
  const batched = batchedModel(model, { maxBatchSize: 1 << 16, maxInFlightBatches: 1 });
  const ledger = ActionLedger.open(join(opts.outDir, 'alerts.jsonl'));
  const checkpoint = opts.dataDir !== undefined ? new DetectorCheckpoint(model, paths) : undefined;
  const writer = new NabResultsWriter(opts.outDir, paths, (i) => checkpoint?.restoredRows(i) ?? 0);
  const threshold = opts.alertThreshold ?? ALERT_THRESHOLDS[kind];
  const row = new Float64Array(ANOMALY_INPUT_WIDTH);

  let stream = pipeline('anomaly')
    .from(source)
    .decode(json(SCHEMA))
    .map((r, env) => ({
      series: topics.get(env.topic) ?? 0,
      timestamp: r.timestamp,
      t: parseNabTimestamp(r.timestamp),
      value: r.value,
    }))
    .eventTime((r) => r.t)
    .infer(batched, {
      width: ANOMALY_INPUT_WIDTH,
      input: (r) => anomalyRow(r.series, r.t, r.value, row),
      output: (r, out): ScoredPoint => ({
        series: r.series,
        timestamp: r.timestamp,
        value: r.value,
        score: out[0]!,
      }),
    });
  // The detectors are the model's state: a keyed processor right after the model call hands
  // them to the checkpoints, per series (detector-checkpoint.ts).
  if (checkpoint) stream = stream.keyBy((p) => checkpoint.keys[p.series]!).process(checkpoint.processor());
  const store =
    opts.dataDir !== undefined ? LmdbCheckpointStore.open(join(opts.dataDir, 'state')) : undefined;
  const run = stream
    .to({
      ...fanOut<ScoredPoint>(
        writer,
        action({
          name: 'anomaly-alert',
          ledger,
          when: (p) => p.score >= threshold,
          payload: (p) => ({
            series: paths[p.series],
            timestamp: p.timestamp,
            value: p.value,
            score: round(p.score, 4),
          }),
        }),
      ),
      name: 'results',
    })
    .run({
      batchSize: opts.batchSize ?? 1024,
      onProgress: opts.onProgress,
      checkpoints: store,
      checkpointIntervalMs: opts.checkpointIntervalMs ?? 1000,
    });
  opts.onStart?.(run);
  let summary: RunSummary;
  let stateDigest: string | undefined;
  try {
    summary = await run.done;
    stateDigest = store?.digest('anomaly');
  } finally {
    ledger.close();
    await writer.close();
    await batched.close();
    await store?.close();
  }
  const stats = batched.stats();
  const scored = corpus?.windows ? scoreResults(corpus, opts.outDir) : null;
  const stages: Record<string, { p50: number; p99: number }> = {};
  for (const [name, h] of Object.entries(summary.latencyMs.stages))
    stages[name] = { p50: round(h.p50), p99: round(h.p99) };
  const e2e = summary.latencyMs.e2e;
  return {
    detector: kind,
    series: paths.length,
    rows: summary.counters.processed + summary.counters.deadLetters,
    processed: summary.counters.processed,
    dead_letters: summary.counters.deadLetters,
    alerts: ledger.size,
    alerts_digest: ledger.digest(),
    actions_digest: ledger.digest(),
    ...(stateDigest !== undefined ? { state_digest: stateDigest } : {}),
    resumed: summary.resumed,
    checkpoints: summary.checkpoints,
    throughput_eps: Math.round(summary.throughputEps),
    elapsed_s: round(summary.elapsedMs / 1000, 2),
    latency_ms: { e2e: { p50: round(e2e.p50), p99: round(e2e.p99), max: round(e2e.max) }, stages },
    inference: {
      calls: stats.batches,
      mean_batch_rows: round(stats.meanBatchRows, 1),
      model_run_us_p99: round(stats.modelRunMicros.p99, 0),
    },
    nab: scored ? Object.fromEntries(Object.entries(scored).map(([k, r]) => [k, round(r.score, 2)])) : null,
    nab_detail: scored,
    out_dir: opts.outDir,
    stopped: summary.stopped,
  };
}

/**
 * Why `kind` cannot run with these options, or undefined when it can (the CLI and the API give
 * the same reasons): an unknown name; the look-ahead ARTimes with a live source (they need each
 * series' min, max and length up front) or with a data dir (they have no snapshots).
 */
export function detectorRefusal(
  kind: string,
  uses: { from?: unknown; dataDir?: unknown },
): string | undefined {
  if (!(DETECTOR_KINDS as readonly string[]).includes(kind))
    return `--detector: one of ${DETECTOR_KINDS.join(', ')}, not ${kind}`;
  if (uses.from !== undefined && LOOK_AHEAD_KINDS.includes(kind))
    return `--detector ${kind} needs each series' minimum, maximum and length before its first row (as NAB's runner gives every detector); the demo reads them from the files of a NAB folder (--nab), which a live --from source cannot give: use --detector ensemble, sluice or artime-online`;
  if (uses.dataDir !== undefined && LOOK_AHEAD_KINDS.includes(kind))
    return `--detector ${kind} cannot be checkpointed (no snapshots): run it without --data, or use --detector ensemble, sluice or artime-online`;
  return undefined;
}

/**
 * Each series' scorer for `kind` and how to restore it from a snapshot (undefined: the model's
 * own default, `sluice`). The look-ahead ARTimes are told each series' info up front, read from
 * the corpus' files (the refusals keep them to NAB folders), and have no snapshots.
 */
function scorerFactory(
  kind: DetectorKind,
  ours: Partial<DetectorConfig>,
  corpus: NabCorpus | undefined,
): ScorerFactory | undefined {
  if (kind === 'sluice') return undefined;
  if (kind === 'artime-online')
    return { create: () => new MultiScaleARTime(), restore: (b) => MultiScaleARTime.restore(b) };
  if (kind === 'ensemble')
    return {
      create: () => new EnsembleDetector({ ours }),
      restore: (b) => EnsembleDetector.restore(b, { ours }),
    };
  const infos = corpus!.series.map((s) => seriesInfo(s.absPath));
  return {
    create: (series): SeriesScorer => {
      const info = infos[series];
      if (!info) throw new Error(`online_anomaly: no series ${series}`);
      return kind === 'artime' ? new ARTimeDetector(info) : new RefractoryARTime(info);
    },
  };
}

/**
 * What NAB's runner tells a detector before the first row of a file: its min and max (of the
 * float32 values the pipeline hands the model) and its row count.
 */
export function seriesInfo(path: string): ARTimeSeriesInfo {
  const { values } = readNabSeries(path);
  let min = Infinity;
  let max = -Infinity;
  for (const v of values) {
    const x = Math.fround(v);
    if (x < min) min = x;
    if (x > max) max = x;
  }
  return { min, max, length: values.length };
}

/** What a data dir's checkpoints depend on: a resumed run must use the same. */
function runMeta(opts: AnomalyDemoOptions, paths: string[]): Record<string, unknown> {
  return {
    version: 1,
    source: opts.nabDir ?? opts.from,
    series: paths,
    out: opts.outDir,
    alert_threshold: opts.alertThreshold ?? ALERT_THRESHOLDS[opts.detectorKind ?? 'ensemble'],
    detector_kind: opts.detectorKind ?? 'ensemble',
    detector: opts.detector ?? {},
  };
}

/** A data dir belongs to one run setup: refuse to resume with another, and say what to do. */
function checkRunMeta(dataDir: string, meta: Record<string, unknown>): void {
  mkdirSync(dataDir, { recursive: true });
  const path = join(dataDir, 'demo.json');
  if (!existsSync(path)) return writeFileSync(path, JSON.stringify(meta, null, 2) + '\n');
  const old = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  for (const [k, v] of Object.entries(meta))
    if (JSON.stringify(old[k]) !== JSON.stringify(v))
      throw new SluiceError(
        'SLUICE_OPTION_INVALID',
        `data dir ${dataDir} holds a run with ${k}=${JSON.stringify(old[k])}, not ${JSON.stringify(v)}: use the same to resume, or another --data to start over`,
      );
}

/** The series name of a live source: the last path segment of its URL. */
function liveName(url: string): string {
  const last =
    url
      .replace(/[?#].*$/, '')
      .split(/[/:]/)
      .filter(Boolean)
      .at(-1) ?? 'live';
  return last.replace(/\.(csv|ndjson|json|jsonl)$/i, '').replace(/[^A-Za-z0-9._-]/g, '_') || 'live';
}

/**
 * NAB's scores of a results folder against a corpus' labels, one threshold per profile
 * optimised over all files. Series without a results file or without labels are left out.
 */
export function scoreResults(corpus: NabCorpus, outDir: string): Record<string, NabResult> {
  const series: ScoredSeries[] = [];
  for (const s of corpus.series) {
    const windows = corpus.windows?.get(s.relPath);
    const path = join(outDir, s.relPath);
    if (!windows || !existsSync(path)) continue;
    const r = readResults(path, parseNabTimestamp);
    series.push({ name: s.relPath, times: r.times, windows, scores: r.scores });
  }
  const out: Record<string, NabResult> = {};
  for (const [name, profile] of Object.entries(corpus.profiles)) {
    const r = optimizeThreshold(series, profile);
    out[name] = { ...r, score: round(r.score, 2), raw: round(r.raw, 4) };
  }
  return out;
}
