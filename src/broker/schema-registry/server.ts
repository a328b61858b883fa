// The embedded Schema Registry's HTTP server: the Confluent Schema Registry REST API that
// serializers and registry clients call (the endpoint list is in docs/broker.md), over
// `RegistryStore`. Requests are handled one at a time (a registration is a read-check-write),
// bodies are bounded, and with broker users every request needs HTTP Basic credentials.

import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BrokerError } from '../errors.js';
import { route, RegistryHttpError } from './routes.js';
import { RegistryStore } from './store.js';

export interface SchemaRegistryServerOptions {
  port: number;
  host: string;
  /** Where the registry file lives; null: memory only. */
  dir: string | null;
  /** With users, every request must carry HTTP Basic credentials of one of them. */
  users: Record<string, string> | null;
  /** Largest request body; default 1 MiB. */
  maxBodyBytes?: number;
  warn: (message: string) => void;
}

export interface RunningSchemaRegistry {
  readonly port: number;
  /** `http://host:port`, what clients use as the registry URL. */
  readonly url: string;
  close(): Promise<void>;
}

const CONTENT_TYPE = 'application/vnd.schemaregistry.v1+json';

/**
 * Starts the registry's HTTP server (the broker does this for `schemaRegistry`).
 *
 * @example
 * const reg = await startSchemaRegistry({ port: 8081, host: '127.0.0.1', dir: log.dir, users: null, warn: console.warn });
 * console.log(`registry at ${reg.url}`);
 */
export async function startSchemaRegistry(o: SchemaRegistryServerOptions): Promise<RunningSchemaRegistry> {
  const store = new RegistryStore(o.dir, o.warn);
  const maxBody = o.maxBodyBytes ?? 1024 * 1024;
  const hashes = new Map(Object.entries(o.users ?? {}).map(([u, p]) => [u, sha256(p)]));
  // One request at a time: registrations read, check and write, so they must not interleave.
  let queue: Promise<void> = Promise.resolve();
  const server: Server = createServer((req, res) => {
    const respond = (status: number, body: unknown, raw = false) => {
      const text = raw ? String(body) : JSON.stringify(body);
      res.writeHead(status, { 'content-type': CONTENT_TYPE, 'content-length': Buffer.byteLength(text) });
      res.end(text);
    };
    if (hashes.size > 0 && !authorized(req, hashes)) {
      res.setHeader('www-authenticate', 'Basic realm="sluice schema registry"');
      return respond(401, {
        error_code: 401,
        message: 'Unauthorized: HTTP Basic credentials of a broker user are required',
      });
    }
    readBody(req, maxBody).then(
      (body) => {
        queue = queue
          .then(async () => {
            try {
              const r = await route(store, req.method ?? 'GET', req.url ?? '/', body);
              respond(r.status ?? 200, r.body, r.raw);
            } catch (e) {
              if (e instanceof RegistryHttpError)
                return respond(e.status, { error_code: e.code, message: e.message });
              o.warn(`sluice schema registry: ${req.method} ${req.url}: ${(e as Error).message}`);
              respond(500, {
                error_code: 50001,
                message: `Error in the backend data store: ${(e as Error).message}`,
              });
            }
          })
          // A response that cannot be written (the client left) must not stall the queue.
          .catch((e: Error) =>
            o.warn(`sluice schema registry: answering ${req.method} ${req.url}: ${e.message}`),
          );
      },
      (e: Error) => {
        res.setHeader('connection', 'close');
        const tooLarge = e instanceof BodyTooLarge;
        respond(tooLarge ? 413 : 400, { error_code: tooLarge ? 413 : 400, message: e.message });
      },
    );
  });
  server.requestTimeout = 30_000;
  server.headersTimeout = 10_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) =>
      reject(
        new BrokerError(
          'SLUICE_BROKER_LISTEN_FAILED',
          `schema registry: cannot listen on ${o.host}:${o.port}: ${err.message}; pick another --schema-registry-port (0 = any free one)`,
          { cause: err },
        ),
      ),
    );
    server.listen(o.port, o.host, () => resolve());
  });
  server.on('error', (err) => o.warn(`sluice schema registry: server error: ${err.message}`));
  const port = (server.address() as AddressInfo).port;
  const host = o.host.includes(':') ? `[${o.host}]` : o.host;
  return {
    port,
    url: `http://${host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }).then(() => queue),
  };
}

function sha256(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

/** Checks HTTP Basic credentials in constant time (hashes compared, never the passwords). */
function authorized(req: IncomingMessage, users: Map<string, Buffer>): boolean {
  const m = /^Basic\s+(\S+)$/i.exec(req.headers.authorization ?? '');
  if (!m) return false;
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const at = decoded.indexOf(':');
  if (at < 0) return false;
  const expected = users.get(decoded.slice(0, at));
  const given = sha256(decoded.slice(at + 1));
  return expected !== undefined && timingSafeEqual(expected, given);
}

class BodyTooLarge extends Error {}

/** The request body, refused past `max` bytes without buffering the rest. */
function readBody(req: IncomingMessage, max: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > max) return reject(new BodyTooLarge(`request body over ${max} bytes`));
    const chunks: Buffer[] = [];
    let total = 0;
    req.on('data', (c: Buffer) => {
      total += c.length;
      if (total > max) {
        req.removeAllListeners('data');
        req.resume();
        reject(new BodyTooLarge(`request body over ${max} bytes`));
      } else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
