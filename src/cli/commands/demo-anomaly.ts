import { join, resolve } from 'node:path';
import {
  ALERT_THRESHOLDS,
  detectorRefusal,
  runAnomalyDemo,
  type AnomalyDemoResult,
  type DetectorKind,
} from '../../apps/anomaly/demo.js';
import { PACKAGE_ROOT } from '../../package-root.js';
import { UsageError, intFlag, numberFlag, parseFlags, stringFlag } from '../args.js';
import { progressLine } from '../progress.js';

/** NAB data shipped beside the repository: <repo>/../shared/data/nab. */
export const DEFAULT_NAB_DIR = join(PACKAGE_ROOT, '..', 'shared', 'data', 'nab');

export const DEMO_ANOMALY_USAGE = `sluice demo anomaly [options]

Streams every series of a Numenta Anomaly Benchmark folder through an online anomaly detector
(file sources -> decode -> event time -> model that learns as it goes -> results + alerts),
writes NAB results files (timestamp,value,anomaly_score per series, same folders and names)
and prints NAB scores for each profile, with one threshold per profile optimised over all series.

  --nab DIR        NAB-layout folder: data/<category>/<series>.csv, labels/combined_windows.json,
                   config/profiles.json (default ${DEFAULT_NAB_DIR})
  --from URL       score one live series instead: mqtt://host:port/topic, kafka://host:port/topic,
                   nats://..., redis://..., or file:path.ndjson|csv, with JSON records
                   {"timestamp": "2014-04-01 00:00:00", "value": 42.5}; runs until the source ends
                   or Ctrl-C; no NAB scores (no labels)
  --out DIR        results folder (default .sluice/anomaly-results, or DATA/results with --data);
                   alerts in DIR/alerts.jsonl
  --data DIR       checkpoint the detectors with the source offsets in DIR (LMDB): a re-run with
                   the same DIR resumes where the last run stopped or crashed, with the same
                   results files and alerts as one uninterrupted run
  --rate N         replay each series at N rows per second (default: as fast as it goes)
  --detector NAME  ensemble (default): this project's detector and ARTime at five time scales
                   side by side, told nothing up front (70.52 standard on all 58 NAB series);
                   sluice or artime-online: each of the two alone (59.96, 66.75); artime
                   (ARTime, NAB's leader, 74.85) or artime-refractory (ARTime with a repeat-
                   damping rule, 75.71): these two are told each file's min, max and row count up
                   front, as NAB's runner does, so not with --from, and have no checkpoints
                   (not with --data)
  --alert-threshold S
                   alert when the anomaly score reaches S (default: about NAB's threshold for
                   the detector: ensemble ${ALERT_THRESHOLDS.ensemble}, sluice ${ALERT_THRESHOLDS.sluice}, the ARTimes ${ALERT_THRESHOLDS.artime})
  --batch N        rows per pipeline batch and model call (default 1024)
  --json           print one JSON summary on stdout (nab.standard, nab.reward_low_FP_rate,
                   nab.reward_low_FN_rate, ...)
  --quiet          no progress lines
`;

export async function demoAnomaly(args: string[]): Promise<number> {
  const { values } = parseFlags(args, {
    nab: { type: 'string' },
    from: { type: 'string' },
    out: { type: 'string' },
    data: { type: 'string' },
    rate: { type: 'string' },
    'alert-threshold': { type: 'string' },
    detector: { type: 'string' },
    batch: { type: 'string' },
    json: { type: 'boolean' },
    quiet: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    process.stdout.write(DEMO_ANOMALY_USAGE);
    return 0;
  }
  if (values.nab !== undefined && values.from !== undefined)
    throw new UsageError('--nab and --from exclude each other');
  const detectorKind = stringFlag(values.detector, 'detector', 'ensemble') as DetectorKind;
  const refusal = detectorRefusal(detectorKind, { from: values.from, dataDir: values.data });
  if (refusal !== undefined) throw new UsageError(refusal);
  const from = values.from === undefined ? undefined : stringFlag(values.from, 'from', '');
  const dataDir = values.data === undefined ? undefined : resolve(stringFlag(values.data, 'data', ''));
  const defaultOut = dataDir ? join(dataDir, 'results') : '.sluice/anomaly-results';
  const showProgress = !values.quiet && (!values.json || process.stderr.isTTY);
  let stopRequested = false;
  const result = await runAnomalyDemo({
    nabDir: from ? undefined : resolve(stringFlag(values.nab, 'nab', DEFAULT_NAB_DIR)),
    from,
    outDir: resolve(stringFlag(values.out, 'out', defaultOut)),
    dataDir,
    detectorKind,
    rate: numberFlag(values.rate, 'rate', undefined, 1),
    alertThreshold: numberFlag(values['alert-threshold'], 'alert-threshold', undefined, 0, 1),
    batchSize: intFlag(values.batch, 'batch', 1024, 1, 1 << 16),
    onProgress: showProgress ? (p) => process.stderr.write(progressLine(p) + '\n') : undefined,
    onStart: (run) => {
      process.once('SIGINT', () => {
        stopRequested = true;
        process.once('SIGINT', () => process.exit(130));
        void run.stop();
      });
    },
  });
  if (values.json) process.stdout.write(JSON.stringify(result) + '\n');
  else process.stdout.write(humanSummary(result) + '\n');
  return stopRequested ? 130 : 0;
}

function humanSummary(r: AnomalyDemoResult): string {
  const lines = [
    `anomaly demo (${r.detector}) ${r.stopped ? 'stopped' : 'done'}: ${r.series} series, ${r.processed} rows scored + ${r.dead_letters} dead letters in ${r.elapsed_s} s (${r.throughput_eps} rows/s)`,
    `  e2e latency: p50 ${r.latency_ms.e2e.p50} ms  p99 ${r.latency_ms.e2e.p99} ms; model calls ${r.inference.calls} (mean ${r.inference.mean_batch_rows} rows)`,
    `  alerts: ${r.alerts} (ledger ${join(r.out_dir, 'alerts.jsonl')})`,
    `  results: ${r.out_dir}`,
  ];
  if (r.nab_detail) {
    lines.push('  NAB score (threshold optimised per profile over all series):');
    for (const [name, d] of Object.entries(r.nab_detail))
      lines.push(
        `    ${name.padEnd(20)} ${d.score.toFixed(1).padStart(5)}   threshold ${d.threshold.toFixed(4)}  TP ${d.tp}  FP ${d.fp}  FN ${d.fn}`,
      );
  } else lines.push('  NAB score: n/a (no labels/combined_windows.json)');
  return lines.join('\n');
}
