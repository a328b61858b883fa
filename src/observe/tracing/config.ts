// Which records get traced, from options or the standard OpenTelemetry environment variables
// (https://opentelemetry.io/docs/specs/otel/configuration/sdk-environment-variables/).

import { ObserveError } from '../slo-rules.js';

/** The samplers of `OTEL_TRACES_SAMPLER` (the spec's names). */
export type SamplerName =
  | 'always_on'
  | 'always_off'
  | 'traceidratio'
  | 'parentbased_always_on'
  | 'parentbased_always_off'
  | 'parentbased_traceidratio';

const SAMPLERS: readonly SamplerName[] = [
  'always_on',
  'always_off',
  'traceidratio',
  'parentbased_always_on',
  'parentbased_always_off',
  'parentbased_traceidratio',
];

/**
 * A record stream is many thousands of "requests" a second, so where the spec defaults to
 * tracing everything, Sluice traces 1 % of records that arrive without a sampled `traceparent`.
 */
export const DEFAULT_SAMPLE_RATIO = 0.01;

/** Tracing of a run: one span per sampled record, a child per stage, batch spans with links. */
export interface TracingOptions {
  /** Default `parentbased_traceidratio`: follow a sampled caller, else sample `ratio` of records. */
  sampler?: SamplerName;
  /** Share of records traced when the sampler is ratio-based; default 0.01. */
  ratio?: number;
  /**
   * OTLP/HTTP traces URL, e.g. `http://127.0.0.1:4318/v1/traces`; default from
   * `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` / `OTEL_EXPORTER_OTLP_ENDPOINT` (+ `/v1/traces`).
   */
  endpoint?: string;
  /** `service.name` of the spans; default `OTEL_SERVICE_NAME`, else `sluice`. */
  serviceName?: string;
  /** An OpenTelemetry `SpanExporter` to use instead of OTLP/HTTP (tests, other backends). */
  exporter?: unknown;
}

/** The resolved settings a tracer is built from. */
export interface TracingConfig {
  sampler: SamplerName;
  ratio: number;
  endpoint: string | undefined;
  serviceName: string;
  exporter: unknown;
}

function checkRatio(ratio: number, from: string): number {
  if (!(ratio >= 0 && ratio <= 1))
    throw new ObserveError(`${from} must be a number from 0 to 1, got ${ratio}`);
  return ratio;
}

function checkSampler(name: string, from: string): SamplerName {
  if (!SAMPLERS.includes(name as SamplerName))
    throw new ObserveError(`${from} "${name}" is not one of ${SAMPLERS.join(', ')}`);
  return name as SamplerName;
}

/**
 * The tracing settings for a run: `options` when given (`false`: off), else the environment.
 * From the environment tracing is on when `OTEL_TRACES_SAMPLER` names a sampler other than
 * `always_off`, or an OTLP endpoint is set; `OTEL_SDK_DISABLED=true` or
 * `OTEL_TRACES_EXPORTER=none` turn it off. Undefined: off (nothing is loaded, nothing costs).
 *
 * @example
 * tracingConfig(undefined, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' });
 * // { sampler: 'parentbased_traceidratio', ratio: 0.01, endpoint: 'http://127.0.0.1:4318/v1/traces', serviceName: 'sluice', exporter: undefined }
 */
export function tracingConfig(
  options: TracingOptions | false | undefined,
  env: NodeJS.ProcessEnv = process.env,
): TracingConfig | undefined {
  if (options === false) return undefined;
  const envEndpoint =
    env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ||
    (env.OTEL_EXPORTER_OTLP_ENDPOINT
      ? `${env.OTEL_EXPORTER_OTLP_ENDPOINT.replace(/\/+$/, '')}/v1/traces`
      : undefined);
  if (options === undefined) {
    if (env.OTEL_SDK_DISABLED === 'true' || env.OTEL_TRACES_EXPORTER === 'none') return undefined;
    const named = env.OTEL_TRACES_SAMPLER;
    if ((named === undefined || named === '') && !envEndpoint) return undefined;
    if (named === 'always_off') return undefined;
  }
  const sampler = checkSampler(
    options?.sampler ?? (env.OTEL_TRACES_SAMPLER || 'parentbased_traceidratio'),
    options?.sampler !== undefined ? 'tracing.sampler' : 'OTEL_TRACES_SAMPLER',
  );
  const arg = env.OTEL_TRACES_SAMPLER_ARG;
  const ratio =
    options?.ratio !== undefined
      ? checkRatio(options.ratio, 'tracing.ratio')
      : arg !== undefined && arg !== ''
        ? checkRatio(Number(arg), 'OTEL_TRACES_SAMPLER_ARG')
        : DEFAULT_SAMPLE_RATIO;
  return {
    sampler,
    ratio,
    endpoint: options?.endpoint ?? envEndpoint,
    serviceName: options?.serviceName ?? (env.OTEL_SERVICE_NAME || 'sluice'),
    exporter: options?.exporter,
  };
}
