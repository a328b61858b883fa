// One span per sampled record, a child span per stage it passes, a batch span (linked to the
// records it carried) per async stage call — the model call, the action delivery — and the
// record's `traceparent` for what it causes downstream (webhooks, Kafka headers).

import type { Context } from '@opentelemetry/api';
import type { TracingConfig } from './config.js';
import { otelHandle, type OtelHandle } from './otel-sdk.js';
import { formatTraceparent, parseTraceparent } from './traceparent.js';

/**
 * The record's span as far as Sluice uses it. Declared here, not taken from
 * `@opentelemetry/api`, so the package's types do not need the optional SDK installed.
 */
export interface RecordSpan {
  spanContext(): { traceId: string; spanId: string };
  end(endTime?: number): void;
}

/** The trace of one sampled record, carried on its envelope. */
export interface RecordTrace {
  readonly span: RecordSpan;
  /** The context whose active span is the record's (an OpenTelemetry `Context`): stage spans' parent. */
  readonly context: unknown;
  /** When the record's previous stage ended (epoch ms): the next stage span's start. */
  last: number;
  /** W3C `traceparent` of the record's span, for requests and messages it causes. */
  readonly traceparent: string;
}

/** What the tracer reads and sets on a record (the stream's envelope has these fields). */
export interface TracedRecord {
  /** The `traceparent` the record arrived with (a Kafka header, HTTP header, MQTT property). */
  traceparent?: string | undefined;
  trace?: RecordTrace | undefined;
  stamps: number[];
  topic: string;
  partition: number;
  offset: number;
}

const CONSUMER = 4; // SpanKind.CONSUMER, without loading the API for a constant
const SAMPLED = 1; // TraceFlags.SAMPLED

/**
 * Decides per record, then makes spans for the sampled ones only: with 1 % sampling the other
 * 99 % cost one property read and a counter decrement.
 *
 * @example
 * const tracer = await RecordTracer.start('fraud', tracingConfig({ ratio: 0.01 })!);
 * const traces = tracer.sample(records); // undefined when none was sampled
 * if (traces) { tracer.stage(traces, 'features', now); tracer.end(traces, now); }
 */
export class RecordTracer {
  /** Records left before the next root (non-parented) sample: a geometric countdown. */
  private skip = 0;
  private readonly parentBased: boolean;
  private readonly rootRatio: number;

  private constructor(
    private readonly otel: OtelHandle,
    private readonly pipeline: string,
    config: TracingConfig,
  ) {
    const s = config.sampler;
    this.parentBased = s.startsWith('parentbased_');
    this.rootRatio = s.endsWith('always_on') ? 1 : s.endsWith('always_off') ? 0 : config.ratio;
    this.skip = this.nextSkip();
  }

  /** Loads the SDK (once per export target) and makes a tracer for one pipeline. */
  static async start(pipeline: string, config: TracingConfig): Promise<RecordTracer> {
    return new RecordTracer(await otelHandle(config), pipeline, config);
  }

  private nextSkip(): number {
    const r = this.rootRatio;
    if (r >= 1) return 0;
    if (r <= 0) return Infinity;
    return Math.floor(Math.log(1 - Math.random()) / Math.log(1 - r));
  }

  /** Samples a batch of records just read; starts a span for each one sampled. */
  sample(records: readonly TracedRecord[]): RecordTrace[] | undefined {
    let out: RecordTrace[] | undefined;
    for (let i = 0; i < records.length; i++) {
      const r = records[i]!;
      const parent = r.traceparent === undefined ? undefined : parseTraceparent(r.traceparent);
      let take: boolean;
      if (parent !== undefined && this.parentBased) take = parent.sampled;
      else if (this.skip > 0) {
        this.skip--;
        take = false;
      } else {
        take = true;
        this.skip = this.nextSkip();
      }
      if (!take) continue;
      (out ??= []).push((r.trace = this.recordSpan(r, parent)));
    }
    return out;
  }

  private recordSpan(r: TracedRecord, parent: ReturnType<typeof parseTraceparent>): RecordTrace {
    const { api, tracer } = this.otel;
    const parentContext =
      parent === undefined
        ? api.ROOT_CONTEXT
        : api.trace.setSpanContext(api.ROOT_CONTEXT, {
            traceId: parent.traceId,
            spanId: parent.spanId,
            traceFlags: SAMPLED,
            isRemote: true,
          });
    const start = r.stamps[0]!;
    const span = tracer.startSpan(
      `${this.pipeline} process`,
      {
        kind: CONSUMER,
        startTime: start,
        attributes: {
          'sluice.pipeline': this.pipeline,
          'messaging.destination.name': r.topic,
          'messaging.destination.partition.id': String(r.partition),
          'messaging.kafka.offset': r.offset,
        },
      },
      parentContext,
    );
    const sc = span.spanContext();
    return {
      span,
      context: api.trace.setSpan(parentContext, span),
      last: start,
      traceparent: formatTraceparent({ traceId: sc.traceId, spanId: sc.spanId, sampled: true }),
    };
  }

  /** A child span per record for the stage that just ended at `t`. */
  stage(traces: readonly RecordTrace[], name: string, t: number): void {
    const tracer = this.otel.tracer;
    for (const tr of traces) {
      tracer
        .startSpan(name, { startTime: tr.last, attributes: { 'sluice.stage': name } }, tr.context as Context)
        .end(t);
      tr.last = t;
    }
  }

  /** One span for an async stage's call on a whole batch, linked to the records it carried. */
  batch(traces: readonly RecordTrace[], name: string, size: number, start: number, end: number): void {
    this.otel.tracer
      .startSpan(`${name} batch`, {
        startTime: start,
        links: traces.map((tr) => ({ context: { ...tr.span.spanContext(), traceFlags: SAMPLED } })),
        attributes: { 'sluice.pipeline': this.pipeline, 'sluice.stage': name, 'sluice.batch.size': size },
      })
      .end(end);
  }

  /** Ends the records' spans: they have passed the last stage (or left as dead letters). */
  end(traces: readonly RecordTrace[], t: number): void {
    for (const tr of traces) tr.span.end(t);
  }

  /** Exports what has ended (a run's end). */
  flush(): Promise<void> {
    return this.otel.flush();
  }
}
