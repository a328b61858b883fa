import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Log } from '../log/index.js';
import { requireOption, type DeadLetterSink, type Decoder } from '../stream/index.js';
import { checkTopicName } from '../log/topics-file.js';
import { ingestRecords } from './ingest-body.js';
import { answerEarly, InFlightBudget, readBody, reply } from './ingest-limits.js';

/** The environment variable the bearer token is read from by default. */
export const INGEST_TOKEN_ENV = 'SLUICE_INGEST_TOKEN';

export interface HttpIngestOptions {
  log: Log;
  /** Default 0: any free port (see `url`). */
  port?: number;
  /** Interface to bind. Default 127.0.0.1 (this machine only). */
  host?: string;
  /** Bearer token every request must carry; default the SLUICE_INGEST_TOKEN variable; '' = none. */
  token?: string;
  /** Largest request body. Default 8 MiB (413 beyond). */
  maxBodyBytes?: number;
  /** Request body bytes held by all requests in progress at most; beyond it 429 with Retry-After. Default 64 MiB. */
  maxInFlightBytes?: number;
  /**
   * Records written but not yet read by the pipeline (see `maxBacklog`); `httpIngestSource`
   * passes its pipeline's lag. Without it the backlog is not checked.
   */
  backlog?: () => number;
  /** When `backlog()` is at least this, requests are answered 503 with Retry-After. Default 1,000,000; 0 = never. */
  maxBacklog?: number;
  /** Seconds put in Retry-After on 429 and 503. Default 1. */
  retryAfterSeconds?: number;
  /** Largest record; bigger ones are refused with the reason. Default 1 MiB. */
  maxRecordBytes?: number;
  /** Topics that may be written; default any topic the log has. */
  topics?: string[];
  /** Create a missing (allowed) topic with one partition instead of answering 404. Default false. */
  createTopics?: boolean;
  /** Validate records at the edge: failures are refused with the reason (and dead-lettered). */
  decoder?: Decoder<unknown>;
  /** Where records refused at the edge go (stage "ingest"), e.g. logDeadLetters(log, 'x.dlq'). */
  deadLetters?: DeadLetterSink;
}

const digest = (s: string) => createHash('sha256').update(s).digest();

/**
 * An HTTP endpoint that appends records to the embedded log: `POST /ingest/{topic}` with a JSON
 * body (an object, or an array of them) or NDJSON (one record per line). Answers 200 with the
 * offsets, or a 4xx that says what to fix (401 token, 400 bad topic name, 404 topic, 413 size,
 * 415 content type, 400 unparseable JSON, 422 every record refused), or asks the client to come
 * back later with Retry-After: 429 when the bodies in progress hold `maxInFlightBytes`, 503 when
 * the pipeline reading the topic is `maxBacklog` records behind. Memory stays bounded: bodies
 * are capped one by one and in all, and records are handled a slice at a time. Binds 127.0.0.1
 * unless told otherwise.
 *
 * @example
 * const ingest = await HttpIngest.start({ log, topics: ['transactions'], token: 's3cret' });
 * // curl -H 'authorization: Bearer s3cret' -H 'content-type: application/x-ndjson' --data-binary @tx.ndjson ${ingest.url}ingest/transactions
 */
export class HttpIngest {
  private constructor(
    /** Counters since start. */
    readonly stats: { requests: number; records: number; refused: number; throttled: number },
    private readonly server: Server,
    readonly url: string,
    readonly port: number,
  ) {}

  static async start(opts: HttpIngestOptions): Promise<HttpIngest> {
    const token = opts.token ?? process.env[INGEST_TOKEN_ENV] ?? '';
    const maxBodyBytes = opts.maxBodyBytes ?? 8 << 20;
    const maxRecordBytes = opts.maxRecordBytes ?? 1 << 20;
    const maxInFlightBytes = opts.maxInFlightBytes ?? 64 << 20;
    const maxBacklog = opts.maxBacklog ?? 1_000_000;
    const retryAfterSeconds = opts.retryAfterSeconds ?? 1;
    requireOption(
      maxBodyBytes > 0 && maxRecordBytes > 0,
      'HttpIngest: maxBodyBytes and maxRecordBytes must be > 0',
    );
    requireOption(
      maxInFlightBytes >= maxBodyBytes,
      'HttpIngest: maxInFlightBytes must be at least maxBodyBytes (else a full-size body could never be taken)',
    );
    requireOption(
      maxBacklog >= 0 && Number.isInteger(retryAfterSeconds) && retryAfterSeconds > 0,
      'HttpIngest: maxBacklog must be >= 0 and retryAfterSeconds a positive integer',
    );
    const budget = new InFlightBudget(maxInFlightBytes);
    const allowed = opts.topics ? new Set(opts.topics) : undefined;
    const want = token ? digest(token) : undefined;
    const stats = { requests: 0, records: 0, refused: 0, throttled: 0 };
    const server = createServer({ requestTimeout: 30_000 }, (req, res) => {
      void handle(req, res).catch((err: unknown) =>
        reply(res, { status: 500, code: 'SLUICE_INGEST_FAILED', error: (err as Error).message }),
      );
    });

    const handle = async (req: IncomingMessage, res: ServerResponse) => {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      if (path === '/healthz') return reply(res, { status: 200, ok: true });
      const m = /^\/ingest\/([^/]+)$/.exec(path);
      if (!m)
        return reply(res, {
          status: 404,
          code: 'SLUICE_INGEST_NOT_FOUND',
          error: `no route ${path}; POST records to /ingest/{topic}`,
        });
      if (want) {
        const auth = req.headers.authorization ?? '';
        const given = /^Bearer (.+)$/i.exec(auth)?.[1];
        if (!given || !timingSafeEqual(digest(given), want)) {
          res.setHeader('www-authenticate', 'Bearer');
          return reply(res, {
            status: 401,
            code: 'SLUICE_INGEST_UNAUTHORIZED',
            error: 'send the ingest token as "Authorization: Bearer <token>"',
          });
        }
      }
      if (req.method !== 'POST') {
        res.setHeader('allow', 'POST');
        return reply(res, {
          status: 405,
          code: 'SLUICE_INGEST_METHOD',
          error: `${req.method} is not allowed; POST records to ${path}`,
        });
      }
      let topic: string;
      try {
        topic = decodeURIComponent(m[1]!);
        checkTopicName(topic);
      } catch (err) {
        return reply(res, {
          status: 400,
          code: 'SLUICE_INGEST_BAD_TOPIC',
          error:
            err instanceof URIError
              ? `the topic in ${path} is not valid percent-encoding`
              : (err as Error).message,
        });
      }
      if (allowed && !allowed.has(topic))
        return reply(res, {
          status: 404,
          code: 'SLUICE_INGEST_TOPIC',
          error: `topic "${topic}" is not open for ingest (open: ${[...allowed].join(', ')})`,
        });
      if (!opts.log.hasTopic(topic)) {
        if (!opts.createTopics)
          return reply(res, {
            status: 404,
            code: 'SLUICE_INGEST_TOPIC',
            error: `topic "${topic}" does not exist; create it first or start the ingest with createTopics`,
          });
        opts.log.createTopic(topic, { partitions: 1 });
      }
      // The pipeline is behind: the client retries later instead of growing the backlog.
      const backlog = maxBacklog > 0 && opts.backlog ? opts.backlog() : 0;
      if (maxBacklog > 0 && backlog >= maxBacklog) {
        stats.throttled++;
        res.setHeader('retry-after', String(retryAfterSeconds));
        return answerEarly(
          req,
          res,
          {
            status: 503,
            code: 'SLUICE_INGEST_BEHIND',
            error: `the pipeline reading "${topic}" is ${backlog} records behind (maxBacklog ${maxBacklog}); retry after ${retryAfterSeconds} s`,
          },
          maxBodyBytes,
        );
      }
      const read = readBody(req, res, { maxBodyBytes, budget, retryAfterSeconds });
      try {
        const body = await read.body;
        if (body === null) {
          if (res.statusCode === 429) stats.throttled++;
          return;
        }
        const out = await ingestRecords(opts.log, topic, req.headers['content-type'], body, {
          maxRecordBytes,
          decoder: opts.decoder,
          deadLetters: opts.deadLetters,
          traceparent: req.headers.traceparent,
        });
        stats.requests++;
        if ('accepted' in out) {
          stats.records += out.accepted;
          stats.refused += out.refusedCount ?? 0;
        }
        return reply(res, out);
      } finally {
        budget.release(read.reserved());
      }
    };

    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => resolve());
    });
    const addr = server.address() as AddressInfo;
    const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
    return new HttpIngest(stats, server, `http://${host}:${addr.port}/`, addr.port);
  }

  /** Stops accepting requests and closes the connections. */
  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}
