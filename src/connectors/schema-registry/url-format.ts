import { readFileSync } from 'node:fs';
import {
  conform,
  json,
  type Decoder,
  type Encoder,
  type FromSchema,
  type JsonSchema,
} from '../../stream/index.js';
import { redactUrls } from '../../core/redact.js';
import { ConnectorError } from '../errors.js';
import { avro } from './avro.js';
import { jsonSchema } from './json-schema.js';
import { protobuf } from './protobuf.js';

/** The values of a source URL's `?format=`. */
export const URL_FORMATS = ['json', 'avro', 'protobuf', 'json-schema'] as const;

/**
 * The decoder a source URL asks for with `?format=` (default `json`): `avro`, `protobuf` or
 * `json-schema` read the Confluent wire format with the registry of `&registry=http://HOST:PORT`
 * (Protobuf: `&type=package.Message` optional). Whatever the format, records are then checked
 * against `schema` as `json(schema)` checks JSON, so a pipeline written for JSON reads them
 * with the same field names, types and dead-letter rules.
 *
 * @example
 * const url = 'kafka://127.0.0.1:9092/transactions?format=avro&registry=http://127.0.0.1:8081';
 * pipeline('fraud').from(sourceFromUrl(url)).decode(decoderFromUrl(url, TX_SCHEMA))...
 */
export function decoderFromUrl<const S extends JsonSchema>(url: string, schema: S): Decoder<FromSchema<S>> {
  const q = url.indexOf('?');
  const query = new URLSearchParams(q >= 0 ? url.slice(q + 1) : '');
  const format = query.get('format') ?? 'json';
  if (format === 'json') return json(schema);
  const bad = (why: string) =>
    new ConnectorError('SLUICE_SOURCE_URL', `source URL "${redactUrls(url)}": ${why}`);
  if (!(URL_FORMATS as readonly string[]).includes(format))
    throw bad(`format "${format}" is not supported (use ${URL_FORMATS.join(', ')})`);
  const registry = query.get('registry');
  if (!registry) throw bad(`format=${format} needs the schema registry: add &registry=http://HOST:PORT`);
  const inner: Decoder<unknown> =
    format === 'avro'
      ? avro({ registry })
      : format === 'protobuf'
        ? protobuf({ registry, type: query.get('type') ?? undefined })
        : jsonSchema({ registry });
  const check = conform(schema);
  return {
    name: inner.name,
    prepare: inner.prepare!.bind(inner),
    decode: (raw) => check(inner.decode(raw)),
  };
}

/**
 * The encoder a sink URL asks for with `?format=avro|protobuf|json-schema&registry=URL`:
 * `&schema=PATH` names the writer schema file (.avsc / .proto / JSON Schema), registered under
 * `&subject=` (default `<topic>-value`); without it, the subject's latest version is used.
 * Protobuf: `&type=package.Message`. Undefined for no format or `format=json` (payloads as JSON).
 *
 * @example
 * actionSinkFromUrl('kafka://127.0.0.1:9092/alerts?format=avro&registry=http://127.0.0.1:8081&schema=alert.avsc', { encode: encoderFromUrl })
 */
export function encoderFromUrl(url: string): Encoder | undefined {
  const q = url.indexOf('?');
  const query = new URLSearchParams(q >= 0 ? url.slice(q + 1) : '');
  const format = query.get('format') ?? 'json';
  if (format === 'json') return undefined;
  const bad = (why: string) =>
    new ConnectorError('SLUICE_SINK_FORMAT', `sink URL "${redactUrls(url)}": ${why}`);
  if (!(URL_FORMATS as readonly string[]).includes(format))
    throw bad(`format "${format}" is not supported (use ${URL_FORMATS.join(', ')})`);
  const registry = query.get('registry');
  if (!registry) throw bad(`format=${format} needs the schema registry: add &registry=http://HOST:PORT`);
  const path = query.get('schema');
  let schema: string | undefined;
  if (path !== null) {
    try {
      schema = readFileSync(path, 'utf8');
    } catch (e) {
      throw bad(
        `cannot read the schema file ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
      );
    }
  }
  const common = { registry, ...(query.get('subject') ? { subject: query.get('subject')! } : {}) };
  if (format === 'protobuf') return protobuf({ ...common, schema, type: query.get('type') ?? undefined });
  return format === 'avro' ? avro({ ...common, schema }) : jsonSchema({ ...common, schema });
}
