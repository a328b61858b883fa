// The seven clients of the interop matrix behind one interface: produce records (key, value,
// headers) with a codec, read a topic back, be a consumer group member that joins and leaves.
// Outside clients run as child processes (kcat; Python: test/broker/clients/interop_python.py;
// Go: test/broker/clients/go/*, built offline by go-clients.ts); KafkaJS and
// @platformatic/kafka run in this process.

import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import zlib from 'node:zlib';
import { Consumer, Producer } from '@platformatic/kafka';
import { CompressionTypes, Kafka, logLevel } from 'kafkajs';
import type { PlainRecord } from './log-contents.js';
import { PYTHON, run } from './processes.js';

export type Codec = 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd';
export const CODECS: Exclude<Codec, 'none'>[] = ['gzip', 'snappy', 'lz4', 'zstd'];

/** A group member while it is in the group. */
export interface Member {
  /** Resolves once the member has its assignment. */
  joined: Promise<void>;
  /** Leaves the group (LeaveGroup) and resolves when the client is closed. */
  leave(): Promise<void>;
  /** Set when the client's close sends no LeaveGroup: why, and its session timeout (ms). */
  noLeaveGroup?: { why: string; sessionMs: number };
}

export interface InteropClient {
  name: string;
  /** true, or why the client cannot write record headers. */
  headers: true | string;
  /** For each codec: true, or why the client has not got it. */
  codecs: Record<Exclude<Codec, 'none'>, true | string>;
  /** Matrix features the client version has not got at all (n.a. cells), and why. */
  lacks?: Record<string, string>;
  produce(address: string, topic: string, records: PlainRecord[], codec: Codec): Promise<void>;
  consume(address: string, topic: string, count: number): Promise<PlainRecord[]>;
  member(address: string, topic: string, group: string): Member;
}

const clientsDir = new URL('./clients/', import.meta.url).pathname;
const all = { gzip: true, snappy: true, lz4: true, zstd: true } as const;

function jsonLines(stdout: string): PlainRecord[] {
  return stdout
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => {
      const r = JSON.parse(l) as PlainRecord;
      return { p: r.p, k: r.k, v: r.v, h: r.h };
    });
}

async function checked(cmd: string, args: string[], input?: string): Promise<string> {
  const r = await run(cmd, args, { input, timeoutMs: 90_000 });
  if (r.code !== 0)
    throw new Error(`${cmd} ${args[0]} exited ${r.code}: ${(r.stdout + r.stderr).slice(-600)}`);
  return r.stdout;
}

/**
 * A member running as a child process: joined when stdout (or stderr) shows `joinedLine`;
 * left when it exits after `stop` (a line on stdin, or a signal).
 */
function processMember(cmd: string, args: string[], joinedLine: RegExp, stop: 'stdin' | 'SIGINT'): Member {
  const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  const output: string[] = [];
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  const joined = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`not joined in 60 s: ${output.join('\n')}`)), 60_000);
    const watch = (line: string) => {
      output.push(line);
      if (joinedLine.test(line)) {
        clearTimeout(timer);
        resolve();
      }
    };
    createInterface({ input: child.stdout }).on('line', watch);
    createInterface({ input: child.stderr }).on('line', watch);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`exited ${code} before joining: ${output.join('\n').slice(-600)}`));
    });
  });
  joined.catch(() => child.kill('SIGKILL'));
  return {
    joined,
    async leave() {
      if (stop === 'stdin') child.stdin.end('stop\n');
      else child.kill('SIGINT');
      const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      const code = await exited;
      clearTimeout(killer);
      if (code !== 0) throw new Error(`exited ${code} on leaving: ${output.join('\n').slice(-600)}`);
    },
  };
}

const kcat: InteropClient = {
  name: 'kcat',
  lacks: {
    admin: 'kcat has no admin commands (metadata only, -L)',
    ...noTransactions(
      'kcat produces without a transactional.id (it reads with -X isolation.level=read_committed)',
    ),
  },
  // -H gives every record of a run the same headers; the records below carry the same ones.
  headers: true,
  codecs: all,
  async produce(address, topic, records, codec) {
    const headers = records[0].h.flatMap(([k, v]) => ['-H', `${k}=${v}`]);
    const input = records.map((r) => `${r.k}\t${r.v}\n`).join('');
    const args = ['-P', '-b', address, '-t', topic, '-p', '0', '-K', '\t', '-z', codec, '-X', 'linger.ms=50'];
    await checked('kcat', [...args, ...headers], input);
  },
  async consume(address, topic) {
    const out = await checked('kcat', [
      '-C',
      '-b',
      address,
      '-t',
      topic,
      '-J',
      '-e',
      '-q',
      '-o',
      'beginning',
    ]);
    return out
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => {
        const m = JSON.parse(l) as { partition: number; key: string; payload: string; headers?: string[] };
        const h: [string, string][] = [];
        for (let i = 0; i < (m.headers?.length ?? 0); i += 2) h.push([m.headers![i], m.headers![i + 1]]);
        return { p: m.partition, k: m.key, v: m.payload, h };
      });
  },
  member: (address, topic, group) =>
    processMember(
      'kcat',
      ['-b', address, '-G', group, topic, '-X', 'session.timeout.ms=30000', '-o', 'beginning'],
      /rebalanced .*assigned:/,
      'SIGINT',
    ),
};

function python(name: 'kafka-python' | 'confluent'): InteropClient {
  const script = `${clientsDir}interop_python.py`;
  return {
    name: name === 'confluent' ? 'confluent-kafka' : 'kafka-python',
    headers: true,
    codecs: all,
    lacks:
      name === 'kafka-python'
        ? {
            'idempotent-kill': 'kafka-python 2.0 has no idempotent producer',
            ...noTransactions('kafka-python 2.0'),
          }
        : undefined,
    async produce(address, topic, records, codec) {
      const input = records.map((r) => JSON.stringify(r)).join('\n') + '\n';
      const out = await checked(PYTHON, [script, name, 'produce', address, topic, codec], input);
      if (out.trim() !== String(records.length))
        throw new Error(`acknowledged ${out.trim()} of ${records.length}`);
    },
    async consume(address, topic, count) {
      return jsonLines(await checked(PYTHON, [script, name, 'consume', address, topic, String(count)]));
    },
    member: (address, topic, group) =>
      name === 'confluent'
        ? processMember(PYTHON, [script, name, 'group', address, topic, group], /^"joined"$/, 'stdin')
        : processMember(
            PYTHON,
            [`${clientsDir}group_member.py`, address, topic, group],
            /"assigned": \[\d/,
            'stdin',
          ),
  };
}

const KAFKAJS_CODEC: Record<Codec, CompressionTypes> = {
  none: CompressionTypes.None,
  gzip: CompressionTypes.GZIP,
  snappy: CompressionTypes.Snappy,
  lz4: CompressionTypes.LZ4,
  zstd: CompressionTypes.ZSTD,
};
const kafkajsCodecMissing = 'KafkaJS ships gzip only; the other codecs need a codec package registered';

const kafkajs: InteropClient = {
  name: 'KafkaJS',
  headers: true,
  codecs: { gzip: true, snappy: kafkajsCodecMissing, lz4: kafkajsCodecMissing, zstd: kafkajsCodecMissing },
  async produce(address, topic, records, codec) {
    const producer = kafkaFor(address).producer({ idempotent: true });
    await producer.connect();
    try {
      await producer.send({
        topic,
        acks: -1,
        compression: KAFKAJS_CODEC[codec],
        messages: records.map((r) => ({
          partition: r.p,
          key: r.k,
          value: r.v,
          headers: Object.fromEntries(r.h),
        })),
      });
    } finally {
      await producer.disconnect();
    }
  },
  async consume(address, topic, count) {
    const consumer = kafkaFor(address).consumer({ groupId: `kafkajs-read-${topic}` });
    const got: PlainRecord[] = [];
    await consumer.connect();
    try {
      await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run({
        eachMessage: async ({ partition, message }) => {
          const h = Object.entries(message.headers ?? {}).map(([k, v]): [string, string] => [k, String(v)]);
          got.push({ p: partition, k: message.key?.toString() ?? '', v: message.value?.toString() ?? '', h });
        },
      });
      const end = Date.now() + 60_000;
      while (got.length < count && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    } finally {
      await consumer.disconnect();
    }
    return got;
  },
  member(address, topic, group) {
    const consumer = kafkaFor(address).consumer({
      groupId: group,
      sessionTimeout: 30_000,
      heartbeatInterval: 500,
    });
    const joined = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()));
    const started = (async () => {
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run({ eachMessage: async () => {} });
    })();
    return { joined: started.then(() => joined), leave: () => consumer.disconnect() };
  },
};

function kafkaFor(address: string): Kafka {
  return new Kafka({ clientId: 'kafkajs-interop', brokers: [address], logLevel: logLevel.NOTHING });
}

const platformatic: InteropClient = {
  name: '@platformatic/kafka',
  headers: true,
  codecs: {
    ...all,
    // It compresses zstd with node:zlib, which has zstd from Node 22.15 on.
    zstd: 'zstdCompressSync' in zlib ? true : `node:zlib has no zstd on Node ${process.versions.node}`,
  },
  async produce(address, topic, records, codec) {
    const producer = new Producer({
      clientId: 'platformatic-interop',
      bootstrapBrokers: [address],
      idempotent: true,
      acks: -1,
      autocreateTopics: true, // off by default: without it send() waits for a topic that never comes
      ...(codec === 'none' ? {} : { compression: codec }),
    });
    try {
      await producer.send({
        messages: records.map((r) => ({
          topic,
          partition: r.p,
          key: Buffer.from(r.k),
          value: Buffer.from(r.v),
          headers: new Map(r.h.map(([k, v]) => [Buffer.from(k), Buffer.from(v)])),
        })),
      });
    } finally {
      await producer.close();
    }
  },
  async consume(address, topic, count) {
    const consumer = new Consumer({
      clientId: 'platformatic-interop',
      groupId: `platformatic-read-${topic}`,
      bootstrapBrokers: [address],
      maxWaitTime: 200,
    });
    const got: PlainRecord[] = [];
    try {
      const stream = await consumer.consume({ topics: [topic], mode: 'earliest', autocommit: false });
      const deadline = setTimeout(() => void stream.close(), 60_000);
      for await (const m of stream) {
        const h = [...m.headers].map(([k, v]): [string, string] => [k.toString(), v.toString()]);
        got.push({ p: m.partition, k: m.key.toString(), v: m.value.toString(), h });
        if (got.length >= count) break;
      }
      clearTimeout(deadline);
      await stream.close();
    } finally {
      await consumer.close(true);
    }
    return got;
  },
  member(address, topic, group) {
    const consumer = new Consumer({
      clientId: 'platformatic-interop',
      groupId: group,
      bootstrapBrokers: [address],
      sessionTimeout: 30_000,
      heartbeatInterval: 500,
      maxWaitTime: 200,
    });
    const stream = consumer.consume({ topics: [topic], mode: 'earliest', autocommit: false });
    return {
      joined: stream.then(() => undefined),
      async leave() {
        await (await stream).close();
        await consumer.close(); // LeaveGroup
      },
    };
  },
};

/** The Go clients, given their built binaries (see go-clients.ts). */
export function goClients(sarama: string | undefined, kafkago: string | undefined): InteropClient[] {
  const out: InteropClient[] = [];
  if (sarama) {
    out.push({
      name: 'sarama',
      headers: true,
      codecs: all,
      lacks: noTransactions('sarama 1.22'),
      async produce(address, topic, records, codec) {
        const input = records.map((r) => JSON.stringify(r)).join('\n') + '\n';
        const n = await checked(sarama, ['produce', address, topic, codec], input);
        if (n.trim() !== String(records.length))
          throw new Error(`acknowledged ${n.trim()} of ${records.length}`);
      },
      consume: async (address, topic, count) =>
        jsonLines(await checked(sarama, ['consume', address, topic, String(count)])),
      member: (address, topic, group) =>
        processMember(sarama, ['group', address, topic, group], /^joined$/, 'stdin'),
    });
  }
  if (kafkago) out.push(kafkaGo(kafkago));
  return out;
}

/** Why kafka-go 0.2 cannot produce or fetch here (see docs/broker.md). */
export const KAFKA_GO_REFUSED =
  'kafka-go 0.2 speaks message format v1 only (Produce v2, Fetch v2): the broker stores RecordBatch v2 and refuses them with UNSUPPORTED_VERSION (35)';

function kafkaGo(binary: string): InteropClient {
  const refused = async (args: string[]) => {
    const r = await run(binary, args, { timeoutMs: 60_000 });
    // The refusal must be the protocol's error, not a closed connection or a hang.
    if (r.code !== 2 || !/\[35\] Unsupported Version/.test(r.stdout))
      throw new Error(`expected UNSUPPORTED_VERSION (35), got exit ${r.code}: ${r.stdout}${r.stderr}`);
    throw new NotApplicable(`${KAFKA_GO_REFUSED}; got "${r.stdout.trim()}"`);
  };
  return {
    name: 'kafka-go',
    headers: 'kafka-go 0.2 has no record headers (message format v1)',
    codecs: { gzip: true, snappy: true, lz4: true, zstd: 'kafka-go 0.2 has no zstd' },
    lacks: {
      admin: 'kafka-go 0.2 has no admin client (only CreateTopics/DeleteTopics on a Conn)',
      'idempotent-kill': 'kafka-go 0.2 has no idempotent producer (and cannot produce here)',
      'tls-scram': 'kafka-go 0.2 has TLS but no SASL',
      ...noTransactions('kafka-go 0.2'),
    },
    produce: (address, topic, _records, codec) => refused(['produce', address, topic, codec]),
    consume: (address, topic) => refused(['consume', address, topic]),
    member: (address, topic, group) => ({
      ...processMember(binary, ['group', address, topic, group], /^joined$/, 'stdin'),
      noLeaveGroup: {
        why: 'kafka-go 0.2 Reader.Close dials the coordinator for LeaveGroup with its already cancelled context, so it never sends one',
        sessionMs: 6_000, // main.go's SessionTimeout
      },
    }),
  };
}

/** The n.a. cells of a client without transactions (the transaction tests cover the others). */
function noTransactions(why: string): Record<string, string> {
  const text = `n/a: client has no transactions (${why})`;
  return { transactions: text, 'transactions-kill': text };
}

/** Thrown by a cell that checked its client cannot do this against the broker, and why. */
export class NotApplicable extends Error {}

export const nodeAndOutsideClients: InteropClient[] = [
  kcat,
  python('confluent'),
  python('kafka-python'),
  kafkajs,
  platformatic,
];
