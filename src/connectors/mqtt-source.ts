import type { IPublishPacket, MqttClient } from 'mqtt';
import type { Log } from '../log/index.js';
import { wallClockMs } from '../observe/index.js';
import {
  envelope,
  offsetKey,
  requireOption,
  type Envelope,
  type Source,
  type SourceContext,
  type SourceOffsets,
} from '../stream/index.js';
import { ConnectorError, hostOf } from './errors.js';
import { logSource } from './log-source.js';
import { redactUrls } from '../core/redact.js';

export interface MqttSourceOptions {
  /** mqtt://[user:password@]host:1883 (mqtts:// and ws:// work too). */
  url: string;
  /** Topic filter; `+` and `#` wildcards allowed. */
  topic: string;
  /** Client id of the persistent session (the broker queues QoS 1 messages for it while away). Default sluice-<pipeline>. */
  clientId?: string;
  /**
   * Spool into the embedded log: each message is appended to `topic` (default mqtt.<filter>)
   * before the broker gets its PUBACK, and the pipeline reads the spool, so a crash loses
   * nothing and a replay is exact. Without a spool, messages acknowledged but not yet
   * checkpointed are lost on a crash (at most once).
   */
  spool?: { log: Log; topic?: string };
  /** Messages held in memory (no spool), or spooled but unread, before acks stop. Default 10,000 / 1,000,000. */
  maxBuffered?: number;
  /** Ends the stream when it returns true and nothing is buffered (tests, bounded runs). */
  endWhen?: () => boolean;
  /** How long open() waits for the broker. Default 10 s. */
  connectTimeoutMs?: number;
}

/**
 * The spool topic for a filter: log topic names allow letters, digits, ".", "_" and "-".
 *
 * @example
 * mqttSpoolTopic('sensors/+/temp'); // 'mqtt.sensors_plus_temp'
 */
export function mqttSpoolTopic(filter: string): string {
  return `mqtt.${filter
    .replace(/\+/g, 'plus')
    .replace(/#/g, 'all')
    .replace(/[^A-Za-z0-9._-]/g, '_')}`;
}

/**
 * Reads an MQTT topic filter with QoS 1 in a persistent session (clean: false), so the broker
 * keeps messages while the pipeline is away or slow. Backpressure: when `maxBuffered` messages
 * wait, acknowledgements stop and the broker holds the rest. With `spool`, messages go through
 * the embedded log first and are exactly-once like any log topic.
 *
 * @example
 * const source = mqttSource({ url: 'mqtt://127.0.0.1:1883', topic: 'sensors/+/temp', spool: { log } });
 * pipeline('sensors').from(source).decode(json({ c: 'number' }))...
 */
export function mqttSource(opts: MqttSourceOptions): Source<Buffer | null> {
  requireOption(
    /^(mqtts?|wss?|tcp):\/\//.test(opts.url),
    `mqttSource: "${redactUrls(opts.url)}" is not an mqtt:// URL`,
  );
  requireOption(typeof opts.topic === 'string' && opts.topic !== '', 'mqttSource: topic is required');
  const spool = opts.spool;
  const spoolTopic = spool ? (spool.topic ?? mqttSpoolTopic(opts.topic)) : undefined;
  const maxBuffered = opts.maxBuffered ?? (spool ? 1_000_000 : 10_000);
  const name = spoolTopic ?? opts.topic;
  const key = offsetKey(name, 0);
  let client: MqttClient | undefined;
  let inner: Source<Buffer | null> | undefined;
  /** In-memory mode: messages received, not yet polled. */
  const buffer: { payload: Buffer; at: number }[] = [];
  let next = 0;
  /** Acks held back while the buffer is full; released as poll drains it. */
  let held: (() => void)[] = [];
  let failure: Error | undefined;

  const backlog = () => (inner ? inner.lag() : buffer.length);
  const release = () => {
    if (backlog() >= maxBuffered) return;
    const h = held;
    held = [];
    for (const done of h) done();
  };
  const onMessage = (packet: IPublishPacket, done: () => void) => {
    const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload);
    if (spool)
      spool.log.partition(spoolTopic!, 0).append([{ key: Buffer.from(packet.topic), value: payload }]);
    else buffer.push({ payload, at: Date.now() });
    // The callback sends the PUBACK and lets the client read the next message: holding it is backpressure.
    if (backlog() >= maxBuffered) held.push(done);
    else done();
  };

  return {
    name: `mqtt:${opts.topic}`,
    sharesStamps: true, // one stamps array per poll, spooled (a log source) or not
    async open(ctx: SourceContext) {
      if (spool) {
        if (!spool.log.hasTopic(spoolTopic!)) spool.log.createTopic(spoolTopic!, { partitions: 1 });
        inner = logSource({ log: spool.log, topic: spoolTopic!, endWhen: opts.endWhen });
        await inner.open(ctx);
      } else next = ctx.startOffsets?.[key] ?? 0;
      const { connect } = await import('mqtt'); // loaded on first use
      const c = connect(opts.url, {
        clientId: opts.clientId ?? `sluice-${ctx.pipeline}`,
        clean: false,
        reconnectPeriod: 1000,
        connectTimeout: opts.connectTimeoutMs ?? 10_000,
      });
      // Set before the connection: a persistent session gets its queued messages right after CONNACK.
      c.handleMessage = (packet, done) => onMessage(packet, () => done());
      client = c;
      try {
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(
            () => reject(new Error(`no CONNACK within ${opts.connectTimeoutMs ?? 10_000} ms`)),
            opts.connectTimeoutMs ?? 10_000,
          );
          c.once('connect', () => (clearTimeout(timer), resolve()));
          c.once('error', (e) => (clearTimeout(timer), reject(e)));
        });
        const granted = await c.subscribeAsync(opts.topic, { qos: 1 });
        if (granted.some((g) => g.qos !== 1 && g.qos !== 0))
          throw new Error(`the broker refused the subscription to "${opts.topic}" (check its ACL)`);
      } catch (err) {
        await c.endAsync(true);
        throw new ConnectorError(
          'SLUICE_SOURCE_UNAVAILABLE',
          `mqttSource ${hostOf(opts.url)}: ${(err as Error).message}; is the broker running? check the URL and credentials`,
          { cause: err },
        );
      }
      c.on('error', (e) => (failure ??= e));
    },
    async poll(max: number): Promise<Envelope<Buffer | null>[] | null> {
      if (failure)
        throw new ConnectorError(
          'SLUICE_SOURCE_UNAVAILABLE',
          `mqttSource ${hostOf(opts.url)}: ${failure.message}`,
        );
      if (inner) {
        const out = await inner.poll(max);
        release();
        return out;
      }
      if (buffer.length === 0) {
        if (opts.endWhen?.()) return null;
        await new Promise((resolve) => setTimeout(resolve, 5));
        return [];
      }
      const take = buffer.splice(0, max);
      const stamps = [wallClockMs()];
      const out = take.map((m) => envelope<Buffer | null>(m.payload, name, 0, next++, m.at, stamps));
      release();
      return out;
    },
    positions(): SourceOffsets {
      return inner ? inner.positions() : { [key]: next };
    },
    lag: backlog,
    async close() {
      // Spooled messages are safe on disk: ack them. Unspooled ones stay unacked for redelivery.
      if (spool) for (const done of held) done();
      held = [];
      await client?.endAsync(!spool);
      await inner?.close();
    },
  };
}
