import type { Source, SourceContext } from '../stream/index.js';
import { HttpIngest, type HttpIngestOptions } from './http-ingest.js';
import { logSource, type LogSourceOptions } from './log-source.js';

export interface HttpIngestSourceOptions extends HttpIngestOptions {
  /** The topic this pipeline reads; created (one partition) when missing, and open for ingest. */
  topic: string;
  /** See logSource. Default 'never'. */
  endWhen?: LogSourceOptions['endWhen'];
  /** Called with the endpoint's base URL once it listens. */
  onListen?: (url: string) => void;
}

/**
 * A source fed over HTTP: starts an `HttpIngest` endpoint with the pipeline and reads what it
 * appends to the embedded log, so ingested records are durable before the client gets its 200
 * and replayable after a crash (offsets are log offsets, checkpointed as usual). When the
 * pipeline falls `maxBacklog` records behind (default 1,000,000), clients get 503 with
 * Retry-After until it catches up.
 *
 * @example
 * const source = httpIngestSource({ log, topic: 'events', port: 8080, onListen: (u) => console.log(`POST ${u}ingest/events`) });
 * pipeline('events').from(source).decode(json(schema))...
 */
export function httpIngestSource(
  opts: HttpIngestSourceOptions,
): Source<Buffer | null> & { ingest(): HttpIngest | undefined } {
  const { log, topic } = opts;
  let server: HttpIngest | undefined;
  let inner: Source<Buffer | null> | undefined;
  return {
    name: `http:${topic}`,
    sharesStamps: true, // a log source's polls
    async open(ctx: SourceContext) {
      if (!log.hasTopic(topic)) log.createTopic(topic, { partitions: 1 });
      inner = logSource({ log, topic, endWhen: opts.endWhen });
      await inner.open(ctx);
      const reader = inner;
      server = await HttpIngest.start({
        ...opts,
        topics: opts.topics ?? [topic],
        // Records appended but not yet read by this pipeline: past maxBacklog, clients get 503.
        backlog: opts.backlog ?? (() => reader.lag()),
      });
      opts.onListen?.(server.url);
    },
    poll: (max) => inner!.poll(max),
    positions: () => inner!.positions(),
    lag: () => inner!.lag(),
    lagByPartition: () => inner!.lagByPartition?.() ?? {},
    async close() {
      await server?.close();
      await inner?.close();
    },
    ingest: () => server,
  };
}
