// Schema validation and compatibility checks of the embedded Schema Registry. Avro uses avsc's
// schema resolution (a resolver from writer to reader exists exactly when the reader can read
// the writer's records); JSON Schema and Protobuf use the rules below, a practical subset of
// what Confluent's registry checks (documented in docs/broker.md).

import type { CompatibilityLevel, SchemaType } from './store.js';

/** A schema that failed to parse: the registry answers 422 (42201) with the message. */
export class InvalidSchemaError extends Error {}

/** A parsed schema, ready for compatibility checks. */
export type Parsed =
  | { type: 'AVRO'; avro: import('avsc').Type }
  | { type: 'JSON'; json: JsonNode }
  | { type: 'PROTOBUF'; messages: Map<string, Map<number, string>> };

type JsonNode = boolean | { [k: string]: unknown };

/** The parts of protobufjs' descriptor extension used here (its bundled typings do not resolve). */
interface DescriptorExt {
  FileDescriptorProto: { decode(bytes: Uint8Array): unknown };
  FileDescriptorSet: { create(value: { file: unknown[] }): unknown };
}

/** A schema's text with its references already resolved, dependencies first. */
export interface SchemaText {
  schemaType: SchemaType;
  schema: string;
  /** Referenced schemas, each with the name it is imported by. */
  refs: { name: string; schema: string }[];
}

export async function parseSchema(s: SchemaText): Promise<Parsed> {
  try {
    if (s.schemaType === 'AVRO') {
      const avsc = (await import('avsc')).default;
      const registry = {};
      for (const r of s.refs) avsc.Type.forSchema(JSON.parse(r.schema), { registry });
      return { type: 'AVRO', avro: avsc.Type.forSchema(JSON.parse(s.schema), { registry }) };
    }
    if (s.schemaType === 'JSON') {
      const doc = JSON.parse(s.schema) as JsonNode;
      const Ajv = (await import('ajv')).default.default;
      const draft = typeof doc === 'object' ? String(doc.$schema ?? '') : '';
      // Only drafts 4-7 compile here; newer ones are checked as JSON and by their shape.
      if (!/2019-09|2020-12/.test(draft)) {
        const ajv = new Ajv({ strict: false, logger: false });
        for (const r of s.refs) ajv.addSchema(JSON.parse(r.schema) as object, r.name);
        ajv.compile(doc);
      }
      return { type: 'JSON', json: doc };
    }
    return { type: 'PROTOBUF', messages: await protoMessages(s) };
  } catch (e) {
    throw new InvalidSchemaError(`invalid ${s.schemaType} schema: ${(e as Error).message.slice(0, 400)}`);
  }
}

/**
 * What makes `candidate` incompatible with the subject's `previous` versions (oldest first)
 * under `level`; empty when compatible.
 */
export function incompatibilities(
  level: CompatibilityLevel,
  candidate: Parsed,
  previous: Parsed[],
): string[] {
  if (level === 'NONE' || previous.length === 0) return [];
  const against = level.endsWith('_TRANSITIVE') ? previous : previous.slice(-1);
  const backward = level.startsWith('BACKWARD') || level.startsWith('FULL');
  const forward = level.startsWith('FORWARD') || level.startsWith('FULL');
  const out: string[] = [];
  for (const old of against) {
    if (backward)
      out.push(...canRead(candidate, old).map((m) => `BACKWARD: the new schema cannot read old data: ${m}`));
    if (forward)
      out.push(...canRead(old, candidate).map((m) => `FORWARD: the old schema cannot read new data: ${m}`));
  }
  return out;
}

/** Why records written with `writer` cannot be read with `reader`. */
function canRead(reader: Parsed, writer: Parsed): string[] {
  if (reader.type !== writer.type) return [`schema type changed from ${writer.type} to ${reader.type}`];
  if (reader.type === 'AVRO') {
    try {
      reader.avro.createResolver((writer as typeof reader).avro);
      return [];
    } catch (e) {
      return [(e as Error).message.slice(0, 300)];
    }
  }
  if (reader.type === 'JSON') return jsonCanRead(reader.json, (writer as typeof reader).json, '#');
  return protoCanRead(reader.messages, (writer as typeof reader).messages);
}

function jsonCanRead(reader: JsonNode, writer: JsonNode, at: string): string[] {
  if (reader === true || (typeof reader === 'object' && Object.keys(reader).length === 0)) return [];
  if (writer === true) return [`${at}: the old schema accepted anything, the new one restricts it`];
  if (reader === false || writer === false) return reader === writer ? [] : [`${at}: false schema`];
  const out: string[] = [];
  const rt = types(reader.type);
  const wt = types(writer.type);
  if (rt && wt) {
    const lost = wt.filter((t) => !rt.includes(t) && !(t === 'integer' && rt.includes('number')));
    if (lost.length > 0) out.push(`${at}: type ${lost.join('/')} is no longer accepted`);
  } else if (rt && !wt) out.push(`${at}: type restricted to ${rt.join('/')}`);
  if (Array.isArray(reader.enum) && Array.isArray(writer.enum)) {
    const gone = writer.enum.filter(
      (v) => !(reader.enum as unknown[]).some((r) => JSON.stringify(r) === JSON.stringify(v)),
    );
    if (gone.length > 0) out.push(`${at}: enum values ${JSON.stringify(gone)} are no longer accepted`);
  }
  const rp = (reader.properties ?? {}) as Record<string, JsonNode>;
  const wp = (writer.properties ?? {}) as Record<string, JsonNode>;
  const wRequired = new Set(Array.isArray(writer.required) ? (writer.required as string[]) : []);
  for (const name of Array.isArray(reader.required) ? (reader.required as string[]) : [])
    if (!wRequired.has(name)) out.push(`${at}: property "${name}" is now required, old data may lack it`);
  for (const [name, schema] of Object.entries(rp))
    if (name in wp) out.push(...jsonCanRead(schema, wp[name]!, `${at}/properties/${name}`));
  if (reader.additionalProperties === false && writer.additionalProperties !== false) {
    out.push(`${at}: additional properties are no longer allowed`);
  } else if (reader.additionalProperties === false) {
    const extra = Object.keys(wp).filter((n) => !(n in rp));
    if (extra.length > 0) out.push(`${at}: properties ${extra.join(', ')} are no longer allowed`);
  }
  if (typeof reader.items === 'object' && typeof writer.items === 'object')
    out.push(...jsonCanRead(reader.items as JsonNode, writer.items as JsonNode, `${at}/items`));
  return out;
}

function types(t: unknown): string[] | undefined {
  return typeof t === 'string' ? [t] : Array.isArray(t) ? (t as string[]) : undefined;
}

/** Protobuf scalar types that share a wire encoding and read each other's values. */
const WIRE_GROUP: Record<string, string> = {
  int32: 'varint',
  int64: 'varint',
  uint32: 'varint',
  uint64: 'varint',
  bool: 'varint',
  sint32: 'zigzag',
  sint64: 'zigzag',
  fixed32: 'i32',
  sfixed32: 'i32',
  float: 'float',
  fixed64: 'i64',
  sfixed64: 'i64',
  double: 'double',
  string: 'len',
  bytes: 'len',
};

function protoCanRead(
  reader: Map<string, Map<number, string>>,
  writer: Map<string, Map<number, string>>,
): string[] {
  const out: string[] = [];
  for (const [name, wFields] of writer) {
    const rFields = reader.get(name);
    if (rFields === undefined) {
      out.push(`message ${name} was removed`);
      continue;
    }
    for (const [no, wType] of wFields) {
      const rType = rFields.get(no);
      if (rType === undefined || rType === wType) continue;
      const same = WIRE_GROUP[rType] !== undefined && WIRE_GROUP[rType] === WIRE_GROUP[wType];
      if (!same) out.push(`field ${no} of ${name} changed type from ${wType} to ${rType}`);
    }
  }
  return out;
}

/** Message full name -> field number -> type (with `repeated`/`map` prefixed). */
async function protoMessages(s: SchemaText): Promise<Map<string, Map<number, string>>> {
  const pb = (await import('protobufjs')).default;
  const isText = (t: string) => /[{;]/.test(t);
  let root = new pb.Root();
  if (!isText(s.schema)) {
    // A serialized FileDescriptorProto in base64, as Confluent's Python and JS serializers register.
    const ext = (await import('protobufjs/ext/descriptor/index.js')).default as unknown as DescriptorExt;
    const files = [...s.refs.map((r) => r.schema), s.schema].map((b64) =>
      ext.FileDescriptorProto.decode(Buffer.from(b64, 'base64')),
    );
    root = (pb.Root as unknown as { fromDescriptor(d: unknown): typeof root }).fromDescriptor(
      ext.FileDescriptorSet.create({ file: files }),
    );
  } else {
    const load = (text: string) => {
      const parsed = pb.parse(text, root, { keepCase: true });
      for (const file of parsed.imports ?? []) {
        if (file.startsWith('google/protobuf/')) root.addJSON(pb.common.get(file)?.nested ?? {});
        else if (!s.refs.some((r) => r.name === file))
          throw new Error(`it imports "${file}" without a reference of that name`);
      }
    };
    for (const r of s.refs) load(r.schema);
    load(s.schema);
  }
  root.resolveAll();
  const out = new Map<string, Map<number, string>>();
  const walk = (ns: import('protobufjs').NamespaceBase) => {
    for (const n of ns.nestedArray) {
      if (n instanceof pb.Type) {
        const fields = new Map<number, string>();
        for (const f of n.fieldsArray) {
          const kind = f instanceof pb.MapField ? 'map ' : f.repeated ? 'repeated ' : '';
          fields.set(f.id, kind + (f.resolvedType ? f.resolvedType.fullName : f.type));
        }
        out.set(n.fullName.slice(1), fields);
      }
      if (n instanceof pb.Namespace) walk(n);
    }
  };
  walk(root);
  return out;
}
