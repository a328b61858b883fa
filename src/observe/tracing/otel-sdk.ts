// Loads the OpenTelemetry SDK (optional peer dependencies) when a run first traces, and shares
// one provider per export target across the runs of a process.

import { ObserveError } from '../slo-rules.js';
import type { TracingConfig } from './config.js';

type Api = typeof import('@opentelemetry/api');
type Tracer = import('@opentelemetry/api').Tracer;

/** What a tracer needs of the SDK: the API (contexts) and a tracer whose spans are exported. */
export interface OtelHandle {
  api: Api;
  tracer: Tracer;
  /** Exports every ended span now (at a run's end). */
  flush(): Promise<void>;
}

const PACKAGES =
  '@opentelemetry/api @opentelemetry/sdk-trace @opentelemetry/exporter-trace-otlp-http @opentelemetry/resources';
const providers = new Map<string, Promise<OtelHandle>>();

/**
 * The SDK handle for a tracing config: OTLP/HTTP (JSON) to `endpoint`, or the config's own
 * exporter, through a batch span processor. Spans are sampled by Sluice itself (per record,
 * before any span exists), so the provider samples everything it is given.
 */
export function otelHandle(config: TracingConfig): Promise<OtelHandle> {
  // A caller's own exporter gets its own provider; OTLP targets share one per URL and service.
  const id = config.exporter ? undefined : `${config.endpoint ?? ''}|${config.serviceName}`;
  const cached = id === undefined ? undefined : providers.get(id);
  if (cached) return cached;
  const made = load(config);
  if (id !== undefined) {
    providers.set(id, made);
    made.catch(() => providers.delete(id));
  }
  return made;
}

async function load(config: TracingConfig): Promise<OtelHandle> {
  let api: Api;
  let sdk: typeof import('@opentelemetry/sdk-trace');
  let resources: typeof import('@opentelemetry/resources');
  try {
    [api, sdk, resources] = await Promise.all([
      import('@opentelemetry/api'),
      import('@opentelemetry/sdk-trace'),
      import('@opentelemetry/resources'),
    ]);
  } catch (err) {
    throw new ObserveError(
      `tracing is on (OTEL_* variables or the tracing option) but the OpenTelemetry SDK is not installed: npm install ${PACKAGES} (${(err as Error).message})`,
    );
  }
  let exporter = config.exporter as import('@opentelemetry/sdk-trace').SpanExporter | undefined;
  if (exporter === undefined) {
    const otlp = await import('@opentelemetry/exporter-trace-otlp-http').catch((err: Error) => {
      throw new ObserveError(
        `tracing needs @opentelemetry/exporter-trace-otlp-http: npm install ${PACKAGES} (${err.message})`,
      );
    });
    exporter = new otlp.OTLPTraceExporter(config.endpoint ? { url: config.endpoint } : {});
  }
  const provider = new sdk.TracerProvider({
    resource: resources.resourceFromAttributes({ 'service.name': config.serviceName }),
    sampler: new sdk.AlwaysOnSampler(),
    spanProcessors: [
      new sdk.BatchSpanProcessor({ exporter, scheduledDelayMillis: 1000, maxQueueSize: 8192 }),
    ],
  });
  return {
    api,
    tracer: provider.getTracer('sluice'),
    flush: () => provider.forceFlush(),
  };
}
