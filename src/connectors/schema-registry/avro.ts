import type { Type as AvroType } from 'avsc';
import { DecodeError, EncodeError, SluiceError, type Decoder, type Encoder } from '../../stream/index.js';
import { registryDecoder, type RegistryOption, type SchemaText } from './registry-decoder.js';
import { registryEncoder, type EncoderRegistryOptions } from './registry-encoder.js';
import { payloadOf } from './wire.js';

export interface AvroOptions extends EncoderRegistryOptions {
  /** The Schema Registry: its URL, or a `SchemaRegistry` shared between decoders. */
  registry: RegistryOption;
  /**
   * The reader schema (Avro JSON, parsed or as text): records written with any compatible writer
   * schema are resolved to it (added fields take their defaults, removed ones are dropped).
   * Without it, records are decoded as written. Encoding: the writer schema, registered under
   * the subject (see `subject`, `autoRegister`); without it, the subject's latest version.
   */
  schema?: object | string;
}

interface Compiled {
  type: AvroType;
  resolver: ReturnType<AvroType['createResolver']> | undefined;
}

/**
 * Decodes and encodes Avro records in the Confluent wire format: decoding fetches writer schemas
 * from the registry by id; encoding (a sink's `encode`) registers the writer schema and frames
 * each payload with its id, a payload that does not fit being a dead letter. With a reader `schema`, writer→reader schema evolution applies; a writer schema the
 * reader cannot read (no default for a new field, a type change) makes its records dead letters.
 * Longs become numbers; bytes and fixed become Buffers.
 *
 * @example
 * type Tx = { id: number; amount: number; currency: string };
 * pipeline('fraud')
 *   .from(kafkaSource({ url: 'kafka://127.0.0.1:9092/transactions' }))
 *   .decode(avro<Tx>({ registry: 'http://127.0.0.1:8081', schema: TX_V2 }))
 */
export function avro<T = Record<string, unknown>>(opts: AvroOptions): Decoder<T> & Encoder<T> {
  let reader: AvroType | undefined;
  const decoder = registryDecoder<Compiled, T>(opts.registry, {
    name: 'avro',
    async compile(schema, id, refs) {
      const avsc = (await import('avsc')).default;
      if (schema.schemaType !== 'AVRO')
        throw new DecodeError(`schema id ${id} is a ${schema.schemaType} schema, not Avro`);
      let writer: AvroType;
      try {
        // Referenced named types are parsed first into the registry the writer schema resolves from.
        const registry = {};
        for (const r of refs) avsc.Type.forSchema(JSON.parse(r.schema), { registry });
        writer = avsc.Type.forSchema(JSON.parse(schema.schema), { registry });
      } catch (e) {
        throw new DecodeError(`schema id ${id} is not a valid Avro schema: ${(e as Error).message}`);
      }
      if (opts.schema === undefined) return { type: writer, resolver: undefined };
      try {
        reader ??= avsc.Type.forSchema(
          typeof opts.schema === 'string' ? JSON.parse(opts.schema) : opts.schema,
        );
      } catch (e) {
        // A setting to fix, not a bad record: the run fails with what is wrong.
        throw new SluiceError(
          'SLUICE_OPTION_INVALID',
          `avro: the reader schema is not valid Avro: ${(e as Error).message}`,
        );
      }
      try {
        return { type: reader, resolver: reader.createResolver(writer) };
      } catch (e) {
        throw new DecodeError(
          `records written with schema id ${id} cannot be read with the reader schema: ${(e as Error).message.slice(0, 300)}`,
        );
      }
    },
    decode(c, raw, id) {
      try {
        // `fromBuffer` checks that the payload is consumed exactly: truncated or trailing bytes throw.
        return c.type.fromBuffer(payloadOf(raw), c.resolver) as T;
      } catch (e) {
        throw new DecodeError(
          `malformed Avro payload for schema id ${id}: ${(e as Error).message.slice(0, 200)}`,
        );
      }
    },
  });
  const encoder = registryEncoder<AvroType, T>(opts.registry, opts, {
    name: 'avro',
    schemaType: 'AVRO',
    text:
      opts.schema === undefined
        ? undefined
        : typeof opts.schema === 'string'
          ? opts.schema
          : JSON.stringify(opts.schema),
    compile: (schema, refs, id) => parseAvro(schema.schema, refs, id),
    encode(type, value) {
      const problems: string[] = [];
      const hook = (path: string[], v: unknown, t: AvroType) =>
        problems.push(
          `${path.join('.') || '(value)'} = ${String(JSON.stringify(v)).slice(0, 60)} is not ${t.typeName}`,
        );
      if (!type.isValid(value, { errorHook: hook }))
        throw new EncodeError(`value does not match the Avro schema: ${problems.slice(0, 3).join('; ')}`);
      return type.toBuffer(value);
    },
  });
  return { ...decoder, ...encoder, name: 'avro' };
}

/** Parses an Avro schema, its referenced named types first. */
async function parseAvro(text: string, refs: readonly SchemaText[], id: number): Promise<AvroType> {
  const avsc = (await import('avsc')).default;
  try {
    const registry = {};
    for (const r of refs) avsc.Type.forSchema(JSON.parse(r.schema), { registry });
    return avsc.Type.forSchema(JSON.parse(text), { registry });
  } catch (e) {
    throw new SluiceError(
      'SLUICE_OPTION_INVALID',
      `avro: schema id ${id} is not valid Avro: ${(e as Error).message}`,
    );
  }
}
