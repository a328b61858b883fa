/**
 * Serves recommendations from the live state while the pipeline updates it:
 * `GET /recommendations/{user}?k=10` → `{ user, k, items, scores, history, events }`
 * (items the user has not interacted with, best first; popular items for a new user),
 * `GET /healthz` → `{ ok, events, users }`. Listens on 127.0.0.1 by default.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { LiveRecommender } from './recommender.js';

export interface RecsServer {
  url: string;
  /** Server-side handling time of every request so far, in ms (p50/p99/max) and the count. */
  stats(): { requests: number; p50_ms: number; p99_ms: number; max_ms: number };
  close(): Promise<void>;
}

const MAX_SAMPLES = 1 << 20;

export async function startRecsServer(
  live: LiveRecommender,
  opts: { port?: number; host?: string } = {},
): Promise<RecsServer> {
  const durations = new Float64Array(MAX_SAMPLES);
  let requests = 0;
  const send = (res: ServerResponse, status: number, body: unknown) => {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  };
  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const started = performance.now();
    const url = new URL(req.url ?? '/', 'http://localhost');
    const m = /^\/recommendations\/(-?\d+)$/.exec(url.pathname);
    if (req.method !== 'GET') send(res, 405, { error: 'use GET' });
    else if (m) {
      const k = Number(url.searchParams.get('k') ?? 10);
      if (!Number.isInteger(k) || k < 1 || k > 100)
        send(res, 400, { error: 'k must be an integer from 1 to 100' });
      else {
        const user = Number(m[1]);
        const recs = live.recommend(user, k);
        send(res, 200, {
          user,
          k,
          items: recs.map((r) => r.item),
          scores: recs.map((r) => Number(r.score.toFixed(4))),
          history: live.history(user).length,
          events: live.events,
        });
      }
    } else if (url.pathname === '/healthz')
      send(res, 200, { ok: true, events: live.events, users: live.userCount });
    else send(res, 404, { error: 'try GET /recommendations/{user}?k=10' });
    durations[requests++ % MAX_SAMPLES] = performance.now() - started;
  };
  const server = createServer(handle);
  server.keepAliveTimeout = 10_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => resolve());
  });
  const { address, port } = server.address() as AddressInfo;
  return {
    url: `http://${address.includes(':') ? `[${address}]` : address}:${port}`,
    stats() {
      const n = Math.min(requests, MAX_SAMPLES);
      const sorted = durations.slice(0, n).sort();
      const q = (p: number) => (n === 0 ? 0 : Number(sorted[Math.min(n - 1, Math.floor(p * n))]!.toFixed(3)));
      return { requests, p50_ms: q(0.5), p99_ms: q(0.99), max_ms: n ? Number(sorted[n - 1]!.toFixed(3)) : 0 };
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
