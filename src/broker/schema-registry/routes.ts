// The REST routes of the embedded Schema Registry: Confluent's paths, bodies and error codes
// (40401 subject, 40402 version, 40403 schema not found; 42201 invalid schema, 42202 invalid
// version, 42203 invalid compatibility level; 409 incompatible).

import { incompatibilities, InvalidSchemaError, parseSchema, type Parsed } from './compat.js';
import {
  COMPATIBILITY_LEVELS,
  SCHEMA_TYPES,
  type CompatibilityLevel,
  type Reference,
  type RegistryStore,
  type SchemaType,
  type StoredSchema,
  type SubjectVersion,
} from './store.js';

export class RegistryHttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

export interface RouteResult {
  status?: number;
  body: unknown;
  /** The body is text to send as is (the `/schema` endpoints). */
  raw?: boolean;
}

const notFound = (code: number, what: string) => new RegistryHttpError(404, code, what);
const subjectNotFound = (s: string) => notFound(40401, `Subject '${s}' not found.`);
const unprocessable = (code: number, what: string) => new RegistryHttpError(422, code, what);

/** Parsed schemas by id (ids are immutable, so this never goes stale). */
const parsedCache = new WeakMap<RegistryStore, Map<number, Parsed>>();

export async function route(
  store: RegistryStore,
  method: string,
  url: string,
  body: string,
): Promise<RouteResult> {
  const u = new URL(url, 'http://registry');
  const q = (name: string) => u.searchParams.get(name) === 'true';
  let parts: string[];
  try {
    parts = u.pathname
      .split('/')
      .filter((p) => p !== '')
      .map(decodeURIComponent);
  } catch {
    throw new RegistryHttpError(400, 400, 'malformed path');
  }
  const [a, b, c, d, e] = parts;
  const n = parts.length;
  const is = (m: string, len: number) => method === m && n === len;

  if (n === 0) return { body: {} };
  if (a === 'schemas' && b === 'types' && is('GET', 2)) return { body: [...SCHEMA_TYPES] };
  if (a === 'schemas' && b === 'ids' && method === 'GET' && (n === 3 || n === 4)) {
    const s = store.schemas.get(Number(c));
    if (!/^\d+$/.test(c!) || s === undefined) throw notFound(40403, 'Schema not found');
    if (n === 3) return { body: schemaBody(s) };
    if (d === 'schema') return { body: s.schema, raw: true };
    if (d === 'versions') return { body: subjectVersionsOfId(store, s.id) };
  }
  if (a === 'subjects' && is('GET', 1))
    return { body: [...store.subjects.keys()].filter((s) => q('deleted') || store.live(s)) };
  if (a === 'mode' && is('GET', 1)) return { body: { mode: 'READWRITE' } };

  if (a === 'subjects' && b !== undefined) {
    if (is('POST', 2)) return { body: lookup(store, b, await request(store, body)) };
    if (is('DELETE', 2)) return { body: deleteVersions(store, b, null, q('permanent')) };
    if (c === 'versions' && is('GET', 3)) {
      const versions = q('deleted') ? store.subjects.get(b) : store.live(b);
      if (!versions || versions.length === 0) throw subjectNotFound(b);
      return { body: versions.map((v) => v.version) };
    }
    if (c === 'versions' && is('POST', 3))
      return { body: await register(store, b, await request(store, body)) };
    if (c === 'versions' && d !== undefined) {
      if (is('DELETE', 4)) return { body: deleteVersions(store, b, d, q('permanent'))[0] };
      if (method === 'GET') {
        const v = versionOf(store, b, d, q('deleted'));
        const s = store.schemas.get(v.id)!;
        if (n === 4) return { body: { subject: b, version: v.version, ...schemaBody(s) } };
        if (n === 5 && e === 'schema') return { body: s.schema, raw: true };
        if (n === 5 && e === 'referencedby') return { body: referencedBy(store, b, v.version) };
      }
    }
  }
  if (a === 'compatibility' && b === 'subjects' && c !== undefined && d === 'versions' && method === 'POST') {
    const candidate = await request(store, body);
    let previous: SubjectVersion[];
    if (n === 5) previous = [versionOf(store, c, e!, false)];
    else if (n === 4) previous = store.live(c) ?? [];
    else throw notFound(404, 'HTTP 404 Not Found');
    const level = store.levelOf(c);
    const against = n === 5 ? previous : level.endsWith('_TRANSITIVE') ? previous : previous.slice(-1);
    const messages = incompatibilities(
      n === 5 ? (level.replace('_TRANSITIVE', '') as CompatibilityLevel) : level,
      candidate.parsed,
      await Promise.all(against.map((v) => parsedById(store, v.id))),
    );
    return { body: { is_compatible: messages.length === 0, ...(q('verbose') ? { messages } : {}) } };
  }
  if (a === 'config' && (n === 1 || n === 2)) {
    if (method === 'GET') {
      if (n === 1) return { body: { compatibilityLevel: store.globalLevel } };
      const level = store.subjectLevels.get(b!) ?? (q('defaultToGlobal') ? store.globalLevel : undefined);
      if (level === undefined)
        throw notFound(40408, `Subject '${b}' does not have subject-level compatibility configured`);
      return { body: { compatibilityLevel: level } };
    }
    if (method === 'PUT') {
      const level = levelFrom(body);
      store.setLevel(n === 1 ? null : b!, level);
      return { body: { compatibility: level } };
    }
    if (method === 'DELETE') {
      const old = n === 1 ? store.globalLevel : store.subjectLevels.get(b!);
      if (old === undefined) throw subjectNotFound(b!);
      store.setLevel(n === 1 ? null : b!, null);
      return { body: { compatibilityLevel: old } };
    }
  }
  throw notFound(
    404,
    `HTTP 404 Not Found: ${method} ${u.pathname} is not served by the Sluice schema registry`,
  );
}

function schemaBody(s: StoredSchema): Record<string, unknown> {
  return {
    id: s.id,
    schema: s.schema,
    // Confluent leaves both out for Avro without references; clients read that as AVRO.
    ...(s.schemaType === 'AVRO' ? {} : { schemaType: s.schemaType }),
    ...(s.references.length > 0 ? { references: s.references } : {}),
  };
}

function subjectVersionsOfId(store: RegistryStore, id: number) {
  const out: { subject: string; version: number }[] = [];
  for (const [subject, versions] of store.subjects)
    for (const v of versions) if (v.id === id && !v.deleted) out.push({ subject, version: v.version });
  return out;
}

function referencedBy(store: RegistryStore, subject: string, version: number): number[] {
  return [...store.schemas.values()]
    .filter((s) => s.references.some((r) => r.subject === subject && r.version === version))
    .map((s) => s.id);
}

function versionOf(store: RegistryStore, subject: string, v: string, deleted: boolean): SubjectVersion {
  const all = deleted ? store.subjects.get(subject) : store.live(subject);
  if (!all || all.length === 0) throw subjectNotFound(subject);
  if (v === 'latest' || v === '-1') return all[all.length - 1]!;
  if (!/^\d+$/.test(v) || Number(v) < 1 || Number(v) > 2 ** 31 - 1)
    throw unprocessable(
      42202,
      `The specified version '${v}' is not a valid version id. Allowed values are between [1, 2^31-1] and the string "latest"`,
    );
  const found = all.find((x) => x.version === Number(v));
  if (!found) throw notFound(40402, `Version ${v} not found.`);
  return found;
}

interface Candidate {
  schemaType: SchemaType;
  schema: string;
  references: Reference[];
  parsed: Parsed;
}

/** The schema in a register/lookup/compatibility body, validated and parsed. */
async function request(store: RegistryStore, body: string): Promise<Candidate> {
  let b: { schema?: unknown; schemaType?: unknown; references?: unknown };
  try {
    b = JSON.parse(body) as typeof b;
  } catch {
    throw new RegistryHttpError(400, 400, 'the request body is not JSON');
  }
  if (typeof b?.schema !== 'string' || b.schema === '')
    throw unprocessable(42201, 'Invalid schema: "schema" must be a non-empty string');
  const schemaType = (b.schemaType ?? 'AVRO') as SchemaType;
  if (!SCHEMA_TYPES.includes(schemaType))
    throw unprocessable(
      42201,
      `Invalid schema: unknown schemaType ${JSON.stringify(b.schemaType)} (use AVRO, PROTOBUF or JSON)`,
    );
  const references = (b.references ?? []) as Reference[];
  const ok =
    Array.isArray(references) &&
    references.every(
      (r) => typeof r?.name === 'string' && typeof r.subject === 'string' && Number.isInteger(r.version),
    );
  if (!ok)
    throw unprocessable(
      42201,
      'Invalid schema: each reference needs a name, a subject and an integer version',
    );
  const refs = resolveRefs(store, references, new Set());
  try {
    const parsed = await parseSchema({ schemaType, schema: b.schema, refs });
    return {
      schemaType,
      schema: b.schema,
      references: references.map(({ name, subject, version }) => ({ name, subject, version })),
      parsed,
    };
  } catch (e) {
    if (e instanceof InvalidSchemaError) throw unprocessable(42201, e.message);
    throw e;
  }
}

/** Referenced schema texts, transitively, dependencies first. */
function resolveRefs(
  store: RegistryStore,
  refs: readonly Reference[],
  seen: Set<number>,
): { name: string; schema: string }[] {
  const out: { name: string; schema: string }[] = [];
  for (const r of refs) {
    const v = store.subjects
      .get(r.subject)
      ?.find((x) => x.version === r.version || (r.version === -1 && x === store.live(r.subject)?.at(-1)));
    if (!v)
      throw unprocessable(
        42201,
        `Invalid schema: reference "${r.name}" names ${r.subject} version ${r.version}, which does not exist`,
      );
    if (seen.has(v.id)) continue;
    seen.add(v.id);
    const s = store.schemas.get(v.id)!;
    out.push(...resolveRefs(store, s.references, seen), { name: r.name, schema: s.schema });
  }
  return out;
}

async function parsedById(store: RegistryStore, id: number): Promise<Parsed> {
  let cache = parsedCache.get(store);
  if (!cache) parsedCache.set(store, (cache = new Map()));
  let p = cache.get(id);
  if (!p) {
    const s = store.schemas.get(id)!;
    p = await parseSchema({
      schemaType: s.schemaType,
      schema: s.schema,
      refs: resolveRefs(store, s.references, new Set()),
    });
    cache.set(id, p);
  }
  return p;
}

async function register(store: RegistryStore, subject: string, c: Candidate): Promise<{ id: number }> {
  const id = store.idOf(c.schemaType, c.schema, c.references);
  const existing = id === undefined ? undefined : store.versionWithId(subject, id);
  if (existing) return { id: existing.id };
  const previous = store.live(subject) ?? [];
  const level = store.levelOf(subject);
  const against = level.endsWith('_TRANSITIVE') ? previous : previous.slice(-1);
  const why = incompatibilities(
    level,
    c.parsed,
    await Promise.all(against.map((v) => parsedById(store, v.id))),
  );
  if (why.length > 0)
    throw new RegistryHttpError(
      409,
      409,
      `Schema being registered is incompatible with an earlier schema for subject "${subject}" (${level}): ${why.join('; ')}`,
    );
  const r = store.register(subject, { schemaType: c.schemaType, schema: c.schema, references: c.references });
  return { id: r.id };
}

function lookup(store: RegistryStore, subject: string, c: Candidate) {
  if (!store.live(subject)) throw subjectNotFound(subject);
  const id = store.idOf(c.schemaType, c.schema, c.references);
  const v = id === undefined ? undefined : store.versionWithId(subject, id);
  if (!v) throw notFound(40403, 'Schema not found');
  return { subject, version: v.version, ...schemaBody(store.schemas.get(v.id)!) };
}

function deleteVersions(
  store: RegistryStore,
  subject: string,
  version: string | null,
  permanent: boolean,
): number[] {
  const all = store.subjects.get(subject);
  if (!all) throw subjectNotFound(subject);
  const target = version === null ? all : [versionOf(store, subject, version, permanent)];
  if (permanent) {
    if (target.some((v) => !v.deleted))
      throw notFound(
        version === null ? 40405 : 40407,
        `Subject '${subject}' ${version === null ? '' : `version ${version} `}was not deleted first before being permanently deleted`,
      );
  } else if (target.every((v) => v.deleted))
    throw notFound(40404, `Subject '${subject}' was soft deleted. Set permanent=true to delete permanently`);
  const v = version === null ? null : target[0]!.version;
  const deleted = target.filter((x) => permanent || !x.deleted).map((x) => x.version);
  store.delete(subject, v, permanent);
  return deleted;
}

function levelFrom(body: string): CompatibilityLevel {
  let level: unknown;
  try {
    level = (JSON.parse(body) as { compatibility?: unknown; compatibilityLevel?: unknown }).compatibility;
  } catch {
    throw new RegistryHttpError(400, 400, 'the request body is not JSON');
  }
  if (!COMPATIBILITY_LEVELS.includes(level as CompatibilityLevel))
    throw unprocessable(
      42203,
      `Invalid compatibility level ${JSON.stringify(level)}; use one of ${COMPATIBILITY_LEVELS.join(', ')}`,
    );
  return level as CompatibilityLevel;
}
