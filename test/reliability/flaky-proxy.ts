// A local TCP proxy that can go down like a restarting server: existing connections are cut and
// new ones refused (ECONNREFUSED) for a while, then it forwards again.
import { createConnection, createServer, type Server, type Socket } from 'node:net';

export class FlakyProxy {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();

  /** The port it listens on (the same across outages). */
  port = 0;

  constructor(private readonly target: { host: string; port: number }) {}

  async start(): Promise<this> {
    this.port = await this.listen(0);
    return this;
  }

  private listen(port: number): Promise<number> {
    const server = createServer((client) => {
      const upstream = createConnection(this.target);
      for (const [a, b] of [
        [client, upstream],
        [upstream, client],
      ] as const) {
        this.sockets.add(a);
        a.pipe(b);
        a.on('error', () => b.destroy());
        a.on('close', () => (this.sockets.delete(a), b.destroy()));
      }
    });
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve((server.address() as { port: number }).port));
    });
  }

  /** Cuts every connection and refuses new ones for `ms`, then listens on the same port again. */
  async outage(ms: number): Promise<void> {
    const closed = new Promise((r) => this.server!.close(r));
    for (const s of this.sockets) s.destroy();
    await closed;
    await new Promise((r) => setTimeout(r, ms));
    await this.listen(this.port);
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise((r) => this.server?.close(r));
  }
}
