import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { DASHBOARD_JS } from './dashboard-client.js';
import { dashboardHtml } from './dashboard-page.js';
import { pipelineChecks, readiness, type HealthCheck } from './health.js';
import type { DashboardSnapshot, Observer } from './observer.js';
import { ObserveError } from './slo-rules.js';

export interface DashboardOptions {
  observer: Observer;
  /** Interface to bind; default 127.0.0.1 (the dashboard has no auth for reading). */
  host?: string;
  /** Port; 0 (default) picks a free one: read it from `url`. */
  port?: number;
  /** Bearer token for control endpoints; default env SLUICE_DASHBOARD_TOKEN; none = no controls. */
  token?: string;
  /** Control endpoints, `POST /control/<name>` with `Authorization: Bearer <token>`. */
  controls?: Record<string, () => unknown>;
  /** Page title; default "Sluice". */
  title?: string;
  /** `/readyz` fails while a pipeline's source lag is above this many records; default: no lag check. */
  readyMaxLag?: number;
  /** More `/readyz` conditions (e.g. a worker's partitions assigned and state restored). */
  readiness?: () => HealthCheck[];
}

const require = createRequire(import.meta.url);
const assets = new Map<string, { type: string; body: Buffer }>();
/** uPlot's dist files, read once from node_modules (a dependency, so always installed). */
function asset(name: 'uplot.js' | 'uplot.css'): { type: string; body: Buffer } {
  let a = assets.get(name);
  if (!a) {
    const file = name === 'uplot.js' ? 'uplot/dist/uPlot.iife.min.js' : 'uplot/dist/uPlot.min.css';
    const type = name === 'uplot.js' ? 'text/javascript; charset=utf-8' : 'text/css; charset=utf-8';
    a = { type, body: readFileSync(require.resolve(file)) };
    assets.set(name, a);
  }
  return a;
}

const CSP = "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:";
const digest = (s: string) => createHash('sha256').update(s).digest();

/**
 * The live dashboard and metrics endpoint on one `node:http` server:
 * `/` the page (uPlot charts), `/events` Server-Sent Events with one snapshot per pipeline a
 * second, `/metrics` Prometheus text, `/healthz` (alive) and `/readyz` (ready, with the reasons
 * when not: 503), `/api/snapshots` the latest snapshots as JSON, and
 * `POST /control/<name>` for the given controls (bearer token required).
 *
 * @example
 * const observer = new Observer();
 * observer.add(run.metrics);
 * const dash = await DashboardServer.start({ observer, port: 0 });
 * console.error(`dashboard: ${dash.url}`);
 * await run.done; await dash.close(); observer.close();
 */
export class DashboardServer {
  private readonly clients = new Set<ServerResponse>();
  private readonly off: () => void;
  private readonly ping: NodeJS.Timeout;
  private readonly token: string | undefined;
  readonly url: string;
  readonly port: number;

  private constructor(
    private readonly server: Server,
    private readonly opts: DashboardOptions,
  ) {
    const addr = server.address() as AddressInfo;
    this.port = addr.port;
    const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
    this.url = `http://${host}:${addr.port}/`;
    this.token = opts.token ?? (process.env.SLUICE_DASHBOARD_TOKEN || undefined);
    this.off = opts.observer.subscribe((s) => this.broadcast(s));
    // A comment line now and then keeps idle SSE connections open through proxies.
    this.ping = setInterval(() => this.send(': ping\n\n'), 15_000);
    this.ping.unref();
  }

  /** Starts listening; resolves once the port is bound. */
  static start(opts: DashboardOptions): Promise<DashboardServer> {
    const port = opts.port ?? 0;
    if (!Number.isInteger(port) || port < 0 || port > 65535)
      throw new ObserveError(`dashboard port must be an integer from 0 to 65535, got ${port}`);
    return new Promise((resolve, reject) => {
      let dash: DashboardServer | undefined;
      const server = createServer((req, res) => {
        dash?.handle(req, res).catch((e: Error) => {
          if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'text/plain' });
          res.end(`internal error: ${e.message}\n`);
        });
      });
      server.once('error', reject);
      server.listen(port, opts.host ?? '127.0.0.1', () => {
        server.off('error', reject);
        dash = new DashboardServer(server, opts);
        resolve(dash);
      });
    });
  }

  /** Ends the event streams and stops the server. */
  close(): Promise<void> {
    this.off();
    clearInterval(this.ping);
    for (const c of this.clients) c.end();
    this.clients.clear();
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (req.method === 'POST' && path.startsWith('/control/')) return this.control(req, res, path.slice(9));
    if (req.method !== 'GET' && req.method !== 'HEAD')
      return this.reply(res, 405, 'text/plain', 'GET only\n');
    switch (path) {
      case '/':
        return this.reply(res, 200, 'text/html; charset=utf-8', dashboardHtml(this.opts.title ?? 'Sluice'));
      case '/app.js':
        return this.reply(res, 200, 'text/javascript; charset=utf-8', DASHBOARD_JS);
      case '/uplot.js':
      case '/uplot.css': {
        const a = asset(path.slice(1) as 'uplot.js');
        return this.reply(res, 200, a.type, a.body, 'public, max-age=3600');
      }
      case '/metrics': {
        const prom = this.opts.observer.prometheus;
        return this.reply(res, 200, prom.contentType, await prom.metrics());
      }
      case '/healthz':
        // Alive: the process answers. Nothing else, so a busy or lagging worker is not restarted.
        return this.reply(res, 200, 'application/json', JSON.stringify({ status: 'alive' }));
      case '/readyz': {
        const checks = pipelineChecks(this.opts.observer.latest(), this.opts.readyMaxLag, Date.now());
        const r = readiness([...(this.opts.readiness?.() ?? []), ...checks]);
        return this.reply(res, r.ready ? 200 : 503, 'application/json', JSON.stringify(r));
      }
      case '/api/snapshots':
        return this.reply(res, 200, 'application/json', JSON.stringify(this.opts.observer.latest()));
      case '/events':
        return this.events(req, res);
      default:
        return this.reply(res, 404, 'text/plain', 'not found\n');
    }
  }

  private events(req: IncomingMessage, res: ServerResponse): void {
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
    res.write('retry: 2000\n\n');
    for (const s of this.opts.observer.latest()) res.write(`data: ${JSON.stringify(s)}\n\n`);
    this.clients.add(res);
    req.on('close', () => this.clients.delete(res));
  }

  private broadcast(s: DashboardSnapshot): void {
    if (this.clients.size > 0) this.send(`data: ${JSON.stringify(s)}\n\n`);
  }

  /** Writes to every client; a client that stopped reading skips frames instead of buffering. */
  private send(frame: string): void {
    for (const c of this.clients) if (!c.writableNeedDrain) c.write(frame);
  }

  private control(req: IncomingMessage, res: ServerResponse, name: string): void {
    req.resume();
    const fn = this.opts.controls?.[name];
    if (!fn || !Object.hasOwn(this.opts.controls!, name))
      return this.reply(res, 404, 'text/plain', 'no such control\n');
    if (!this.token)
      return this.reply(
        res,
        403,
        'text/plain',
        'control endpoints are off: set SLUICE_DASHBOARD_TOKEN to enable them\n',
      );
    const given = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1] ?? '';
    if (!timingSafeEqual(digest(given), digest(this.token)))
      return this.reply(res, 401, 'text/plain', 'bad or missing bearer token\n', undefined, true);
    // Not awaited: a control may take long (stop waits for in-flight records and a checkpoint),
    // and the server may close before it ends. 202 = accepted and started.
    Promise.resolve()
      .then(fn)
      .catch((e: Error) => process.emitWarning(`dashboard control ${name} failed: ${e.message}`));
    return this.reply(res, 202, 'application/json', JSON.stringify({ ok: true, control: name }));
  }

  private reply(
    res: ServerResponse,
    status: number,
    type: string,
    body: string | Buffer,
    cache = 'no-store',
    challenge = false,
  ): void {
    res.writeHead(status, {
      'Content-Type': type,
      'Content-Length': Buffer.byteLength(body),
      'Cache-Control': cache,
      'X-Content-Type-Options': 'nosniff',
      'Content-Security-Policy': CSP,
      ...(challenge ? { 'WWW-Authenticate': 'Bearer' } : {}),
    });
    res.end(res.req.method === 'HEAD' ? undefined : body);
  }
}

/**
 * Starts the dashboard server: shorthand for `DashboardServer.start`.
 *
 * @example
 * const dash = await startDashboard({ observer, port: 8080 });
 */
export function startDashboard(opts: DashboardOptions): Promise<DashboardServer> {
  return DashboardServer.start(opts);
}
