import type { Namespace, Root, Type as ProtoType } from 'protobufjs';
import type { SchemaText } from './registry-decoder.js';

/** The message types of one .proto file, by Confluent message-index path ("0", "1.0"). */
export type CompiledProto = Map<string, ProtoType>;

/**
 * Parses a registry's Protobuf schema (.proto text, or a base64 FileDescriptorProto) with the
 * files it references, and lists its own message types by message-index path.
 */
export async function compileProto(schema: string, refs: readonly SchemaText[]): Promise<CompiledProto> {
  const pb = (await import('protobufjs')).default as unknown as Protobufjs;
  const { root, pkg, own } = isProtoText(schema)
    ? parseProtoText(pb, schema, refs)
    : await fromDescriptor(pb, schema, refs);
  root.resolveAll();
  const types: CompiledProto = new Map();
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
  if (types.size === 0) throw new Error('it defines no message type');
  return types;
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
function parseProtoText(pb: Protobufjs, text: string, refs: readonly SchemaText[]): Loaded {
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
