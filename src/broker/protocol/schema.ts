// A data-driven codec: each API declares its request and response fields the way Kafka's JSON
// message specs do (name, type, versions, nullable versions, default), and this module
// compiles them, once per version, into readers and writers over Reader/Writer. Tagged fields
// are skipped on read and never written: every one in the specs this broker follows is optional.

import type { Reader } from './reader.js';
import type { Writer } from './writer.js';

/** Field types of the Kafka message specs that this broker's APIs use. */
export type FieldType =
  | 'int8'
  | 'int16'
  | 'int32'
  | 'int64'
  | 'bool'
  | 'string'
  | 'bytes'
  | 'records'
  | 'uuid'
  | '[]int32'
  | '[]int64'
  | '[]string'
  | '[]';

/** One field of a message, as in the spec: versions like '0+', '3-5' or '1'. */
export interface FieldDef {
  name: string;
  type: FieldType;
  versions: string;
  nullable?: string;
  default?: unknown;
  /** The element fields of a struct array (type '[]'). */
  fields?: FieldDef[];
}

/** A message: its fields and the versions from which it uses the flexible encoding. */
export interface MessageDef {
  name: string;
  /** e.g. '9+', or 'none'. */
  flexible: string;
  fields: FieldDef[];
}

/** A field of type `type` present in `versions` (default '0+'). */
export function field(
  name: string,
  type: Exclude<FieldType, '[]'>,
  versions = '0+',
  opts: { nullable?: string; default?: unknown } = {},
): FieldDef {
  return { name, type, versions, ...opts };
}

/** An array of structs with `fields`, present in `versions`. */
export function array(
  name: string,
  versions: string,
  fields: FieldDef[],
  opts: { nullable?: string } = {},
): FieldDef {
  return { name, type: '[]', versions, fields, ...opts };
}

/** Parses '0+', '3-5', '7' or 'none' into an inclusive range. */
export function parseVersions(spec: string): [number, number] {
  if (spec === 'none') return [Infinity, -Infinity];
  const plus = /^(\d+)\+$/.exec(spec);
  if (plus) return [Number(plus[1]), Infinity];
  const range = /^(\d+)-(\d+)$/.exec(spec);
  if (range) return [Number(range[1]), Number(range[2])];
  if (/^\d+$/.test(spec)) return [Number(spec), Number(spec)];
  throw new Error(`bad version spec "${spec}"`);
}

function inRange(spec: string | undefined, version: number): boolean {
  if (spec === undefined) return false;
  const [lo, hi] = parseVersions(spec);
  return version >= lo && version <= hi;
}

type Msg = Record<string, unknown>;
interface Step {
  name: string;
  read(r: Reader): unknown;
  write(w: Writer, v: unknown): void;
}
interface Plan {
  steps: Step[];
  absent: { name: string; value: () => unknown }[];
  flexible: boolean;
}

function defaultOf(f: FieldDef, nullable: boolean): unknown {
  if (f.default !== undefined) return f.default;
  switch (f.type) {
    case 'bool':
      return false;
    case 'string':
      return '';
    case 'bytes':
      return Buffer.alloc(0);
    case 'records':
      return nullable ? null : Buffer.alloc(0);
    case 'uuid':
      return Buffer.alloc(16);
    case '[]':
    case '[]int32':
    case '[]int64':
    case '[]string':
      return [];
    default:
      return 0;
  }
}

function primitive(type: FieldType, flex: boolean, nullable: boolean): Omit<Step, 'name'> {
  switch (type) {
    case 'int8':
      return { read: (r) => r.int8(), write: (w, v) => w.int8(v as number) };
    case 'int16':
      return { read: (r) => r.int16(), write: (w, v) => w.int16(v as number) };
    case 'int32':
      return { read: (r) => r.int32(), write: (w, v) => w.int32(v as number) };
    case 'int64':
      return { read: (r) => r.int64(), write: (w, v) => w.int64(v as number) };
    case 'bool':
      return { read: (r) => r.bool(), write: (w, v) => w.bool(Boolean(v)) };
    case 'uuid':
      return { read: (r) => r.uuid(), write: (w, v) => w.uuid(v as Buffer | null) };
    case 'string': {
      // A null in a version where the field is not nullable is written as '' (older versions' convention).
      const fix = (v: unknown) => (v === null && !nullable ? '' : (v as string | null));
      return flex
        ? { read: (r) => r.compactString(nullable), write: (w, v) => w.compactString(fix(v)) }
        : { read: (r) => r.string(nullable), write: (w, v) => w.string(fix(v)) };
    }
    case 'bytes':
    case 'records': {
      const fix = (v: unknown) => (v === null && !nullable ? Buffer.alloc(0) : (v as Buffer | null));
      return flex
        ? { read: (r) => r.compactBytes(nullable), write: (w, v) => w.compactBytes(fix(v)) }
        : { read: (r) => r.bytes(nullable), write: (w, v) => w.bytes(fix(v)) };
    }
    default:
      throw new Error(`not a primitive type: ${type}`);
  }
}

function arrayOf(elem: Omit<Step, 'name'>, flex: boolean, nullable: boolean): Omit<Step, 'name'> {
  return {
    read(r) {
      const n = r.arrayLength(flex, nullable);
      if (n < 0) return null;
      const out = new Array<unknown>(n);
      for (let i = 0; i < n; i++) out[i] = elem.read(r);
      return out;
    },
    write(w, v) {
      if (v === null || v === undefined) {
        w.arrayLength(nullable ? -1 : 0, flex);
        return;
      }
      const items = v as unknown[];
      w.arrayLength(items.length, flex);
      for (const item of items) elem.write(w, item);
    },
  };
}

function compile(fields: FieldDef[], version: number, flex: boolean): Plan {
  const steps: Step[] = [];
  const absent: Plan['absent'] = [];
  for (const f of fields) {
    const nullable = inRange(f.nullable, version);
    if (!inRange(f.versions, version)) {
      const def = defaultOf(f, false);
      absent.push({ name: f.name, value: () => (Array.isArray(def) ? [] : def) });
      continue;
    }
    let codec: Omit<Step, 'name'>;
    if (f.type === '[]') {
      const sub = compile(f.fields ?? [], version, flex);
      codec = arrayOf(
        { read: (r) => readStruct(sub, r), write: (w, v) => writeStruct(sub, w, v as Msg) },
        flex,
        nullable,
      );
    } else if (f.type.startsWith('[]')) {
      codec = arrayOf(primitive(f.type.slice(2) as FieldType, flex, false), flex, nullable);
    } else {
      codec = primitive(f.type, flex, nullable);
    }
    const def = defaultOf(f, nullable);
    const write = codec.write;
    steps.push({
      name: f.name,
      read: codec.read,
      write: (w, v) => write(w, v === undefined ? def : v),
    });
  }
  return { steps, absent, flexible: flex };
}

function readStruct(plan: Plan, r: Reader): Msg {
  const out: Msg = {};
  for (const s of plan.steps) out[s.name] = s.read(r);
  for (const a of plan.absent) out[a.name] = a.value();
  if (plan.flexible) r.skipTaggedFields();
  return out;
}

function writeStruct(plan: Plan, w: Writer, v: Msg): void {
  for (const s of plan.steps) s.write(w, v[s.name]);
  if (plan.flexible) w.emptyTaggedFields();
}

/**
 * A compiled message spec: decode a request body or encode a response body at any version.
 *
 * @example
 * const schema = new MessageSchema({ name: 'HeartbeatResponse', flexible: '4+', fields: [
 *   field('throttleTimeMs', 'int32', '1+'), field('errorCode', 'int16') ] });
 * schema.encode(writer, 4, { errorCode: 0 });
 */
export class MessageSchema {
  private readonly plans = new Map<number, Plan>();
  private readonly flexible: [number, number];

  constructor(readonly def: MessageDef) {
    this.flexible = parseVersions(def.flexible);
  }

  /** True when `version` uses the flexible encoding (compact lengths, tagged fields). */
  isFlexible(version: number): boolean {
    return version >= this.flexible[0] && version <= this.flexible[1];
  }

  /** Reads the body at `r`; bytes left after the last field are ignored, as Kafka brokers do. */
  decode(r: Reader, version: number): Msg {
    return readStruct(this.plan(version), r);
  }

  encode(w: Writer, version: number, value: object): void {
    writeStruct(this.plan(version), w, value as Msg);
  }

  private plan(version: number): Plan {
    let plan = this.plans.get(version);
    if (plan === undefined) {
      plan = compile(this.def.fields, version, this.isFlexible(version));
      this.plans.set(version, plan);
    }
    return plan;
  }
}
