import type { IConversionOptions, Namespace, Root, Type as ProtoType } from 'protobufjs';
import { DecodeError, type Decoder } from '../../stream/index.js';
import { registryDecoder, type RegistryOption } from './registry-decoder.js';
import { payloadOf, readMessageIndexes } from './wire.js';

export interface ProtobufOptions {
  /** The Schema Registry: its URL, or a `SchemaRegistry` shared between decoders. */
  registry: RegistryOption;
  /**
   * The message type records must be, fully qualified (`fraud.Transaction`); a record of another
   * type is a dead letter. Without it, each record decodes as the type its message indexes name.
   */
  type?: string;
  /**
   * How messages become plain objects (protobufjs `toObject` options); default: enums as names,
   * 64-bit integers as numbers, bytes as Buffers, unset fields with their defaults.
   */
  conversion?: IConversionOptions;
}

/** The message types of one .proto file, by Confluent message-index path ("0", "1.0"). */
type Compiled = Map<string, ProtoType>;

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
export function protobuf<T = Record<string, unknown>>(opts: ProtobufOptions): Decoder<T> {
  const conversion = opts.conversion ?? DEFAULT_CONVERSION;
  const wanted = opts.type?.replace(/^\./, '');
  return registryDecoder<Compiled, T>(opts.registry, {
    name: 'protobuf',
    async compile(schema, id) {
      const pb = (await import('protobufjs')).default as unknown as Protobufjs;
      if (schema.schemaType !== 'PROTOBUF')
        throw new DecodeError(`schema id ${id} is a ${schema.schemaType} schema, not Protobuf`);
      let root: Root;
      let pkg: string | undefined;
      try {
        ({ root, pkg } = isProtoText(schema.schema)
          ? parseProtoText(pb, schema.schema)
          : await fromDescriptor(pb, schema.schema));
        root.resolveAll();
      } catch (e) {
        throw new DecodeError(
          `schema id ${id} is not a usable .proto: ${(e as Error).message.slice(0, 300)}`,
        );
      }
      const types: Compiled = new Map();
      const walk = (ns: Namespace, prefix: string) => {
        const messages = ns.nestedArray.filter((n): n is ProtoType => n instanceof pb.Type);
        messages.forEach((t, i) => {
          const path = prefix ? `${prefix}.${i}` : String(i);
          types.set(path, t);
          walk(t, path);
        });
      };
      const ns = pkg ? root.lookup(pkg) : root;
      if (ns instanceof pb.Namespace) walk(ns, '');
      if (types.size === 0) throw new DecodeError(`schema id ${id} defines no message type`);
      return types;
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
}

type Protobufjs = typeof import('protobufjs');
/** The parts of protobufjs' descriptor extension used here (its bundled typings do not resolve). */
interface DescriptorExt {
  FileDescriptorProto: { decode(bytes: Uint8Array): { package?: string | null; dependency?: string[] } };
  FileDescriptorSet: { create(value: { file: unknown[] }): unknown };
}

/**
 * Registries answer with the .proto text; a schema registered as a serialized descriptor (as
 * Confluent's JavaScript serializer registers it) may come back base64-encoded, which holds
 * neither braces nor semicolons.
 */
function isProtoText(schema: string): boolean {
  return /[{;]/.test(schema);
}

function parseProtoText(pb: Protobufjs, text: string): { root: Root; pkg: string | undefined } {
  const root = new pb.Root();
  const parsed = pb.parse(text, root, { keepCase: true });
  for (const file of [...(parsed.imports ?? []), ...(parsed.weakImports ?? [])]) {
    // protobufjs bundles the well-known types; `common` returns their JSON descriptors.
    const wellKnown = file.startsWith('google/protobuf/') ? pb.common.get(file) : null;
    if (wellKnown === null)
      throw new Error(
        `it imports "${file}", and only Google's well-known types are supported as imports yet`,
      );
    root.addJSON(wellKnown.nested!);
  }
  return { root, pkg: parsed.package };
}

async function fromDescriptor(
  pb: Protobufjs,
  base64: string,
): Promise<{ root: Root; pkg: string | undefined }> {
  const descriptor = (await import('protobufjs/ext/descriptor/index.js')).default as unknown as DescriptorExt;
  const file = descriptor.FileDescriptorProto.decode(Buffer.from(base64, 'base64'));
  if (file.dependency && file.dependency.length > 0)
    throw new Error(
      `it imports ${file.dependency.join(', ')}; imports of serialized descriptors are not supported yet`,
    );
  // The extension adds Root.fromDescriptor when imported.
  const root = (pb.Root as unknown as { fromDescriptor(d: unknown): Root }).fromDescriptor(
    descriptor.FileDescriptorSet.create({ file: [file] }),
  );
  return { root, pkg: file.package ?? undefined };
}
