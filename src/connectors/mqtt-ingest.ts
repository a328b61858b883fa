// MQTT into a log topic, acknowledged only once durable. A pipeline's own MQTT source depends
// on the broker queueing messages while the pipeline is down, and Mosquitto drops a persistent
// session's messages beyond `max_queued_messages` (1,000 by default): a long downtime loses
// readings. This ingest runs on its own, independent of pipelines, and appends every message
// to the log, so a pipeline's downtime costs latency, not readings.
//
// Group commit: MQTT.js hands over one message at a time and sends its PUBACK when the
// handler's callback runs, which also lets it read the next message. An fsync per message
// (several ms) would cap the ingest at a few hundred messages a second, so the PUBACKs are held
// back instead: the messages of one read are collected, appended as one batch, fsynced, and
// only then are their PUBACKs sent. Mosquitto keeps sending while up to `max_inflight_messages`
// (20) are unacknowledged, so a batch is up to that many messages.
import { TRACEPARENT_HEADER, traceHeaders } from './trace-header.js';
import type { IPublishPacket, MqttClient } from 'mqtt';
import type { Log, ProducerRecord } from '../log/index.js';
import { ConnectorError, hostOf } from './errors.js';
import type { Ingest, IngestStats } from './ingest.js';
import { partitionFor } from './scale/partitioner.js';

export interface MqttIngestOptions {
  /** mqtt://[user:password@]host:1883 (mqtts:// too), without the topic filter. */
  url: string;
  /** Topic filter; `+` and `#` wildcards allowed. */
  filter: string;
  log: Log;
  /** The log topic to append to (created with one partition when missing). */
  to: string;
  /** Client id of the persistent session. Default sluice-ingest-<to>. */
  clientId?: string;
  /** How long start waits for the broker. Default 10 s. */
  connectTimeoutMs?: number;
  /** Told about connection errors (the client reconnects by itself). Default console.warn. */
  onWarning?: (msg: string) => void;
}

type SendPacket = (packet: { cmd: string }, cb?: () => void, ...rest: unknown[]) => void;

/**
 * Subscribes to `filter` with QoS 1 in a persistent session and appends each message (key: its
 * MQTT topic) to the log topic `to`, acknowledging it to the broker only after the append is
 * fsynced. At least once: a message whose PUBACK was lost to a crash or a cut connection is
 * delivered and appended again.
 *
 * @example
 * const ingest = await mqttIngest({ url: 'mqtt://127.0.0.1:1883', filter: 'sensors/#', log, to: 'readings' });
 * // ...pipelines read 'readings' whenever they run...
 * await ingest.close();
 */
export async function mqttIngest(opts: MqttIngestOptions): Promise<Ingest> {
  const { log, to } = opts;
  if (!log.hasTopic(to)) log.createTopic(to, { partitions: 1 });
  const partitions = log.partitionCount(to);
  const stats: IngestStats = { received: 0, appended: 0, syncs: 0 };
  let records: ProducerRecord[] = [];
  let acks: { packet: { cmd: string }; rest: unknown[] }[] = [];
  let scheduled = false;
  let failure: Error | undefined;
  let failed: (e: Error) => void = () => {};
  const done = new Promise<void>((_, reject) => (failed = reject));
  done.catch(() => {}); // observed through `done` by whoever awaits it

  const { connect } = await import('mqtt'); // loaded on first use
  const timeout = opts.connectTimeoutMs ?? 10_000;
  const client: MqttClient = connect(opts.url, {
    clientId: opts.clientId ?? `sluice-ingest-${to}`,
    clean: false,
    // MQTT 5, for the `traceparent` user property; its persistent session ends at disconnect
    // unless given an expiry (3.1.1 kept it for good): a week, as brokers' usual maximum.
    protocolVersion: 5,
    properties: { sessionExpiryInterval: 7 * 24 * 3600 },
    reconnectPeriod: 1000,
    connectTimeout: timeout,
  });
  // MQTT.js has no public way to delay a PUBACK without stalling the next message: its QoS 1
  // handler sends the PUBACK (through the private `_sendPacket`) when `handleMessage`'s callback
  // runs, and reads the next packet only once that send is done; `customHandleAcks` runs before
  // `handleMessage` and stalls the stream the same way. So the PUBACKs are held here, at
  // `_sendPacket` (mqtt 5.x; test/reliability/mqtt-ingest.test.ts fails if its behaviour
  // changes), and a client without it is refused with a clear error instead of a TypeError.
  const internals = client as unknown as { _sendPacket?: SendPacket };
  if (typeof internals._sendPacket !== 'function') {
    client.end(true);
    throw new ConnectorError(
      'SLUICE_SOURCE_CLIENT_UNSUPPORTED',
      'mqtt ingest: this MQTT.js has no _sendPacket, through which the ingest holds PUBACKs until its appends are fsynced; install the mqtt 5.x that Sluice depends on',
    );
  }
  const send = internals._sendPacket.bind(client);

  const commit = () => {
    scheduled = false;
    if (failure) return;
    const batch = records;
    const held = acks;
    records = [];
    acks = [];
    try {
      if (batch.length > 0) {
        const byPartition = new Map<number, ProducerRecord[]>();
        for (const r of batch) {
          const p = partitions === 1 ? 0 : partitionFor(r.key!.toString(), partitions);
          const list = byPartition.get(p) ?? [];
          list.push(r);
          byPartition.set(p, list);
        }
        for (const [p, list] of byPartition) log.partition(to, p).append(list);
        for (const p of byPartition.keys()) log.partition(to, p).flush();
        stats.appended += batch.length;
        stats.syncs++;
      }
    } catch (err) {
      // Nothing of this batch is acknowledged: the broker keeps it for the session.
      failure = err as Error;
      failed(err as Error);
      return;
    }
    for (const a of held) send(a.packet, undefined, ...a.rest);
  };
  const schedule = () => {
    if (scheduled) return;
    scheduled = true;
    setImmediate(commit);
  };
  internals._sendPacket = (packet, cb, ...rest) => {
    if (packet.cmd !== 'puback') return send(packet, cb, ...rest);
    acks.push({ packet, rest });
    schedule();
    cb?.(); // lets MQTT.js go on to the next message; the PUBACK itself waits for the fsync
  };
  // Set before the connection: a persistent session gets its queued messages right after CONNACK.
  client.handleMessage = (packet: IPublishPacket, callback) => {
    if (failure) return; // no callback: no PUBACK, and no further messages
    const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload);
    const headers = traceHeaders(packet.properties?.userProperties?.[TRACEPARENT_HEADER]);
    records.push({ key: Buffer.from(packet.topic), value: payload, timestamp: Date.now(), headers });
    stats.received++;
    schedule();
    callback();
  };
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no CONNACK within ${timeout} ms`)), timeout);
      client.once('connect', () => (clearTimeout(timer), resolve()));
      client.once('error', (e) => (clearTimeout(timer), reject(e)));
    });
    const granted = await client.subscribeAsync(opts.filter, { qos: 1 });
    if (granted.some((g) => g.qos !== 1 && g.qos !== 0))
      throw new Error(`the broker refused the subscription to "${opts.filter}" (check its ACL)`);
  } catch (err) {
    await client.endAsync(true);
    throw new ConnectorError(
      'SLUICE_SOURCE_UNAVAILABLE',
      `mqtt ingest ${hostOf(opts.url)}: ${(err as Error).message}; is the broker running? check the URL and credentials`,
      { cause: err },
    );
  }
  const warn = opts.onWarning ?? ((m: string) => console.warn(m));
  client.on('error', (e) => warn(`mqtt ingest ${hostOf(opts.url)}: ${e.message}; reconnecting`));
  return {
    stats,
    done,
    async close() {
      if (scheduled) commit();
      await client.endAsync();
    },
  };
}
