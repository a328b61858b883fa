import type { IConversionOptions, Namespace, Root, Type as ProtoType } from 'protobufjs';
import { DecodeError, type Decoder } from '../../stream/index.js';
import { registryDecoder, type RegistryOption, type SchemaText } from './registry-decoder.js';
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
    async compile(schema, id, refs) {
      const pb = (await import('protobufjs')).default as unknown as Protobufjs;
      if (schema.schemaType !== 'PROTOBUF')
        throw new DecodeError(`schema id ${id} is a ${schema.schemaType} schema, not Protobuf`);
      let root: Root;
      let pkg: string | undefined;
      let own: string[] | undefined;
      try {
        ({ root, pkg, own } = isProtoText(schema.schema)
          ? parseProtoText(pb, schema.schema, refs)
          : await fromDescriptor(pb, schema.schema, refs));
        root.resolveAll();
      } catch (e) {
        throw new DecodeError(
          `schema id ${id} is not a usable .proto: ${(e as Error).message.slice(0, 300)}`,
        );
      }
      const types: Compiled = new Map();
      const walk = (ns: Namespace, prefix: string) => {
        // Message indexes count the schema's own messages only, not those of files it imports.
        const messages = ns.nestedArray.filter(
          (n): n is ProtoType =>
            n instanceof pb.Type && (prefix !== '' || own === undefined || own.includes(n.name)),
        );
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
  FileDescriptorProto: {
    decode(bytes: Uint8Array): { package?: string | null; messageType?: { name: string }[] };
  };
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

/** Parses .proto text; its imports are the registry's references (by file name) or Google's well-known types. */
export function parseProtoText(pb: Protobufjs, text: string, refs: readonly SchemaText[]): Loaded {
  const root = new pb.Root();
  const load = (source: string) => {
    const parsed = pb.parse(source, root, { keepCase: true });
    for (const file of [...(parsed.imports ?? []), ...(parsed.weakImports ?? [])]) {
      if (refs.some((r) => r.name === file)) continue; // parsed on its own, before this file
      // protobufjs bundles the well-known types; `common` returns their JSON descriptors.
      const wellKnown = file.startsWith('google/protobuf/') ? pb.common.get(file) : null;
      if (wellKnown === null)
        throw new Error(`it imports "${file}", which is neither a schema reference nor a well-known type`);
      root.addJSON(wellKnown.nested!);
    }
    return parsed.package;
  };
  for (const r of refs) load(r.schema);
  const pkg = load(text);
  if (refs.length === 0) return { root, pkg, own: undefined };
  // Which top-level messages are this file's own: parsed again alone (imports unresolved).
  const alone = pb.parse(text, new pb.Root(), { keepCase: true }).root;
  const ns = pkg ? alone.lookup(pkg) : alone;
  const own =
    ns instanceof pb.Namespace ? ns.nestedArray.filter((n) => n instanceof pb.Type).map((n) => n.name) : [];
  return { root, pkg, own };
}

interface Loaded {
  root: Root;
  pkg: string | undefined;
  /** The names of the schema's own top-level messages, when it imports others. */
  own: string[] | undefined;
}

async function fromDescriptor(pb: Protobufjs, base64: string, refs: readonly SchemaText[]): Promise<Loaded> {
  const descriptor = (await import('protobufjs/ext/descriptor/index.js')).default as unknown as DescriptorExt;
  const file = descriptor.FileDescriptorProto.decode(Buffer.from(base64, 'base64'));
  // Imports come as references, themselves serialized descriptors.
  const deps = refs.map((r) => descriptor.FileDescriptorProto.decode(Buffer.from(r.schema, 'base64')));
  // The extension adds Root.fromDescriptor when imported.
  const root = (pb.Root as unknown as { fromDescriptor(d: unknown): Root }).fromDescriptor(
    descriptor.FileDescriptorSet.create({ file: [...deps, file] }),
  );
  return { root, pkg: file.package ?? undefined, own: file.messageType?.map((m) => m.name) };
}
