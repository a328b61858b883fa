/**
 * The fraud-detection demo: a generator produces card transactions into the embedded log while
 * the pipeline reads them, computes windowed features, scores them with the ONNX model and
 * records an alert action for the risky ones. Re-running with the same data directory resumes.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  LmdbCheckpointStore,
  OnnxModel,
  SluiceError,
  action,
  actionSinkFromUrl,
  days,
  fanOut,
  json,
  logDeadLetters,
  logSource,
  pipeline,
  sourceFromUrl,
  type RunSummary,
  type PipelineRun,
  type Source,
} from '../../index.js';
import { ActionLedger } from '../../actions/index.js';
import {
  DashboardServer,
  Observer,
  type AlertSink,
  type ProgressSnapshot,
  type SloRule,
} from '../../observe/index.js';
import { Log } from '../../log/index.js';
import { averagePrecision, rocAuc } from '../../train.js';
import { decoderFromUrl, encoderFromUrl } from '../../connectors/index.js';
import { FEATURE_GROUPS, MODEL_INPUTS, MODEL_WIDTH, TX_SCHEMA, modelRow, type Tx } from './features.js';
import { MODEL_PATH, readModelInfo, MODEL_INFO_PATH } from './model-info.js';
import { produceTransactions, type PopulationOptions } from './producer.js';
import { ScoreRecorder } from './score-recorder.js';
import { cardPrecisionAtK } from './card-precision.js';
import { FeaturesCsvWriter } from './features-csv.js';
import { handbookCsvSource } from './handbook-csv.js';

export const TOPIC = 'transactions';
export const DLQ_TOPIC = 'fraud.dlq';

export interface FraudDemoOptions extends PopulationOptions {
  events: number;
  dataDir: string;
  /** Events per second offered by the producer; default: as fast as it can. */
  rate?: number;
  modelPath?: string;
  modelInfoPath?: string;
  /** Days at the stream's start left out of the quality figures (windows filling up). */
  warmupDays?: number;
  checkpointIntervalMs?: number;
  /**
   * Set the state store aside (it is damaged) and rebuild it by replaying the log from the start;
   * the ledger keeps actions from happening twice.
   */
  rebuildState?: boolean;
  onProgress?: (p: ProgressSnapshot) => void;
  /** Called once the pipeline runs, with a handle to stop it (Ctrl-C). */
  onStart?: (run: PipelineRun) => void;
  /** Live dashboard with /metrics (port 0 = any free one); off when absent. */
  dashboard?: { port?: number; host?: string; token?: string };
  /** Called with the dashboard's URL once it listens. */
  onDashboard?: (url: string) => void;
  /** SLO rules checked once per second; alerts go to stderr and to `onAlert`. */
  slo?: SloRule[];
  onAlert?: AlertSink;
  /** Where alerts also go (deduplicated there too): postgres://, http(s)://, kafka://host:port/topic, file:path.jsonl. */
  alertsTo?: string;
  /**
   * Read transactions from here instead of generating them: kafka://, mqtt://, nats://,
   * redis://, file: (see docs/connectors.md); `events` then caps the records read by this run.
   */
  from?: string;
  /** Read transactions from a CSV file in the Fraud Detection Handbook's layout instead of generating them. */
  input?: string;
  /** Also write every transaction's features (handbook column names) to this CSV file. */
  featuresOut?: string;
}

/** The demo's objectives: what the CLI checks unless given --slo or --no-slo. */
export const FRAUD_SLO: SloRule[] = [
  { name: 'e2e-p99', metric: 'e2e_p99_ms', op: '<', threshold: 250, window: '1m' },
  { name: 'lag', metric: 'lag', op: '<', threshold: 10_000, window: '1m' },
  { name: 'infer-errors', metric: 'error_ratio:infer', op: '<', threshold: 0.01, window: '1m' },
];

export interface FraudDemoResult {
  events_in: number;
  processed: number;
  actions: number;
  dead_letters: number;
  throughput_eps: number;
  elapsed_s: number;
  latency_ms: {
    e2e: { p50: number; p99: number; p999: number; max: number };
    stages: Record<string, { p50: number; p99: number }>;
  };
  actions_digest: string;
  /** SHA-256 over the pipeline's checkpointed state (window features), key by key. */
  state_digest?: string;
  quality: {
    roc_auc: number | null;
    average_precision: number | null;
    /** Card precision top-100 per day, averaged over the days after the warm-up (handbook's metric). */
    card_precision_at_100: number | null;
    evaluated: number;
    frauds: number;
  };
  resumed: boolean;
  stopped: boolean;
  checkpoints: number;
  data_dir: string;
}

interface RunMeta extends Required<PopulationOptions> {
  version: 1;
}

/** A data dir belongs to one (seed, population): refuse to mix streams, with what to do instead. */
function checkRunMeta(dataDir: string, meta: RunMeta): void {
  const path = join(dataDir, 'demo.json');
  if (existsSync(path)) {
    const old = JSON.parse(readFileSync(path, 'utf8')) as RunMeta;
    for (const k of ['seed', 'customers', 'terminals', 'badRate'] as const) {
      if (old[k] !== meta[k]) {
        throw new SluiceError(
          'SLUICE_OPTION_INVALID',
          `data dir ${dataDir} holds a run with ${k}=${old[k]}, not ${meta[k]}: use the same value to resume, or another --data to start over`,
        );
      }
    }
  } else writeFileSync(path, JSON.stringify(meta, null, 2) + '\n');
}

const round = (x: number, digits = 3) => Number(x.toFixed(digits));

export async function runFraudDemo(opts: FraudDemoOptions): Promise<FraudDemoResult> {
  const population = {
    seed: opts.seed ?? 42,
    customers: opts.customers ?? 1000,
    terminals: opts.terminals ?? 2000,
    badRate: opts.badRate ?? 0,
  };
  mkdirSync(opts.dataDir, { recursive: true });
  checkRunMeta(opts.dataDir, { version: 1, ...population });
  const info = readModelInfo(opts.modelInfoPath ?? MODEL_INFO_PATH);
  if (info.features.join() !== MODEL_INPUTS.join()) {
    throw new SluiceError(
      'SLUICE_PIPELINE_MODEL_MISMATCH',
      `model.json lists features [${info.features.join(', ')}], the demo computes [${MODEL_INPUTS.join(', ')}]: retrain with "sluice train fraud"`,
    );
  }
  // Observation is aggregated once per second (snapshots, SLOs); nothing runs per event.
  const observer =
    opts.dashboard || opts.slo?.length ? new Observer({ slo: opts.slo, onAlert: opts.onAlert }) : undefined;
  let current: PipelineRun | undefined;
  const dash =
    observer && opts.dashboard
      ? await DashboardServer.start({
          observer,
          title: 'Sluice — fraud demo',
          ...opts.dashboard,
          controls: { stop: () => current?.stop() },
        })
      : undefined;
  if (dash) opts.onDashboard?.(dash.url);
  try {
    return await runPipeline(opts, { ...population, info, observer }, (run) => {
      current = run;
      observer?.add(run.metrics);
      opts.onStart?.(run);
    });
  } finally {
    await dash?.close();
    observer?.close();
  }
}

async function runPipeline(
  opts: FraudDemoOptions,
  ctx: Required<PopulationOptions> & {
    info: ReturnType<typeof readModelInfo>;
    observer: Observer | undefined;
  },
  onStart: (run: PipelineRun) => void,
): Promise<FraudDemoResult> {
  const { info, observer, ...population } = ctx;
  const log = Log.open(join(opts.dataDir, 'log'));
  if (!log.hasTopic(TOPIC)) log.createTopic(TOPIC, { partitions: 1 });
  const ledger = ActionLedger.open(join(opts.dataDir, 'actions', 'alerts.jsonl'));
  const scores = new ScoreRecorder(join(opts.dataDir, 'scores.bin'));
  const model = await OnnxModel.load(opts.modelPath ?? MODEL_PATH, {
    name: info.kind === 'gradient-boosted-trees' ? 'fraud_gbt' : 'fraud_lr',
  });

  // With --from the transactions come from outside; otherwise the generator writes them to the log.
  const producer =
    opts.from || opts.input
      ? undefined
      : produceTransactions(log.partition(TOPIC, 0), { ...population, events: opts.events, rate: opts.rate });
  const source: Source<Buffer | null> = opts.input
    ? limited(handbookCsvSource({ path: opts.input, rate: opts.rate }), opts.events)
    : opts.from
      ? limited(
          sourceFromUrl(opts.from, {
            spool: log,
            groupId: 'sluice-fraud',
            file: { schema: TX_SCHEMA, rate: opts.rate },
          }),
          opts.events,
        )
      : logSource({ log, topic: TOPIC, endWhen: () => producer!.finished });
  const deadLetters = logDeadLetters(log, DLQ_TOPIC);
  const row = new Float64Array(MODEL_WIDTH);
  const p = pipeline('fraud')
    .from(source)
    // --from may name Avro, Protobuf or JSON Schema records (?format=...&registry=...), checked as JSON is.
    .decode(opts.from ? decoderFromUrl(opts.from, TX_SCHEMA) : json(TX_SCHEMA))
    .eventTime((t) => t.ts)
    .features(FEATURE_GROUPS)
    .infer(model, {
      width: MODEL_WIDTH,
      input: (t) => modelRow(t, t.features, row),
      output: (t, out) => ({ tx: t as Tx, score: out[0]!, fraud: t.fraud }),
    })
    .to({
      ...fanOut<{ tx: Tx; score: number; fraud: number }>(
        action({
          name: 'alert',
          ledger,
          when: (s) => s.score >= info.threshold,
          payload: (s) => ({
            tx: s.tx.id,
            customer: s.tx.customerId,
            terminal: s.tx.terminalId,
            amount: s.tx.amount,
            score: round(s.score, 4),
          }),
          // Feeds the dashboard's "latest actions" list (new effects only, never replays).
          deliver: observer
            ? async (entries) => {
                for (const e of entries) observer.recordAction('fraud', e.payload);
              }
            : undefined,
          // The local ledger still dedupes and digests; the URL's sink dedupes on the same keys.
          ...(opts.alertsTo
            ? { to: actionSinkFromUrl(opts.alertsTo, { encode: encoderFromUrl }), deadLetters }
            : {}),
        }),
        scores,
        ...(opts.featuresOut ? [new FeaturesCsvWriter(opts.featuresOut)] : []),
      ),
      name: 'actions',
    });
  if (p.featureNames.join() !== MODEL_INPUTS.slice(3).join())
    throw new Error(`feature order changed: ${p.featureNames.join()}`);

  const store = LmdbCheckpointStore.open(join(opts.dataDir, 'state'), { rebuild: opts.rebuildState });
  const run = p.run({
    checkpoints: store,
    checkpointIntervalMs: opts.checkpointIntervalMs ?? 1000,
    deadLetters,
    onProgress: opts.onProgress,
  });
  onStart(run);
  let summary: RunSummary;
  let stateDigest: string;
  try {
    summary = await run.done;
    if (summary.stopped) producer?.stop();
    await producer?.done;
    stateDigest = store.digest('fraud');
  } finally {
    producer?.stop();
    ledger.close();
    await model.close();
    await store.close();
  }
  const eventsIn = opts.from || opts.input ? summary.counters.in : log.partition(TOPIC, 0).highWatermark;
  const result = {
    ...report(summary, opts, eventsIn, ledger, scores.path),
    state_digest: stateDigest,
  };
  log.close();
  return result;
}

/** Ends `source` once this run has read `limit` records from it (Infinity: when it ends). */
function limited<T>(source: Source<T>, limit: number): Source<T> {
  let read = 0;
  return {
    name: source.name,
    open: (ctx) => source.open(ctx),
    async poll(max) {
      if (read >= limit) return null;
      const records = await source.poll(Math.min(max, limit - read));
      read += records?.length ?? 0;
      return records;
    },
    positions: () => source.positions(),
    lag: () => source.lag(),
    lagByPartition: source.lagByPartition ? () => source.lagByPartition!() : undefined,
    lagMsByPartition: source.lagMsByPartition ? () => source.lagMsByPartition!() : undefined,
    partitions: source.partitions ? () => source.partitions!() : undefined,
    commit: source.commit ? (offsets) => source.commit!(offsets) : undefined,
    close: () => source.close(),
  };
}

function report(
  s: RunSummary,
  opts: FraudDemoOptions,
  eventsIn: number,
  ledger: ActionLedger,
  scoresPath: string,
): FraudDemoResult {
  const q = ScoreRecorder.read(scoresPath);
  const cp = { scores: [] as number[], labels: [] as number[], cards: [] as number[], times: [] as number[] };
  const warmup = opts.warmupDays ?? 30;
  const from = (q.times[0] ?? 0) + days(warmup);
  const sc: number[] = [];
  const lb: number[] = [];
  for (let i = 0; i < q.times.length; i++) {
    if (q.times[i]! >= from) {
      sc.push(q.scores[i]!);
      lb.push(q.labels[i]!);
      cp.scores.push(q.scores[i]!);
      cp.labels.push(q.labels[i]!);
      cp.cards.push(q.cards[i]!);
      cp.times.push(q.times[i]!);
    }
  }
  const frauds = lb.reduce((a, b) => a + b, 0);
  const hasBoth = frauds > 0 && frauds < lb.length;
  const stages: Record<string, { p50: number; p99: number }> = {};
  for (const [name, h] of Object.entries(s.latencyMs.stages))
    stages[name] = { p50: round(h.p50), p99: round(h.p99) };
  const e2e = s.latencyMs.e2e;
  return {
    events_in: eventsIn,
    processed: s.counters.processed,
    actions: ledger.size,
    dead_letters: s.counters.deadLetters,
    throughput_eps: Math.round(s.throughputEps),
    elapsed_s: round(s.elapsedMs / 1000, 2),
    latency_ms: {
      e2e: { p50: round(e2e.p50), p99: round(e2e.p99), p999: round(e2e.p999), max: round(e2e.max) },
      stages,
    },
    actions_digest: ledger.digest(),
    quality: {
      roc_auc: hasBoth ? round(rocAuc(sc, lb), 4) : null,
      average_precision: hasBoth ? round(averagePrecision(sc, lb), 4) : null,
      card_precision_at_100: cp.scores.length > 0 ? round(cardPrecisionAtK(cp, 100).mean, 4) : null,
      evaluated: lb.length,
      frauds,
    },
    resumed: s.resumed,
    stopped: s.stopped,
    checkpoints: s.checkpoints,
    data_dir: opts.dataDir,
  };
}
