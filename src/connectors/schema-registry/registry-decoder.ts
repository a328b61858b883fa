import { DecodeError, RetryBackoff, type Decoder } from '../../stream/index.js';
import {
  RegistryUnavailableError,
  SchemaRegistry,
  UnknownSchemaError,
  type RegistrySchema,
} from './client.js';
import { peekSchemaId, readSchemaId } from './wire.js';

/** A referenced schema's text and the name it is imported by. */
export interface SchemaText {
  name: string;
  schema: string;
}

/** A registry by URL or a client shared between decoders (one cache for all). */
export type RegistryOption = string | SchemaRegistry;

/** How long an unknown id is remembered before it is asked for again (it may be registered later). */
const UNKNOWN_ID_RETRY_MS = 30_000;
/** Unknown ids remembered at most (a topic of garbage ids must not grow memory without bound). */
const MAX_UNKNOWN_IDS = 10_000;
/** Schema fetches in flight at once, per decoder (a batch may name many new ids). */
const FETCH_CONCURRENCY = 8;
/** Waits between tries while the registry is unavailable: 100 ms doubling to 5 s. */
const FIRST_DELAY_MS = 100;
const MAX_DELAY_MS = 5_000;

/** A schema ready to decode with, or why records that carry its id are dead letters. */
type Entry<C> = { ok: true; compiled: C } | { ok: false; reason: string; until: number };

/**
 * What a format adds to the shared machinery: turning a registry schema into something that
 * decodes (throwing an Error whose message says why it cannot), and decoding one record with it.
 */
export interface Format<C, T> {
  name: string;
  /** `refs`: the schemas it references, dependencies first, each with the name it is imported by. */
  compile(schema: RegistrySchema, id: number, refs: readonly SchemaText[]): Promise<C>;
  decode(compiled: C, raw: Uint8Array, id: number): T;
}

export function registryOf(registry: RegistryOption): SchemaRegistry {
  return typeof registry === 'string' ? new SchemaRegistry({ url: registry }) : registry;
}

/**
 * A decoder for records in the Confluent wire format. Before each batch (`prepare`) it fetches
 * the schemas of the ids it has not seen, all at once, so `decode` stays synchronous and free of
 * I/O. An unknown id or a schema the format cannot use makes that id's records dead letters;
 * a registry that cannot be reached holds the batch and retries with backoff (the source pauses,
 * nothing is checkpointed past it) until it answers or the run stops.
 */
export function registryDecoder<C, T>(registry: RegistryOption, format: Format<C, T>): Decoder<T> {
  const client = registryOf(registry);
  const entries = new Map<number, Entry<C>>();
  let unknown = 0;
  const forgetUnknownIds = () => {
    for (const [id, e] of entries) if (!e.ok && e.until !== Number.POSITIVE_INFINITY) entries.delete(id);
    unknown = 0;
  };

  const load = async (id: number): Promise<void> => {
    try {
      const schema = await client.schemaById(id);
      const refs = schema.references.length > 0 ? await client.references(schema) : [];
      entries.set(id, { ok: true, compiled: await format.compile(schema, id, refs) });
    } catch (e) {
      if (e instanceof RegistryUnavailableError) throw e;
      if (e instanceof UnknownSchemaError) {
        if (unknown >= MAX_UNKNOWN_IDS) forgetUnknownIds();
        unknown++;
        entries.set(id, { ok: false, reason: e.message, until: Date.now() + UNKNOWN_ID_RETRY_MS });
      } else if (e instanceof DecodeError)
        entries.set(id, { ok: false, reason: e.message, until: Number.POSITIVE_INFINITY });
      else throw e; // refused (credentials) or a bug: the run fails with the reason
    }
  };

  return {
    name: format.name,
    async prepare(raws: readonly unknown[], stopping?: AbortSignal): Promise<boolean> {
      const now = Date.now();
      const missing = new Set<number>();
      for (const raw of raws) {
        const id = peekSchemaId(raw);
        if (id === undefined || missing.has(id)) continue;
        const e = entries.get(id);
        if (e === undefined || (!e.ok && e.until <= now)) missing.add(id);
      }
      const backoff = new RetryBackoff(FIRST_DELAY_MS, MAX_DELAY_MS);
      while (missing.size > 0) {
        const ids = [...missing];
        for (let i = 0; i < ids.length; i += FETCH_CONCURRENCY) {
          const chunk = ids.slice(i, i + FETCH_CONCURRENCY);
          const results = await Promise.allSettled(chunk.map(load));
          results.forEach((r, k) => {
            if (r.status === 'fulfilled') missing.delete(chunk[k]!);
            else if (!(r.reason instanceof RegistryUnavailableError)) throw r.reason;
          });
        }
        if (missing.size === 0) return true;
        if (stopping?.aborted === true) return false;
        if (!(await backoff.wait(stopping))) return false;
      }
      return true;
    },
    decode(raw: unknown): T {
      const id = readSchemaId(raw);
      const e = entries.get(id);
      if (e === undefined)
        throw new DecodeError(`schema id ${id} was not loaded (call prepare() with the batch first)`);
      if (!e.ok) throw new DecodeError(e.reason);
      return format.decode(e.compiled, raw as Uint8Array, id);
    },
  };
}
