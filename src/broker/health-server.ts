// `sluice broker --health-port`: liveness and readiness over HTTP for Kubernetes probes, on a
// port of its own (the Kafka port speaks only the Kafka protocol).

import { accessSync, constants, statfsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RunningBroker } from './broker.js';
import { BrokerError } from './errors.js';

/** One readiness condition, as `/readyz` reports it. */
interface Check {
  name: string;
  ok: boolean;
  reason?: string;
}

export interface BrokerHealthOptions {
  port: number;
  /** Default 127.0.0.1; a probe from the kubelet needs the pod's address (0.0.0.0). */
  host?: string;
  /** The log's directory: must be writable with at least `minFreeBytes` free. */
  dataDir: string;
  /** Default 256 MiB: less than that and appends may soon fail (four default segments). */
  minFreeBytes?: number;
}

export interface BrokerHealthServer {
  readonly url: string;
  close(): Promise<void>;
}

/** The broker's readiness: it accepts connections, and its data directory can take appends. */
export function brokerChecks(broker: RunningBroker, dataDir: string, minFreeBytes: number): Check[] {
  const checks: Check[] = [{ name: 'listening', ok: true }];
  try {
    accessSync(dataDir, constants.W_OK);
    const fs = statfsSync(dataDir);
    const free = fs.bavail * fs.bsize;
    checks.push(
      free >= minFreeBytes
        ? { name: 'disk', ok: true }
        : {
            name: 'disk',
            ok: false,
            reason: `${Math.floor(free / 2 ** 20)} MiB free in ${dataDir}, below ${Math.floor(minFreeBytes / 2 ** 20)} MiB`,
          },
    );
  } catch (err) {
    checks.push({ name: 'disk', ok: false, reason: `${dataDir}: ${(err as Error).message}` });
  }
  checks.push({ name: 'connections', ok: true, reason: `${broker.connectionCount()} open` });
  return checks;
}

/**
 * Serves `/healthz` (alive: the process answers) and `/readyz` (listening, data directory
 * writable with space left) as JSON for a running broker.
 *
 * @example
 * const health = await startBrokerHealth(broker, { port: 9644, dataDir: '.sluice/broker' });
 * // curl http://127.0.0.1:9644/readyz → {"ready":true,"checks":[…]}
 */
export async function startBrokerHealth(
  broker: RunningBroker,
  opts: BrokerHealthOptions,
): Promise<BrokerHealthServer> {
  const minFree = opts.minFreeBytes ?? 256 * 2 ** 20;
  const server: Server = createServer((req, res) => {
    const reply = (status: number, body: unknown) =>
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    if (req.method !== 'GET') return reply(405, { error: 'GET only' });
    if (req.url === '/healthz') return reply(200, { status: 'alive' });
    if (req.url === '/readyz') {
      const checks = brokerChecks(broker, opts.dataDir, minFree);
      const ready = checks.every((c) => c.ok);
      return reply(ready ? 200 : 503, { ready, checks });
    }
    reply(404, { error: 'try /healthz or /readyz' });
  });
  server.requestTimeout = 5000;
  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) =>
      reject(
        new BrokerError(
          'SLUICE_BROKER_LISTEN_FAILED',
          `health endpoint: cannot listen on ${host}:${opts.port}: ${err.message}; pick another --health-port`,
          { cause: err },
        ),
      ),
    );
    server.listen(opts.port, host, () => resolve());
  });
  const { address, port } = server.address() as AddressInfo;
  return {
    url: `http://${address.includes(':') ? `[${address}]` : address}:${port}/`,
    close: () => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))),
  };
}
