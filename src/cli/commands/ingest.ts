import { join, resolve } from 'node:path';
import { saslUsersFromEnv, startBroker, type RunningBroker } from '../../broker/index.js';
import { startIngest } from '../../connectors/ingest.js';
import { Log } from '../../log/index.js';
import { intFlag, parseFlags, stringFlag, UsageError } from '../args.js';

export const INGEST_USAGE = `sluice ingest URL --to TOPIC [options]

Appends what a push source sends to a topic of the embedded log, on its own, whether or not a
pipeline runs: pipelines read the topic when they run, so their downtime costs latency, not
readings. Each message is acknowledged upstream only after it is appended and fsynced.

  URL               mqtt://HOST:PORT/TOPIC/FILTER (QoS 1 persistent session; # as %23)
                    nats://HOST:PORT/SUBJECT (JetStream), redis://HOST:PORT/STREAM,
                    kafka://HOST:PORT/TOPIC, http://HOST:PORT (POST /ingest/TOPIC)
  --to TOPIC        the log topic to append to (created when missing)
  --data DIR        data directory; the log is DIR/log (default .sluice/ingest)
  --partitions N    partitions of TOPIC when it is created (default 1; MQTT keys by topic)
  --client-id ID    MQTT client id of the persistent session (default sluice-ingest-TOPIC)
  --port N          also serve the log over the Kafka protocol on 127.0.0.1:N, so pipelines
                    read it while the ingest runs (SASL when SLUICE_BROKER_USERS is set)

The log is locked while the ingest runs: a pipeline reads it through --port, or after the
ingest stopped (--data DIR of the pipeline). Ctrl-C or SIGTERM stops it cleanly.
`;

/** The URL without its credentials, for messages. */
const shown = (url: string) => url.replace(/\/\/[^@/]*@/, '//***@');

export async function ingest(args: string[]): Promise<number> {
  const { values, positionals } = parseFlags(args, {
    to: { type: 'string' },
    data: { type: 'string' },
    partitions: { type: 'string' },
    port: { type: 'string' },
    'client-id': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    process.stdout.write(INGEST_USAGE);
    return 0;
  }
  const [url, extra] = positionals;
  if (!url) throw new UsageError('give the URL to ingest from, e.g. mqtt://127.0.0.1:1883/sensors/%23');
  if (extra !== undefined) throw new UsageError(`unexpected argument "${extra}"`);
  if (values.to === undefined) throw new UsageError('--to TOPIC is required (the log topic to append to)');
  const to = stringFlag(values.to, 'to', '');
  const dir = join(resolve(stringFlag(values.data, 'data', '.sluice/ingest')), 'log');
  // HttpIngest answers once the append returns: fsync 'batch' makes that durable. The others
  // fsync a batch themselves before acknowledging it.
  const log = Log.open(dir, { fsync: url.startsWith('http:') ? 'batch' : 'interval' });
  let broker: RunningBroker | undefined;
  try {
    if (!log.hasTopic(to))
      log.createTopic(to, { partitions: intFlag(values.partitions, 'partitions', 1, 1, 10_000) });
    const clientId =
      values['client-id'] === undefined ? undefined : stringFlag(values['client-id'], 'client-id', '');
    const running = await startIngest(url, log, to, { clientId });
    if (values.port !== undefined) {
      const users = saslUsersFromEnv();
      broker = await startBroker({
        log,
        port: intFlag(values.port, 'port', 9092, 0, 65535),
        host: '127.0.0.1',
        ...(users ? { sasl: { users } } : {}),
        onWarning: (m) => process.stderr.write(m + '\n'),
      });
    }
    process.stdout.write(
      `ingesting ${running.address ? `${running.address}ingest/${to}` : shown(url)} into ${to} (${dir})${broker ? `; serving it on ${broker.address}` : ''}\n`,
    );
    const stop = new Promise<string>((r) => {
      process.once('SIGINT', () => r('stopped'));
      process.once('SIGTERM', () => r('stopped'));
    });
    await Promise.race([stop, running.done]);
    await running.close();
    const s = running.stats;
    process.stdout.write(`stopped: ${s.appended} message(s) appended to ${to} in ${s.syncs} fsync(s)\n`);
    return 0;
  } finally {
    await broker?.close();
    log.close();
  }
}
