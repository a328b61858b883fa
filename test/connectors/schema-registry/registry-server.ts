import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A small Schema Registry for tests: the REST calls the Confluent serializers make to register
 * and look up schemas, and `GET /schemas/ids/{id}` that Sluice's decoders use. `down` answers
 * 503 to everything (an outage); `requests` counts the `GET /schemas/ids` calls.
 */
export class TestRegistry {
  down = false;
  requests = 0;
  /** The most `GET /schemas/ids` requests seen in flight at once. */
  maxInFlight = 0;
  private inFlight = 0;
  /** Basic auth required when set ("user:password"). */
  auth: string | undefined;
  private readonly schemas: { schemaType: string; schema: string; references: unknown[] }[] = [];
  private readonly subjects = new Map<string, number[]>();
  private server: Server | undefined;
  url = '';

  async start(): Promise<this> {
    this.server = createServer(
      (req, res) => void this.handle(req, res.writeHead.bind(res), (b) => res.end(b)),
    );
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise((r) => this.server?.close(r));
  }

  /** Registers a schema directly (what a producer's serializer would do); returns its id. */
  register(subject: string, schema: string, schemaType = 'AVRO'): number {
    const found = this.schemas.findIndex((s) => s.schema === schema && s.schemaType === schemaType);
    const id = found >= 0 ? found + 1 : this.schemas.push({ schemaType, schema, references: [] });
    const versions = this.subjects.get(subject) ?? [];
    if (!versions.includes(id)) versions.push(id);
    this.subjects.set(subject, versions);
    return id;
  }

  private async handle(
    req: IncomingMessage,
    head: (status: number, headers: Record<string, string>) => void,
    end: (body?: string) => void,
  ): Promise<void> {
    const body = await readBody(req);
    const send = (status: number, value: unknown) => {
      head(status, { 'content-type': 'application/vnd.schemaregistry.v1+json' });
      end(JSON.stringify(value));
    };
    if (this.down) return send(503, { error_code: 50301, message: 'down for the test' });
    if (this.auth && req.headers.authorization !== `Basic ${Buffer.from(this.auth).toString('base64')}`)
      return send(401, { error_code: 401, message: 'Unauthorized' });
    const path = new URL(req.url!, 'http://x').pathname;
    let m = /^\/schemas\/ids\/(\d+)$/.exec(path);
    if (m && req.method === 'GET') {
      this.requests++;
      this.maxInFlight = Math.max(this.maxInFlight, ++this.inFlight);
      await new Promise((r) => setTimeout(r, 1)); // let concurrent requests overlap
      this.inFlight--;
      const s = this.schemas[Number(m[1]) - 1];
      if (!s) return send(404, { error_code: 40403, message: 'Schema not found' });
      return send(200, { ...s, schemaType: s.schemaType === 'AVRO' ? undefined : s.schemaType });
    }
    m = /^\/subjects\/([^/]+)\/versions$/.exec(path);
    if (m && req.method === 'POST') {
      const b = JSON.parse(body) as { schema: string; schemaType?: string };
      return send(200, { id: this.register(decodeURIComponent(m[1]!), b.schema, b.schemaType ?? 'AVRO') });
    }
    m = /^\/subjects\/([^/]+)\/versions\/(latest|\d+)$/.exec(path);
    if (m && req.method === 'GET') {
      const subject = decodeURIComponent(m[1]!);
      const versions = this.subjects.get(subject) ?? [];
      const version = m[2] === 'latest' ? versions.length : Number(m[2]);
      const id = versions[version - 1];
      if (id === undefined) return send(404, { error_code: 40402, message: 'Version not found' });
      const s = this.schemas[id - 1]!;
      return send(200, { subject, id, version, schema: s.schema, schemaType: s.schemaType, references: [] });
    }
    m = /^\/subjects\/([^/]+)$/.exec(path);
    if (m && req.method === 'POST') {
      const b = JSON.parse(body) as { schema: string; schemaType?: string };
      const subject = decodeURIComponent(m[1]!);
      const id = this.schemas.findIndex((s) => s.schema === b.schema) + 1;
      const version = (this.subjects.get(subject) ?? []).indexOf(id) + 1;
      if (id === 0 || version === 0) return send(404, { error_code: 40403, message: 'Schema not found' });
      return send(200, { subject, id, version, schema: b.schema, schemaType: b.schemaType });
    }
    send(404, { error_code: 404, message: `not served by the test registry: ${req.method} ${path}` });
  }
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
