import { SluiceError, type Encoder } from '../../stream/index.js';
import { ConnectorError } from '../errors.js';
import type { RegistrySchema } from './client.js';
import { registryOf, type RegistryOption, type SchemaText } from './registry-decoder.js';
import { HEADER_BYTES } from './wire.js';

/** How an encoder finds its writer schema in the registry. */
export interface EncoderRegistryOptions {
  /**
   * The subject the writer schema is registered under; default TopicNameStrategy,
   * `<topic>-value`. A function gets the sink's topic.
   */
  subject?: string | ((topic: string) => string);
  /**
   * Register the writer schema when it is not there yet (the registry checks it against the
   * subject's compatibility level and refuses an incompatible one). Default true; with false it
   * must already be registered under the subject (looked up, never written).
   */
  autoRegister?: boolean;
}

/** What a format adds to the shared encoder machinery. */
export interface EncodeFormat<W> {
  name: string;
  schemaType: RegistrySchema['schemaType'];
  /** The writer schema text given in the options; undefined: the subject's latest version. */
  text: string | undefined;
  compile(schema: RegistrySchema, refs: readonly SchemaText[], id: number): Promise<W>;
  /** The bytes after the 5-byte header (Protobuf: message indexes included); EncodeError if the value does not fit. */
  encode(compiled: W, value: unknown): Uint8Array;
}

/**
 * An encoder writing the Confluent wire format (magic byte 0, the writer schema's id as 4 bytes
 * big-endian, the payload). At `open(topic)` it registers (or looks up) the writer schema under
 * the subject and keeps its id; with no schema given it writes with the subject's latest version.
 * One encoder per sink: it holds one topic's schema id.
 */
export function registryEncoder<W, T>(
  registry: RegistryOption,
  opts: EncoderRegistryOptions,
  format: EncodeFormat<W>,
): Encoder<T> {
  const client = registryOf(registry);
  let ready: { compiled: W; header: Buffer } | undefined;
  const subjectOf = (topic: string) =>
    typeof opts.subject === 'function' ? opts.subject(topic) : (opts.subject ?? `${topic}-value`);
  return {
    name: format.name,
    async open(topic: string) {
      const subject = subjectOf(topic);
      let schema: RegistrySchema;
      let id: number;
      if (format.text !== undefined) {
        schema = { schemaType: format.schemaType, schema: format.text, references: [] };
        const found =
          opts.autoRegister === false
            ? await client.lookup(subject, schema)
            : await client.register(subject, schema);
        if (found === undefined)
          throw new ConnectorError(
            'SLUICE_SCHEMA_REGISTRY_REFUSED',
            `${format.name} encoder: the schema is not registered under subject "${subject}" in ${client.url}; register it, or leave autoRegister on`,
          );
        id = found;
      } else {
        const latest = await client.version(subject, 'latest');
        if (latest === undefined)
          throw new ConnectorError(
            'SLUICE_SCHEMA_REGISTRY_REFUSED',
            `${format.name} encoder: subject "${subject}" has no schema in ${client.url}; give the encoder a schema, or register one`,
          );
        schema = latest;
        id = latest.id;
      }
      if (schema.schemaType !== format.schemaType)
        throw new ConnectorError(
          'SLUICE_SCHEMA_REGISTRY_REFUSED',
          `${format.name} encoder: subject "${subject}" holds a ${schema.schemaType} schema (id ${id})`,
        );
      const refs = schema.references.length > 0 ? await client.references(schema) : [];
      const header = Buffer.alloc(HEADER_BYTES);
      header.writeUInt32BE(id, 1);
      ready = { compiled: await format.compile(schema, refs, id), header };
    },
    encode(value: T): Buffer {
      if (ready === undefined)
        throw new SluiceError(
          'SLUICE_OPTION_INVALID',
          `${format.name} encoder: call open(topic) first (sinks do this at open)`,
        );
      return Buffer.concat([ready.header, format.encode(ready.compiled, value)]);
    },
  };
}

/** Writes Protobuf message indexes (zigzag varints: a count, then the path; [0] as a single 0). */
export function messageIndexBytes(path: readonly number[]): Buffer {
  const ints = path.length === 1 && path[0] === 0 ? [0] : [path.length, ...path];
  const out: number[] = [];
  for (const n of ints) {
    let v = n * 2; // zigzag of a non-negative number
    while (v > 0x7f) {
      out.push((v & 0x7f) | 0x80);
      v = Math.floor(v / 128);
    }
    out.push(v);
  }
  return Buffer.from(out);
}
