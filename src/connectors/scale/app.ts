import {
  pipeline,
  requireOption,
  type RunnablePipeline,
  type Source,
  type Step,
  type Stream,
} from '../../stream/index.js';
import { ConnectorError } from '../errors.js';

/** What a scaled-out pipeline's builder is told about where it runs. */
export interface ScaleContext {
  brokers: string[];
  /** The consumer group (and prefix of the topics Sluice creates). */
  group: string;
  /** This worker's name (in logs and changelog claims). */
  member: string;
}

/**
 * A pipeline that `sluice run` (or `ScaledWorker`) can run on many workers: its input topic and
 * a builder from the input's raw records to a complete pipeline. The builder is called again
 * for each partition assignment, so each gets fresh operators over the state it restored.
 */
export interface ScaledApp {
  /** The pipeline's name: part of every action's idempotency key, as in an unscaled run. */
  name: string;
  /** The input topic. */
  input: string;
  build(stream: Stream<Buffer | null>, ctx: ScaleContext): RunnablePipeline<unknown>;
}

/**
 * Declares a scaled-out pipeline (the default export of a file given to `sluice run`).
 *
 * @example
 * export default scaledApp({
 *   name: 'alerts',
 *   input: 'events',
 *   build: (stream) => stream.decode(json(schema)).keyBy((e) => e.user)
 *     .features({ user: lookback({ key: (e) => e.user, windows: [hours(1)], aggregate: { n: count() } }) })
 *     .to(action({ name: 'alert', when: (e) => e.features[0]! > 10, payload: (e) => e, to: postgresActionSink({ url }) })),
 * });
 */
export function scaledApp(app: ScaledApp): ScaledApp {
  requireOption(
    typeof app === 'object' && app !== null && typeof app.build === 'function',
    'a scaled app needs a build(stream, ctx) function',
  );
  requireOption(typeof app.input === 'string' && app.input !== '', 'a scaled app needs its input topic');
  pipeline(app.name); // validates the name
  return app;
}

/** A scaled app's stages, split where the stream must be repartitioned. */
export interface AppPlan {
  /** Stages before the repartition (all of them, and the sink, when nothing keeps state). */
  front: Step[];
  /** Stages after the repartition (undefined: no state, no repartition). */
  back: Step[] | undefined;
  sink: RunnablePipeline<unknown>['sink'];
}

const PLACEHOLDER: Source<Buffer | null> = {
  name: 'placeholder',
  open: async () => {},
  poll: async () => null,
  positions: () => ({}),
  lag: () => 0,
  close: async () => {},
};

/**
 * Builds the app's stages and finds the repartition: at the last `.keyBy()` before the first
 * stateful stage, so that every key's state sits with one worker.
 */
export function planApp(app: ScaledApp, ctx: ScaleContext): AppPlan {
  const built = app.build(pipeline(app.name).from(PLACEHOLDER), ctx);
  const steps = [...built.steps];
  const bad = steps.find((s) => s.kind === 'sync' && s.sides && s.sides.length > 0);
  if (bad) {
    throw new ConnectorError(
      'SLUICE_SCALE_UNSUPPORTED',
      `stage "${bad.name}" reads a side input (a table): tables are not partitioned across workers yet; run this pipeline on one worker`,
    );
  }
  const stateful = steps.findIndex((s) => s.kind === 'sync' && !!s.stateful);
  if (stateful < 0) return { front: steps, back: undefined, sink: built.sink };
  const keyAt = steps.findLastIndex((s, i) => i < stateful && s.kind === 'sync' && s.setsKey);
  if (keyAt < 0) {
    throw new ConnectorError(
      'SLUICE_SCALE_UNSUPPORTED',
      `stage "${steps[stateful]!.name}" keeps state but no .keyBy() comes before it: key the stream first, so each key's state lives on one worker`,
    );
  }
  const rekey = steps.findIndex((s, i) => i > stateful && s.kind === 'sync' && s.setsKey);
  if (rekey >= 0 && steps.some((s, i) => i > rekey && s.kind === 'sync' && !!s.stateful)) {
    throw new ConnectorError(
      'SLUICE_SCALE_UNSUPPORTED',
      `stage "${steps[rekey]!.name}" keys the stream a second time before more state: one repartition per scaled app is supported; split it into two apps joined by a topic`,
    );
  }
  return { front: steps.slice(0, keyAt + 1), back: steps.slice(keyAt + 1), sink: built.sink };
}
