// Starts the test Pub/Sub server on its own (benchmarks, trying Sluice by hand):
//   node --import tsx test/connectors/pubsub-server/main.ts [PORT]
// prints "PUBSUB_EMULATOR_HOST=127.0.0.1:PORT" and serves until killed. Not the official emulator.
import { PubSubTestServer } from './server.js';

const server = await PubSubTestServer.start(Number(process.argv[2] ?? 0));
process.stdout.write(`PUBSUB_EMULATOR_HOST=${server.host}\n`);
process.on('SIGTERM', () => void server.stop().then(() => process.exit(0)));
process.on('SIGINT', () => void server.stop().then(() => process.exit(0)));
