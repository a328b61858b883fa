import type { IConversionOptions, Type as ProtoType } from 'protobufjs';
import { DecodeError, EncodeError, SluiceError, type Decoder, type Encoder } from '../../stream/index.js';
import { compileProto, type CompiledProto } from './proto-schema.js';
import { registryDecoder, type RegistryOption } from './registry-decoder.js';
import { messageIndexBytes, registryEncoder, type EncoderRegistryOptions } from './registry-encoder.js';
import { payloadOf, readMessageIndexes } from './wire.js';

export interface ProtobufOptions extends EncoderRegistryOptions {
  /** The Schema Registry: its URL, or a `SchemaRegistry` shared between decoders. */
  registry: RegistryOption;
  /**
   * The message type records must be, fully qualified (`fraud.Transaction`); a record of another
   * type is a dead letter. Without it, each record decodes as the type its message indexes name.
   * Encoding: the message type written (default the file's first message).
   */
  type?: string;
  /**
   * Encoding: the writer schema, .proto text, registered under the subject (see `subject`,
   * `autoRegister`); without it, the subject's latest version. Decoding does not use it.
   */
  schema?: string;
  /**
   * How messages become plain objects (protobufjs `toObject` options); default: enums as names,
   * 64-bit integers as numbers, bytes as Buffers, unset fields with their defaults.
   */
  conversion?: IConversionOptions;
}

const DEFAULT_CONVERSION: IConversionOptions = {
  enums: String,
  longs: Number,
  bytes: Buffer,
  defaults: true,
};

/**
 * Decodes Protobuf records in the Confluent wire format: the writer's .proto comes from the
 * registry by id, the message indexes after the id pick the message type. Protobuf's own rules
 * give schema evolution (unknown fields are skipped, missing ones take defaults). Imports of
 * Google's well-known types (`google/protobuf/timestamp.proto` & co) are supported; other
 * imports are not yet (those records are dead letters saying so).
 *
 * @example
 * type Tx = { id: number; amount: number; currency: string };
 * stream.decode(protobuf<Tx>({ registry: 'http://127.0.0.1:8081', type: 'fraud.Transaction' }))
 */
export function protobuf<T = Record<string, unknown>>(opts: ProtobufOptions): Decoder<T> & Encoder<T> {
  const conversion = opts.conversion ?? DEFAULT_CONVERSION;
  const wanted = opts.type?.replace(/^\./, '');
  const decoder = registryDecoder<CompiledProto, T>(opts.registry, {
    name: 'protobuf',
    async compile(schema, id, refs) {
      if (schema.schemaType !== 'PROTOBUF')
        throw new DecodeError(`schema id ${id} is a ${schema.schemaType} schema, not Protobuf`);
      try {
        return await compileProto(schema.schema, refs);
      } catch (e) {
        throw new DecodeError(
          `schema id ${id} is not a usable .proto: ${(e as Error).message.slice(0, 300)}`,
        );
      }
    },
    decode(types, raw, id) {
      const { path, start } = readMessageIndexes(raw);
      const type = types.get(path.join('.'));
      if (type === undefined)
        throw new DecodeError(`schema id ${id} has no message at index path [${path.join(', ')}]`);
      const name = type.fullName.slice(1);
      if (wanted !== undefined && name !== wanted)
        throw new DecodeError(`record is a ${name} (schema id ${id}), expected a ${wanted}`);
      try {
        return type.toObject(type.decode(payloadOf(raw, start)), conversion) as T;
      } catch (e) {
        throw new DecodeError(
          `malformed Protobuf payload for schema id ${id}: ${(e as Error).message.slice(0, 200)}`,
        );
      }
    },
  });
  const encoder = registryEncoder<{ type: ProtoType; indexes: Buffer }, T>(opts.registry, opts, {
    name: 'protobuf',
    schemaType: 'PROTOBUF',
    text: opts.schema,
    async compile(schema, refs, id) {
      let types: CompiledProto;
      try {
        types = await compileProto(schema.schema, refs);
      } catch (e) {
        throw new SluiceError(
          'SLUICE_OPTION_INVALID',
          `protobuf: schema id ${id} is not a usable .proto: ${(e as Error).message}`,
        );
      }
      const all = [...types];
      const found = wanted === undefined ? all[0] : all.find(([, t]) => t.fullName.slice(1) === wanted);
      if (found === undefined)
        throw new SluiceError(
          'SLUICE_OPTION_INVALID',
          `protobuf: schema id ${id} has no message ${wanted}; its messages: ${all.map(([, t]) => t.fullName.slice(1)).join(', ')}`,
        );
      return { type: found[1], indexes: messageIndexBytes(found[0].split('.').map(Number)) };
    },
    encode({ type, indexes }, value) {
      const why = type.verify(value as Record<string, unknown>);
      if (why !== null) throw new EncodeError(`value does not match ${type.fullName.slice(1)}: ${why}`);
      return Buffer.concat([
        indexes,
        type.encode(type.fromObject(value as Record<string, unknown>)).finish(),
      ]);
    },
  });
  return { ...decoder, ...encoder, name: 'protobuf' };
}
