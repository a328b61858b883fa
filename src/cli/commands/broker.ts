import { resolve } from 'node:path';
import { saslUsersFromEnv, startBroker } from '../../broker/index.js';
import type { FsyncPolicy } from '../../log/index.js';
import { intFlag, parseFlags, stringFlag, UsageError } from '../args.js';

export const BROKER_USAGE = `sluice broker [options]

Serves the embedded log over the Kafka wire protocol: kcat, librdkafka, kafka-python,
@platformatic/kafka and other Kafka clients can produce, consume and use consumer groups.

  --port N          TCP port (default 9092; 0 picks a free one)
  --host H          interface to bind (default 127.0.0.1; 0.0.0.0 accepts remote clients)
  --data DIR        log directory (default .sluice/broker)
  --partitions N    partitions of auto-created topics (default 1)
  --fsync P         batch | interval | never (default interval; batch = durable on ack)
  --max-request-bytes N  largest request accepted (default 104857600)
  --no-auto-create  refuse unknown topics instead of creating them
  --retention-ms N     delete closed segments older than N ms (default: keep forever)
  --retention-bytes N  keep at most about N bytes per partition (default: no limit)
  --segment-bytes N    roll segments at N bytes (default 67108864)
  --segment-ms N       roll segments at N ms of age (default: by size only)

SASL/PLAIN is required when SLUICE_BROKER_USERS is set, e.g. SLUICE_BROKER_USERS="alice:secret,bob:pw".
Prints "listening on HOST:PORT" when ready; Ctrl-C or SIGTERM shuts down cleanly.
`;

/** Whether `address` ("host:port") only accepts connections from this machine. */
function isLoopback(address: string): boolean {
  const host = address.slice(0, address.lastIndexOf(':')).replace(/^\[|\]$/g, '');
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

export async function broker(args: string[]): Promise<number> {
  const { values } = parseFlags(args, {
    port: { type: 'string' },
    host: { type: 'string' },
    data: { type: 'string' },
    partitions: { type: 'string' },
    fsync: { type: 'string' },
    'max-request-bytes': { type: 'string' },
    'no-auto-create': { type: 'boolean' },
    'retention-ms': { type: 'string' },
    'retention-bytes': { type: 'string' },
    'segment-bytes': { type: 'string' },
    'segment-ms': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    process.stdout.write(BROKER_USAGE);
    return 0;
  }
  const fsync = stringFlag(values.fsync, 'fsync', 'interval');
  if (fsync !== 'batch' && fsync !== 'interval' && fsync !== 'never') {
    throw new UsageError(`--fsync must be batch, interval or never, got "${fsync}"`);
  }
  const dataDir = resolve(stringFlag(values.data, 'data', '.sluice/broker'));
  const users = saslUsersFromEnv();
  const running = await startBroker({
    port: intFlag(values.port, 'port', 9092, 0, 65535),
    host: stringFlag(values.host, 'host', '127.0.0.1'),
    dataDir,
    partitions: intFlag(values.partitions, 'partitions', 1, 1, 100_000),
    fsync: fsync as FsyncPolicy,
    maxRequestBytes: intFlag(
      values['max-request-bytes'],
      'max-request-bytes',
      100 * 1024 * 1024,
      1024,
      2 ** 31 - 1,
    ),
    autoCreateTopics: !values['no-auto-create'],
    logOptions: {
      segmentBytes: intFlag(values['segment-bytes'], 'segment-bytes', 64 << 20, 128, 2 ** 31 - 1),
      ...(values['segment-ms'] !== undefined
        ? { segmentMs: intFlag(values['segment-ms'], 'segment-ms', 0, 1) }
        : {}),
      ...(values['retention-ms'] !== undefined
        ? { retentionMs: intFlag(values['retention-ms'], 'retention-ms', 0, 0) }
        : {}),
      ...(values['retention-bytes'] !== undefined
        ? { retentionBytes: intFlag(values['retention-bytes'], 'retention-bytes', 0, 0) }
        : {}),
    },
    ...(users ? { sasl: { users } } : {}),
    onWarning: (m) => process.stderr.write(m + '\n'),
  });
  if (!users && !isLoopback(running.address))
    process.stderr.write(
      `sluice broker: WARNING: listening on ${running.address} without authentication: anyone who can reach it can read and write every topic; set SLUICE_BROKER_USERS="user:password" to require SASL/PLAIN, or bind --host 127.0.0.1\n`,
    );
  process.stdout.write(
    `sluice broker listening on ${running.address} (data ${dataDir}, fsync ${fsync}${users ? `, SASL/PLAIN for ${Object.keys(users).length} user(s)` : ''})\n`,
  );
  const signal = await new Promise<NodeJS.Signals>((done) => {
    process.once('SIGINT', () => done('SIGINT'));
    process.once('SIGTERM', () => done('SIGTERM'));
  });
  process.stderr.write(`sluice broker: ${signal}, shutting down\n`);
  await running.close();
  return 0;
}
