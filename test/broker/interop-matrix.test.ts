// The interop matrix (issue 19, deliverable 7): each independent Kafka client against one
// broker, cell by cell. A client produces keyed records with headers (checked exactly in the
// log) that a DIFFERENT client reads back exactly; it produces with every codec it has (each
// stored batch must really carry that codec); it joins a consumer group and leaves it (the group
// must be Empty at once, not after a session timeout). sarama's ClusterAdmin and
// @platformatic/kafka's Admin run admin calls against a live group.
// Every cell is recorded (pass / fail / n.a. with the reason) in the interop results file
// (interop-results.ts); `npx tsx scripts/interop-table.ts` turns it into docs/broker.md's table.
// The test fails on any failed cell. Admin calls of the other clients, kill -9 with idempotence
// and TLS/SCRAM are proven (and recorded) by admin-clients, idempotent-restart and tls-scram.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import { commandExists, needService } from '../helpers/services.js';
import { buildGoClient } from './go-clients.js';
import { testBroker } from './helpers.js';
import {
  CODECS,
  goClients,
  NotApplicable,
  nodeAndOutsideClients,
  type InteropClient,
} from './interop-clients.js';
import { platformaticAdmin } from './interop-admin.js';
import { recordCells, RESULTS_PATH, type InteropCell } from './interop-results.js';
import { CODEC_ID, logRecords, storedBatches, type PlainRecord } from './log-contents.js';
import { pythonHas, run } from './processes.js';

type Cell = Omit<InteropCell, 'test' | 'at'>;
const TEST = 'test/broker/interop-matrix.test.ts';
const N = 20;
/** A hung client fails its cell instead of the whole test. */
const CELL_TIMEOUT_MS = 60_000;

const noKcat = await needService('kcat', () => commandExists('kcat', ['-V']));
const noPython = await needService(
  'python3 with kafka-python, confluent_kafka, snappy, lz4, zstandard',
  async () =>
    (await Promise.all(['kafka', 'confluent_kafka', 'snappy', 'lz4', 'zstandard'].map(pythonHas))).every(
      Boolean,
    ),
);
const built = Object.fromEntries(
  await Promise.all(['sarama', 'kafkago'].map(async (name) => [name, await buildGoClient(name)] as const)),
);
const noGo = await needService('Go clients (Debian golang-go, sarama, kafka-go)', () =>
  Object.values(built).every((b) => 'path' in b),
);

/** The records a client writes: keys over 3 values, headers in a fixed order (kcat's -H sets the same for all). */
function recordsOf(client: InteropClient, n: number, pad = ''): PlainRecord[] {
  const h: [string, string][] =
    client.headers === true
      ? [
          ['src', client.name],
          ['note', 'é ✓ ok'],
        ]
      : [];
  return Array.from({ length: n }, (_, i) => ({ p: 0, k: `k${i % 3}`, v: `${client.name} ${i}${pad}`, h }));
}

/** Runs one cell: pass with `detail`, n.a. when it threw NotApplicable, else fail with the error. */
async function cell(
  cells: Cell[],
  client: string,
  feature: string,
  fn: () => Promise<string>,
): Promise<boolean> {
  const started = Date.now();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`no result within ${CELL_TIMEOUT_MS / 1000} s`)),
      CELL_TIMEOUT_MS,
    );
  });
  let result: Cell;
  try {
    result = { client, feature, status: 'pass', detail: await Promise.race([fn(), timeout]) };
  } catch (err) {
    const status = err instanceof NotApplicable ? 'n.a.' : 'fail';
    result = { client, feature, status, detail: explain(err).slice(0, 400) };
  } finally {
    clearTimeout(timer);
  }
  cells.push(result);
  console.log(
    `# ${client} ${feature}: ${result.status} (${Date.now() - started} ms) ${result.detail.slice(0, 200)}`,
  );
  return result.status === 'pass';
}

/** An error's message with its nested causes (clients wrap the broker's answer in them). */
function explain(err: unknown): string {
  const e = err as Error & { errors?: unknown[]; response?: unknown };
  const inner = [...(e.errors ?? []), ...(e.cause ? [e.cause] : [])].map(explain);
  const response =
    e.response === undefined
      ? ''
      : ` ${JSON.stringify(e.response, (_, v: unknown) => (typeof v === 'bigint' ? String(v) : v))}`;
  return [`${e.message}${response}`, ...inner].join(' <- ');
}

const slug = (name: string) => name.replace(/[^a-z0-9]+/gi, '-').toLowerCase();

test(
  'interop matrix: round trips with headers across clients, every codec stored compressed, groups joined and left',
  {
    skip: noKcat || noPython || noGo,
    timeout: 240_000,
  },
  async (t) => {
    const broker = await testBroker(t);
    const path = (b: (typeof built)[string]) => ('path' in b ? b.path : undefined);
    const clients = [...nodeAndOutsideClients, ...goClients(path(built.sarama), path(built.kafkago))];
    const cells: Cell[] = [];
    const admin = new Kafka({
      clientId: 'matrix-admin',
      brokers: [broker.address],
      logLevel: logLevel.NOTHING,
    }).admin();
    await admin.connect();
    t.after(() => admin.disconnect());

    // 1. Each client writes: plain keyed records with headers, then one topic per codec.
    await Promise.all(
      clients.map(async (c) => {
        const topic = `rt-${slug(c.name)}`;
        const records = recordsOf(c, N);
        await cell(cells, c.name, 'produce', async () => {
          await c.produce(broker.address, topic, records, 'none');
          assert.deepEqual(logRecords(broker.log, topic), records, 'the log holds the records exactly');
          return `${N} keyed records${c.headers === true ? ' with 2 headers' : ''} stored exactly`;
        });
        if (c.headers !== true)
          cells.push({ client: c.name, feature: 'headers', status: 'n.a.', detail: c.headers });
        for (const [feature, why] of Object.entries(c.lacks ?? {}))
          cells.push({ client: c.name, feature, status: 'n.a.', detail: why });
        for (const codec of CODECS) {
          const can = c.codecs[codec];
          if (can !== true) {
            cells.push({ client: c.name, feature: codec, status: 'n.a.', detail: can });
            continue;
          }
          await cell(cells, c.name, codec, async () => {
            // Repetitive values: librdkafka sends a batch plain when compressing does not make it smaller.
            const zTopic = `z-${slug(c.name)}-${codec}`;
            const zRecords = recordsOf(c, N, ' ' + 'compressible '.repeat(8));
            await c.produce(broker.address, zTopic, zRecords, codec);
            const codecs = [...new Set(storedBatches(broker.log, zTopic).map((b) => b.codec))];
            assert.deepEqual(codecs, [CODEC_ID[codec]], `every stored batch is ${codec}`);
            assert.deepEqual(logRecords(broker.log, zTopic), zRecords, 'decompressed records exact');
            return `stored batches are ${codec}; records exact`;
          });
        }
      }),
    );

    // 2. Each client reads another client's round-trip topic: keys, values, headers, order.
    const writers = clients.filter((c) =>
      cells.some((x) => x.client === c.name && x.feature === 'produce' && x.status === 'pass'),
    );
    await Promise.all(
      clients.map(async (reader, i) => {
        const others = writers.filter((w) => w !== reader);
        const writer = others[i % others.length];
        if (writer === undefined) return;
        const expected = recordsOf(writer, N);
        await cell(cells, reader.name, 'consume', async () => {
          const got = await reader.consume(broker.address, `rt-${slug(writer.name)}`, N);
          assert.deepEqual(got, expected, `${reader.name} reads ${writer.name}'s records exactly`);
          return `read ${writer.name}'s ${N} records: keys, values, headers, order exact`;
        });
      }),
    );

    // 3. Each client joins a group and leaves it: Stable with one member, then Empty at once.
    await Promise.all(
      clients.map((c) =>
        cell(cells, c.name, 'group', async () => {
          const group = `g-${slug(c.name)}`;
          const member = c.member(broker.address, `rt-${slug(clients[0].name)}`, group);
          await member.joined;
          const [live] = (await admin.describeGroups([group])).groups;
          assert.deepEqual([live.state, live.members.length], ['Stable', 1], 'joined: Stable, one member');
          const left = Date.now();
          await member.leave();
          // Sessions are 6 s (kafka-python) to 30 s: gone well before the session ends means the client
          // sent LeaveGroup (5 s: a loaded CI machine once took over 4 s for KafkaJS's disconnect). One
          // that sends none is removed when its (short) session expires.
          const within = member.noLeaveGroup ? member.noLeaveGroup.sessionMs + 10_000 : 5_000;
          let state = '';
          while (Date.now() - left < within) {
            const [g] = (await admin.describeGroups([group])).groups;
            state = `${g.state}/${g.members.length}`;
            if (g.members.length === 0) break;
            await new Promise((r) => setTimeout(r, 100));
          }
          // Empty, or Dead once no member and no committed offset is left (as Kafka reports it).
          assert.match(state, /^(Empty|Dead)\/0$/, `left within ${within} ms: no member`);
          if (member.noLeaveGroup) {
            return `joined (Stable, 1 member); ${member.noLeaveGroup.why}: removed by the broker when its ${member.noLeaveGroup.sessionMs / 1000} s session expired`;
          }
          return 'JoinGroup/SyncGroup: Stable with 1 member; LeaveGroup: Empty at once';
        }),
      ),
    );

    // 4. sarama's ClusterAdmin (KafkaJS, kafka-python and confluent-kafka admin: admin-clients.test.ts).
    const saramaClient = clients.find((c) => c.name === 'sarama');
    const sarama = path(built.sarama);
    if (saramaClient && sarama) {
      await cell(cells, 'sarama', 'admin', async () => {
        const member = saramaClient.member(broker.address, 'rt-kcat', 'g-sarama-admin');
        await member.joined;
        const r = await run(sarama, ['admin', broker.address, 'rt-sarama', 'g-sarama-admin'], {
          timeoutMs: 60_000,
        });
        await member.leave();
        assert.equal(r.code, 0, r.stdout + r.stderr);
        const out = JSON.parse(r.stdout) as Record<string, Record<string, unknown>> & { topics: string[] };
        assert.ok(out.topics.includes('rt-sarama') && out.topics.includes('z-sarama-zstd'), 'ListTopics');
        assert.equal(out.configs['cleanup.policy'], 'delete', 'DescribeConfig');
        assert.equal(out.configs['retention.ms'], '-1', 'DescribeConfig');
        assert.equal(out.groups['g-sarama-admin'], 'consumer', 'ListConsumerGroups');
        assert.deepEqual(out.describe, { state: 'Stable', members: 1 }, 'DescribeConsumerGroups');
        assert.equal(out.cluster.brokers, 1, 'DescribeCluster');
        assert.equal(broker.log.partitionCount('rt-sarama'), 2, 'CreatePartitions');
        const [p0] = (await admin.fetchTopicOffsets('rt-sarama')).filter((p) => p.partition === 0);
        assert.deepEqual([p0.low, p0.high], ['1', String(N)], 'DeleteRecords');
        // sarama's DescribeCluster asks Metadata v0, which has no controller id: it reports -1.
        return 'ClusterAdmin ListTopics, DescribeConfig, ListConsumerGroups, DescribeConsumerGroups, DescribeCluster, CreatePartitions, DeleteRecords';
      });
    }

    // 5. @platformatic/kafka's Admin, the one client here that sends IncrementalAlterConfigs.
    const plat = clients.find((c) => c.name === '@platformatic/kafka')!;
    await cell(cells, plat.name, 'admin', async () => {
      const member = plat.member(broker.address, 'rt-kcat', 'g-platformatic-admin');
      await member.joined;
      const topic = `rt-${slug(plat.name)}`;
      const seen = await platformaticAdmin(broker.address, topic, 'g-platformatic-admin').finally(() =>
        member.leave(),
      );
      assert.deepEqual(seen, {
        listed: true,
        state: 'STABLE',
        members: 1,
        retentionBefore: '-1',
        retentionAfter: '3600000',
      });
      assert.equal(broker.log.partitionCount(topic), 2, 'createPartitions');
      const [p0] = (await admin.fetchTopicOffsets(topic)).filter((p) => p.partition === 0);
      assert.deepEqual([p0.low, p0.high], ['1', String(N)], 'deleteRecords');
      return 'listGroups, describeGroups, describeConfigs, incrementalAlterConfigs, createPartitions, deleteRecords';
    });

    recordCells(TEST, cells);
    t.diagnostic(`interop results appended to ${RESULTS_PATH}`);
    const failed = cells.filter((c) => c.status === 'fail');
    assert.deepEqual(failed, [], 'no failed cell');
  },
);
