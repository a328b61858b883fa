// The embedded Schema Registry's state: schemas by id, subjects with their versions, and the
// compatibility settings, kept in memory and persisted as an append-only file of events in the
// broker's data directory (one `CRC32C JSON` line per event, fsynced before the answer goes out),
// so registrations survive a restart and ids are never reused.

import {
  appendFileSync,
  closeSync,
  existsSync,
  fsyncSync,
  openSync,
  readFileSync,
  truncateSync,
} from 'node:fs';
import { join } from 'node:path';
import { crc32c } from '../../log/index.js';
import { BrokerError } from '../errors.js';

export const SCHEMA_TYPES = ['AVRO', 'PROTOBUF', 'JSON'] as const;
export type SchemaType = (typeof SCHEMA_TYPES)[number];
export const COMPATIBILITY_LEVELS = [
  'NONE',
  'BACKWARD',
  'BACKWARD_TRANSITIVE',
  'FORWARD',
  'FORWARD_TRANSITIVE',
  'FULL',
  'FULL_TRANSITIVE',
] as const;
export type CompatibilityLevel = (typeof COMPATIBILITY_LEVELS)[number];

export interface Reference {
  name: string;
  subject: string;
  version: number;
}

export interface StoredSchema {
  id: number;
  schemaType: SchemaType;
  schema: string;
  references: Reference[];
}

export interface SubjectVersion {
  version: number;
  id: number;
  deleted: boolean;
}

/** One line of the registry file. */
type Event =
  | { t: 'schema'; id: number; schemaType: SchemaType; schema: string; references: Reference[] }
  | { t: 'version'; subject: string; version: number; id: number }
  | { t: 'config'; subject: string | null; level: CompatibilityLevel | null }
  | { t: 'delete'; subject: string; version: number | null; permanent: boolean };

export const REGISTRY_FILE = 'schema-registry.log';

/** Identity of a schema: same type, same text (JSON whitespace aside) and same references. */
export function schemaKey(type: SchemaType, schema: string, references: readonly Reference[]): string {
  let text = schema.trim();
  if (type !== 'PROTOBUF') {
    try {
      text = JSON.stringify(JSON.parse(text));
    } catch {
      // not JSON: validation refuses it before it is stored
    }
  }
  return `${type}\0${text}\0${JSON.stringify(references)}`;
}

/**
 * The registry's state. `dir` null keeps it in memory only (a broker over a log opened elsewhere
 * still has a directory; null is for tests).
 *
 * @example
 * const store = new RegistryStore(log.dir, console.warn);
 * const { id } = store.register('orders-value', { schemaType: 'AVRO', schema, references: [] });
 */
export class RegistryStore {
  readonly schemas = new Map<number, StoredSchema>();
  private readonly byKey = new Map<string, number>();
  readonly subjects = new Map<string, SubjectVersion[]>();
  globalLevel: CompatibilityLevel = 'BACKWARD';
  readonly subjectLevels = new Map<string, CompatibilityLevel>();
  private nextId = 1;
  private readonly file: string | null;

  constructor(dir: string | null, warn: (m: string) => void) {
    this.file = dir === null ? null : join(dir, REGISTRY_FILE);
    if (this.file !== null && existsSync(this.file)) this.load(this.file, warn);
  }

  private load(file: string, warn: (m: string) => void): void {
    const text = readFileSync(file, 'utf8');
    let good = 0;
    const lines = text.split('\n');
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i]!;
      if (line === '' && i === lines.length - 1) break;
      const event = parseLine(line);
      if (event === undefined) {
        // A torn last line is a write the crash interrupted (never answered): drop it.
        // Damage before the end would lose later registrations silently: refuse instead.
        if (i >= lines.length - 2) {
          warn(`sluice broker: ${file}: dropping a torn last line (a registration interrupted by a crash)`);
          truncateSync(file, good);
          break;
        }
        throw new BrokerError(
          'SLUICE_BROKER_INVALID_OPTION',
          `${file} line ${i + 1} is damaged (CRC mismatch); restore the file from a backup or remove the line to start again`,
        );
      }
      this.apply(event);
      good += Buffer.byteLength(line) + 1;
    }
  }

  private apply(e: Event): void {
    switch (e.t) {
      case 'schema': {
        const s = { id: e.id, schemaType: e.schemaType, schema: e.schema, references: e.references };
        this.schemas.set(e.id, s);
        this.byKey.set(schemaKey(s.schemaType, s.schema, s.references), e.id);
        this.nextId = Math.max(this.nextId, e.id + 1);
        break;
      }
      case 'version': {
        const versions = this.subjects.get(e.subject) ?? [];
        versions.push({ version: e.version, id: e.id, deleted: false });
        this.subjects.set(e.subject, versions);
        break;
      }
      case 'config':
        if (e.subject === null) this.globalLevel = e.level ?? 'BACKWARD';
        else if (e.level === null) this.subjectLevels.delete(e.subject);
        else this.subjectLevels.set(e.subject, e.level);
        break;
      case 'delete': {
        const versions = this.subjects.get(e.subject) ?? [];
        const hit = (v: SubjectVersion) => e.version === null || v.version === e.version;
        if (e.permanent) {
          const kept = versions.filter((v) => !hit(v));
          if (kept.length > 0) this.subjects.set(e.subject, kept);
          else this.subjects.delete(e.subject);
        } else for (const v of versions) if (hit(v)) v.deleted = true;
        break;
      }
    }
  }

  /** Persists, then applies: an event is in memory only once it is durable. */
  private commit(e: Event): void {
    if (this.file !== null) {
      const json = JSON.stringify(e);
      const crc = (crc32c(Buffer.from(json)) >>> 0).toString(16).padStart(8, '0');
      appendFileSync(this.file, `${crc} ${json}\n`);
      const fd = openSync(this.file, 'r');
      try {
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
    }
    this.apply(e);
  }

  idOf(type: SchemaType, schema: string, references: readonly Reference[]): number | undefined {
    return this.byKey.get(schemaKey(type, schema, references));
  }

  /** Live (not soft-deleted) versions of a subject, oldest first; undefined when none. */
  live(subject: string): SubjectVersion[] | undefined {
    const v = this.subjects.get(subject)?.filter((x) => !x.deleted);
    return v && v.length > 0 ? v : undefined;
  }

  /** The subject's version holding this schema id, if any (live ones only). */
  versionWithId(subject: string, id: number): SubjectVersion | undefined {
    return this.live(subject)?.find((v) => v.id === id);
  }

  /** Adds a schema (reusing the id of an identical one) as the subject's next version. */
  register(subject: string, s: Omit<StoredSchema, 'id'>): { id: number; version: number } {
    let id = this.idOf(s.schemaType, s.schema, s.references);
    const existing = id === undefined ? undefined : this.versionWithId(subject, id);
    if (existing) return { id: id!, version: existing.version };
    if (id === undefined) {
      id = this.nextId;
      this.commit({ t: 'schema', id, ...s });
    }
    const all = this.subjects.get(subject) ?? [];
    const version = all.reduce((m, v) => Math.max(m, v.version), 0) + 1;
    this.commit({ t: 'version', subject, version, id });
    return { id, version };
  }

  setLevel(subject: string | null, level: CompatibilityLevel | null): void {
    this.commit({ t: 'config', subject, level });
  }

  delete(subject: string, version: number | null, permanent: boolean): void {
    this.commit({ t: 'delete', subject, version, permanent });
  }

  levelOf(subject: string): CompatibilityLevel {
    return this.subjectLevels.get(subject) ?? this.globalLevel;
  }
}

function parseLine(line: string): Event | undefined {
  const space = line.indexOf(' ');
  if (space !== 8) return undefined;
  const json = line.slice(9);
  if ((crc32c(Buffer.from(json)) >>> 0).toString(16).padStart(8, '0') !== line.slice(0, 8)) return undefined;
  try {
    return JSON.parse(json) as Event;
  } catch {
    return undefined;
  }
}
