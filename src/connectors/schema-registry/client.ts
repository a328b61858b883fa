import { redactUrls } from '../../core/redact.js';
import { ConnectorError } from '../errors.js';

/** A schema as the registry returns it from `GET /schemas/ids/{id}`. */
export interface RegistrySchema {
  /** `AVRO` (the default when the registry leaves it out), `PROTOBUF` or `JSON`. */
  schemaType: 'AVRO' | 'PROTOBUF' | 'JSON';
  /** The schema text: Avro JSON, a .proto file, or a JSON Schema document. */
  schema: string;
  /** Other schemas this one imports (Protobuf imports, Avro named types, JSON `$ref`s). */
  references: { name: string; subject: string; version: number }[];
}

export interface SchemaRegistryOptions {
  /** The registry's base URL, e.g. `http://127.0.0.1:8081`. */
  url: string;
  /**
   * HTTP basic auth; default: `SLUICE_SCHEMA_REGISTRY_USER` and `SLUICE_SCHEMA_REGISTRY_PASSWORD`
   * from the environment when set (secrets stay out of URLs, code and messages).
   */
  auth?: { username: string; password: string };
  /** Per request; default 10 s. */
  timeoutMs?: number;
  /** The largest schema response accepted; default 4 MiB (a registry cannot exhaust memory). */
  maxResponseBytes?: number;
}

/** The registry has no schema with this id (HTTP 404): records that carry it are dead letters. */
export class UnknownSchemaError extends ConnectorError {
  constructor(
    readonly id: number,
    message = `unknown schema id ${id}: the schema registry has no schema with this id`,
  ) {
    super('SLUICE_SCHEMA_UNKNOWN_ID', message);
    this.name = 'UnknownSchemaError';
  }
}

/** A 404 on a lookup: the caller answers undefined. */
class NotFound extends Error {}

type RegistrySchemaBody = Partial<{
  schemaType: string;
  schema: string;
  references: RegistrySchema['references'];
}>;

function asSchema(parsed: RegistrySchemaBody): RegistrySchema {
  const type = parsed.schemaType ?? 'AVRO';
  return {
    schemaType: type === 'PROTOBUF' || type === 'JSON' ? type : 'AVRO',
    schema: parsed.schema ?? '',
    references: Array.isArray(parsed.references) ? parsed.references : [],
  };
}

/**
 * The registry cannot answer now (unreachable, timed out, HTTP 5xx or 429): a transient
 * condition, so decoders hold the batch and try again instead of dead-lettering its records.
 */
export class RegistryUnavailableError extends ConnectorError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('SLUICE_SCHEMA_REGISTRY_UNAVAILABLE', message, options);
    this.name = 'RegistryUnavailableError';
  }
}

/**
 * A Confluent Schema Registry client: fetches schemas by id (`GET /schemas/ids/{id}`), the one
 * call decoders need, and caches them (ids are immutable in a registry, so a cached schema never
 * goes stale). Concurrent requests for one id share one fetch.
 *
 * @example
 * const registry = new SchemaRegistry({ url: 'http://127.0.0.1:8081' });
 * const { schemaType, schema } = await registry.schemaById(1);
 */
export class SchemaRegistry {
  readonly url: string;
  private readonly authHeader: string | undefined;
  private readonly timeoutMs: number;
  private readonly maxResponseBytes: number;
  /** Schemas by id; failed fetches are not kept, so they are tried again. */
  private readonly cache = new Map<number, Promise<RegistrySchema>>();

  constructor(opts: SchemaRegistryOptions) {
    let base: URL;
    try {
      base = new URL(opts.url);
    } catch {
      throw new ConnectorError(
        'SLUICE_SCHEMA_REGISTRY_REFUSED',
        `schema registry URL "${redactUrls(opts.url)}" is not a valid URL (expected e.g. http://127.0.0.1:8081)`,
      );
    }
    if (base.protocol !== 'http:' && base.protocol !== 'https:')
      throw new ConnectorError(
        'SLUICE_SCHEMA_REGISTRY_REFUSED',
        `schema registry URL "${redactUrls(opts.url)}": use http:// or https://`,
      );
    if (base.username || base.password)
      throw new ConnectorError(
        'SLUICE_SCHEMA_REGISTRY_REFUSED',
        `schema registry URL "${redactUrls(opts.url)}" holds credentials: set SLUICE_SCHEMA_REGISTRY_USER and SLUICE_SCHEMA_REGISTRY_PASSWORD instead`,
      );
    this.url = base.href.replace(/\/+$/, '');
    const env = process.env;
    const auth =
      opts.auth ??
      (env.SLUICE_SCHEMA_REGISTRY_USER
        ? { username: env.SLUICE_SCHEMA_REGISTRY_USER, password: env.SLUICE_SCHEMA_REGISTRY_PASSWORD ?? '' }
        : undefined);
    this.authHeader = auth
      ? `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`
      : undefined;
    this.timeoutMs = opts.timeoutMs ?? 10_000;
    this.maxResponseBytes = opts.maxResponseBytes ?? 4 * 1024 * 1024;
  }

  /**
   * The schema with this id. Rejects with UnknownSchemaError (404), RegistryUnavailableError
   * (transient: try again later) or ConnectorError SLUICE_SCHEMA_REGISTRY_REFUSED (refused: fix settings).
   */
  schemaById(id: number): Promise<RegistrySchema> {
    let p = this.cache.get(id);
    if (p === undefined) {
      p = this.fetchSchema(id);
      this.cache.set(id, p);
      p.catch(() => this.cache.delete(id));
    }
    return p;
  }

  private async fetchSchema(id: number): Promise<RegistrySchema> {
    const body = await this.request('GET', `/schemas/ids/${id}`, undefined, () => new UnknownSchemaError(id));
    const parsed = body as Partial<{
      schemaType: string;
      schema: string;
      references: RegistrySchema['references'];
    }>;
    if (typeof parsed?.schema !== 'string')
      throw new RegistryUnavailableError(
        `schema registry ${this.url}: the answer for id ${id} holds no "schema"`,
      );
    return asSchema(parsed as RegistrySchemaBody);
  }

  /**
   * Registers `schema` under `subject` (same schema, same id) and returns its id. A registry that
   * finds it incompatible with the subject's earlier versions, or invalid, refuses with a
   * ConnectorError SLUICE_SCHEMA_REGISTRY carrying the registry's reason.
   */
  async register(subject: string, schema: RegistrySchema): Promise<number> {
    const body = await this.request('POST', `/subjects/${encodeURIComponent(subject)}/versions`, schema);
    return (body as { id: number }).id;
  }

  /** The id of `schema` under `subject`, without registering it; undefined when it is not there. */
  async lookup(subject: string, schema: RegistrySchema): Promise<number | undefined> {
    try {
      const body = await this.request(
        'POST',
        `/subjects/${encodeURIComponent(subject)}`,
        schema,
        () => new NotFound(),
      );
      return (body as { id: number }).id;
    } catch (e) {
      if (e instanceof NotFound) return undefined;
      throw e;
    }
  }

  /** A version of a subject (`latest` by default) with its id; undefined when there is none. */
  async version(
    subject: string,
    version: number | 'latest' = 'latest',
  ): Promise<(RegistrySchema & { id: number; version: number }) | undefined> {
    try {
      const path = `/subjects/${encodeURIComponent(subject)}/versions/${version}`;
      const body = (await this.request(
        'GET',
        path,
        undefined,
        () => new NotFound(),
      )) as RegistrySchemaBody & { id: number; version: number };
      return { ...asSchema(body), id: body.id, version: body.version };
    } catch (e) {
      if (e instanceof NotFound) return undefined;
      throw e;
    }
  }

  /**
   * The schemas `schema` references, transitively, dependencies first, each with the name it is
   * imported by (an Avro full name, a .proto file name). A missing one is an UnknownSchemaError.
   */
  async references(
    schema: RegistrySchema,
    seen = new Set<string>(),
  ): Promise<{ name: string; schema: string }[]> {
    const out: { name: string; schema: string }[] = [];
    for (const r of schema.references) {
      const key = `${r.subject}\0${r.version}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const ref = await this.version(r.subject, r.version);
      if (ref === undefined)
        throw new UnknownSchemaError(
          -1,
          `reference "${r.name}" (${r.subject} version ${r.version}) is not in the registry`,
        );
      out.push(...(await this.references(ref, seen)), { name: r.name, schema: ref.schema });
    }
    return out;
  }

  private async request(
    method: string,
    path: string,
    json: unknown,
    notFound: () => Error = () => new NotFound(),
  ): Promise<unknown> {
    const where = `schema registry ${redactUrls(this.url)}${path}`;
    let res: Response;
    try {
      res = await fetch(this.url + path, {
        method,
        headers: {
          accept: 'application/vnd.schemaregistry.v1+json, application/json',
          ...(json === undefined ? {} : { 'content-type': 'application/vnd.schemaregistry.v1+json' }),
          ...(this.authHeader ? { authorization: this.authHeader } : {}),
        },
        ...(json === undefined ? {} : { body: JSON.stringify(json) }),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (e) {
      const cause = (e as { cause?: { code?: string } }).cause?.code ?? (e as Error).name;
      throw new RegistryUnavailableError(`${where}: cannot be reached (${cause})`, { cause: e });
    }
    if (res.status === 404) {
      await res.body?.cancel();
      throw notFound();
    }
    if (res.status === 409 || res.status === 422) {
      // Refused for good (incompatible, invalid): the registry's own reason is the message.
      const text = await this.readCapped(res, where);
      let reason = text.slice(0, 1000);
      try {
        reason = String((JSON.parse(text) as { message?: unknown }).message ?? reason);
      } catch {
        // not JSON: the text itself
      }
      throw new ConnectorError(
        'SLUICE_SCHEMA_REGISTRY_REFUSED',
        `${where}: refused (HTTP ${res.status}): ${reason}`,
      );
    }
    if (res.status === 401 || res.status === 403) {
      await res.body?.cancel();
      throw new ConnectorError(
        'SLUICE_SCHEMA_REGISTRY_REFUSED',
        `${where}: refused with HTTP ${res.status}; check SLUICE_SCHEMA_REGISTRY_USER and SLUICE_SCHEMA_REGISTRY_PASSWORD`,
      );
    }
    if (!res.ok) {
      await res.body?.cancel();
      throw new RegistryUnavailableError(`${where}: HTTP ${res.status}`);
    }
    const text = await this.readCapped(res, where);
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new RegistryUnavailableError(`${where}: the answer is not JSON`);
    }
  }

  /** Reads a response body, refusing one larger than `maxResponseBytes` without buffering it. */
  private async readCapped(res: Response, where: string): Promise<string> {
    const chunks: Uint8Array[] = [];
    let total = 0;
    const reader = res.body!.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.length;
      if (total > this.maxResponseBytes) {
        await reader.cancel();
        throw new ConnectorError(
          'SLUICE_SCHEMA_REGISTRY_REFUSED',
          `${where}: the answer exceeds ${this.maxResponseBytes} bytes (raise maxResponseBytes if the schema really is that large)`,
        );
      }
      chunks.push(value);
    }
    return Buffer.concat(chunks).toString('utf8');
  }
}
