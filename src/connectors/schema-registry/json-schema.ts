import type { ValidateFunction } from 'ajv';
import { DecodeError, EncodeError, SluiceError, type Decoder, type Encoder } from '../../stream/index.js';
import { registryDecoder, type RegistryOption, type SchemaText } from './registry-decoder.js';
import { registryEncoder, type EncoderRegistryOptions } from './registry-encoder.js';
import { payloadOf } from './wire.js';

export interface JsonSchemaOptions extends EncoderRegistryOptions {
  /** The Schema Registry: its URL, or a `SchemaRegistry` shared between decoders. */
  registry: RegistryOption;
  /**
   * Encoding: the writer JSON Schema (parsed or as text), registered under the subject (see
   * `subject`, `autoRegister`); without it, the subject's latest version. Values are validated
   * against it before they are written. Decoding does not use it.
   */
  schema?: object | string;
  /** The largest payload accepted; default 1 MiB. */
  maxBytes?: number;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Decodes JSON records in the Confluent wire format and validates each against the JSON Schema
 * registered under its id (drafts 4 to 2020-12, by the schema's `$schema`; draft-07 when absent,
 * as Confluent's serializers write). A record that does not match is a dead letter with ajv's
 * first error.
 *
 * @example
 * type Tx = { id: number; amount: number };
 * stream.decode(jsonSchema<Tx>({ registry: 'http://127.0.0.1:8081' }))
 */
export function jsonSchema<T = Record<string, unknown>>(opts: JsonSchemaOptions): Decoder<T> & Encoder<T> {
  const maxBytes = opts.maxBytes ?? 1024 * 1024;
  const decoder = registryDecoder<ValidateFunction, T>(opts.registry, {
    name: 'json-schema',
    async compile(schema, id, refs) {
      if (schema.schemaType !== 'JSON')
        throw new DecodeError(`schema id ${id} is a ${schema.schemaType} schema, not a JSON Schema`);
      try {
        return await compileJsonSchema(schema.schema, refs);
      } catch (e) {
        throw new DecodeError(
          `schema id ${id} is not a usable JSON Schema: ${(e as Error).message.slice(0, 200)}`,
        );
      }
    },
    decode(validate, raw, id) {
      if (raw.length - 5 > maxBytes)
        throw new DecodeError(`record of ${raw.length} bytes exceeds the ${maxBytes}-byte limit`);
      let value: unknown;
      try {
        value = JSON.parse(utf8.decode(payloadOf(raw)));
      } catch (e) {
        throw new DecodeError(
          `malformed JSON payload for schema id ${id}: ${(e as Error).message.slice(0, 200)}`,
        );
      }
      if (!validate(value)) {
        const err = validate.errors?.[0];
        throw new DecodeError(
          `record does not match JSON Schema id ${id}: ${err ? `${err.instancePath || '/'} ${err.message ?? ''}` : 'invalid'}`.trimEnd(),
        );
      }
      return value as T;
    },
  });
  const encoder = registryEncoder<ValidateFunction, T>(opts.registry, opts, {
    name: 'json-schema',
    schemaType: 'JSON',
    text:
      opts.schema === undefined
        ? undefined
        : typeof opts.schema === 'string'
          ? opts.schema
          : JSON.stringify(opts.schema),
    async compile(schema, refs, id) {
      try {
        return await compileJsonSchema(schema.schema, refs);
      } catch (e) {
        throw new SluiceError(
          'SLUICE_OPTION_INVALID',
          `json-schema: schema id ${id} is not a usable JSON Schema: ${(e as Error).message}`,
        );
      }
    },
    encode(validate, value) {
      if (!validate(value)) {
        const err = validate.errors?.[0];
        throw new EncodeError(
          `value does not match the JSON Schema: ${err ? `${err.instancePath || '/'} ${err.message ?? ''}` : 'invalid'}`.trimEnd(),
        );
      }
      return Buffer.from(JSON.stringify(value));
    },
  });
  return { ...decoder, ...encoder, name: 'json-schema' };
}

/**
 * Compiles a JSON Schema with the validator of its draft (by `$schema`; draft-07 when absent);
 * referenced schemas are added under their reference names, which its `$ref`s use.
 */
async function compileJsonSchema(text: string, refs: readonly SchemaText[]): Promise<ValidateFunction> {
  const doc = JSON.parse(text) as { $schema?: string };
  // One validator per draft; strict off: registries hold schemas written for other tools.
  const draft = doc.$schema ?? '';
  const Ajv = draft.includes('2020-12')
    ? (await import('ajv/dist/2020.js')).default.default
    : draft.includes('2019-09')
      ? (await import('ajv/dist/2019.js')).default.default
      : (await import('ajv')).default.default;
  const ajv = new Ajv({ strict: false, logger: false });
  for (const r of refs) ajv.addSchema(JSON.parse(r.schema) as object, r.name);
  return ajv.compile(doc);
}
