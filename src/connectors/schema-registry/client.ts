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
  constructor(readonly id: number) {
    super(
      'SLUICE_SCHEMA_UNKNOWN_ID',
      `unknown schema id ${id}: the schema registry has no schema with this id`,
    );
    this.name = 'UnknownSchemaError';
  }
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
    const body = await this.get(`/schemas/ids/${id}`, id);
    const parsed = body as Partial<{
      schemaType: string;
      schema: string;
      references: RegistrySchema['references'];
    }>;
    if (typeof parsed?.schema !== 'string')
      throw new RegistryUnavailableError(
        `schema registry ${this.url}: the answer for id ${id} holds no "schema"`,
      );
    const type = parsed.schemaType ?? 'AVRO';
    return {
      schemaType: type === 'PROTOBUF' || type === 'JSON' ? type : 'AVRO',
      schema: parsed.schema,
      references: Array.isArray(parsed.references) ? parsed.references : [],
    };
  }

  private async get(path: string, id: number): Promise<unknown> {
    const where = `schema registry ${redactUrls(this.url)}${path}`;
    let res: Response;
    try {
      res = await fetch(this.url + path, {
        headers: {
          accept: 'application/vnd.schemaregistry.v1+json, application/json',
          ...(this.authHeader ? { authorization: this.authHeader } : {}),
        },
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (e) {
      const cause = (e as { cause?: { code?: string } }).cause?.code ?? (e as Error).name;
      throw new RegistryUnavailableError(`${where}: cannot be reached (${cause})`, { cause: e });
    }
    if (res.status === 404) {
      await res.body?.cancel();
      throw new UnknownSchemaError(id);
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
