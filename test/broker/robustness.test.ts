// Hostile and broken clients: random bytes, absurd sizes, truncated frames, unknown APIs,
// unsupported versions, bit-flipped requests. Each may lose its own connection; the broker
// never crashes, never hits an internal error, and other clients keep being served.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { encodeRecordBatch } from '../../src/log/index.js';
import { ALL_APIS } from '../../src/broker/apis/registry.js';
import { Writer } from '../../src/broker/protocol/writer.js';
import { defer, RawClient, testBroker } from './helpers.js';

function frame(apiKey: number, version: number, body: Buffer, correlationId = 1): Buffer {
  const api = ALL_APIS.find((a) => a.key === apiKey);
  const w = new Writer().int32(0).int16(apiKey).int16(version).int32(correlationId).string('fuzz');
  if (api?.request.isFlexible(version)) w.emptyTaggedFields();
  w.raw(body);
  const b = w.toBuffer();
  b.writeInt32BE(b.length - 4, 0);
  return b;
}

function encoded(apiKey: number, version: number, value: object): Buffer {
  const w = new Writer();
  ALL_APIS.find((a) => a.key === apiKey)!.request.encode(w, version, value);
  return w.toBuffer();
}

const size = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n);
  return b;
};

async function healthy(port: number): Promise<void> {
  const c = await RawClient.connect(port);
  try {
    const r = await c.send(18, 3, { clientSoftwareName: 'ok', clientSoftwareVersion: '1' });
    assert.equal(r.errorCode, 0, 'a well-behaved client is still served');
  } finally {
    c.close();
  }
}

test('bad sizes, unknown APIs, unsupported versions and malformed bodies close only their connection', async (t) => {
  const broker = await testBroker(t);
  const bystander = await RawClient.connect(broker.port);
  defer(t, () => bystander.close());
  const cases: [string, Buffer][] = [
    ['huge length prefix', size(0x7fffffff)],
    ['negative length prefix', size(-5)],
    ['frame shorter than a header', Buffer.concat([size(3), Buffer.from([0, 3, 0])])],
    ['unknown api key', frame(999, 0, Buffer.alloc(0))],
    ['unsupported Produce version', frame(0, 2, Buffer.alloc(0))],
    ['Fetch v13 (topic ids) is not served', frame(1, 13, Buffer.alloc(0))],
    ['array length far beyond the frame', frame(3, 9, Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f]))],
    ['body cut short', frame(0, 7, Buffer.from([0xff, 0xff, 0, 1]))],
    ['SASL without SASL on', frame(17, 1, Buffer.from([0, 5, 80, 76, 65, 73, 78]))],
  ];
  for (const [what, bytes] of cases) {
    const c = await RawClient.connect(broker.port);
    c.raw(bytes);
    assert.ok(await c.waitClosed(10_000), `${what}: connection closed`);
  }
  const md = await bystander.send(3, 9, { topics: null, allowAutoTopicCreation: false });
  assert.equal(md.brokers.length, 1, 'the bystander connection was never affected');
  await healthy(broker.port);
  assert.ok(!broker.warnings.some((w) => w.includes('internal error')), broker.warnings.join('\n'));
});

test('oversized requests are refused by maxRequestBytes', async (t) => {
  const broker = await testBroker(t, { maxRequestBytes: 4096 });
  const c = await RawClient.connect(broker.port);
  const batch = encodeRecordBatch([{ value: Buffer.alloc(8000) }], 0);
  c.sendOnly(0, 9, {
    transactionalId: null,
    acks: 1,
    timeoutMs: 1000,
    topicData: [{ name: 't', partitionData: [{ index: 0, records: batch }] }],
  });
  assert.ok(await c.waitClosed(10_000));
  assert.ok(broker.warnings.some((w) => /maxRequestBytes/.test(w)));
  await healthy(broker.port);
});

test('random bytes, truncated frames and bit-flipped requests never crash the broker', async (t) => {
  const broker = await testBroker(t, { partitions: 2 });
  const valid = [
    frame(3, 9, encoded(3, 9, { topics: [{ name: 'fz' }], allowAutoTopicCreation: true })),
    frame(
      0,
      9,
      encoded(0, 9, {
        transactionalId: null,
        acks: 1,
        timeoutMs: 100,
        topicData: [
          {
            name: 'fz',
            partitionData: [{ index: 0, records: encodeRecordBatch([{ value: Buffer.from('x') }], 0) }],
          },
        ],
      }),
    ),
    frame(
      0,
      3,
      encoded(0, 3, {
        transactionalId: null,
        acks: 1,
        timeoutMs: 100,
        topicData: [
          {
            name: 'fz',
            partitionData: [{ index: 1, records: encodeRecordBatch([{ value: Buffer.from('y') }], 0) }],
          },
        ],
      }),
    ),
    frame(
      1,
      12,
      encoded(1, 12, {
        maxWaitMs: 0,
        minBytes: 1,
        maxBytes: 1000,
        sessionId: 0,
        sessionEpoch: -1,
        topics: [{ topic: 'fz', partitions: [{ partition: 0, fetchOffset: 0, partitionMaxBytes: 1000 }] }],
      }),
    ),
    frame(
      11,
      9,
      encoded(11, 9, {
        groupId: 'fg',
        sessionTimeoutMs: 6000,
        rebalanceTimeoutMs: 100,
        memberId: '',
        protocolType: 'consumer',
        protocols: [{ name: 'range', metadata: Buffer.from('m') }],
      }),
    ),
    frame(
      8,
      8,
      encoded(8, 8, {
        groupId: 'fg',
        generationIdOrMemberEpoch: -1,
        memberId: '',
        topics: [
          { name: 'fz', partitions: [{ partitionIndex: 0, committedOffset: 1, committedMetadata: null }] },
        ],
      }),
    ),
    frame(
      19,
      7,
      encoded(19, 7, {
        topics: [{ name: 'fz2', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }],
        timeoutMs: 100,
      }),
    ),
    frame(
      2,
      6,
      encoded(2, 6, {
        replicaId: -1,
        topics: [{ name: 'fz', partitions: [{ partitionIndex: 0, timestamp: 5 }] }],
      }),
    ),
  ];
  let seed = 12345;
  const rand = (n: number) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const clients: RawClient[] = [];
  for (let i = 0; i < 300; i++) {
    const c = await RawClient.connect(broker.port);
    clients.push(c);
    const base = Buffer.from(valid[i % valid.length]);
    const kind = i % 3;
    if (kind === 0) {
      // Flip a few bytes after the size prefix.
      for (let k = 0; k < 1 + rand(4); k++) base[4 + rand(base.length - 4)] ^= 1 + rand(255);
      c.raw(base);
    } else if (kind === 1) {
      // Cut the body anywhere but keep the size prefix honest.
      const cut = base.subarray(0, 4 + 8 + rand(base.length - 12));
      cut.writeInt32BE(cut.length - 4, 0);
      c.raw(Buffer.from(cut));
    } else {
      c.raw(randomBytes(1 + rand(300)));
    }
    if (i % 50 === 49) await healthy(broker.port);
  }
  await new Promise((r) => setTimeout(r, 200));
  for (const c of clients) c.close();
  await healthy(broker.port);
  assert.ok(
    !broker.warnings.some((w) => w.includes('internal error')),
    broker.warnings.filter((w) => w.includes('internal error')).join('\n'),
  );
});

test('a thousand pipelined requests are answered in order on one connection', async (t) => {
  const broker = await testBroker(t);
  const c = await RawClient.connect(broker.port);
  defer(t, () => c.close());
  const answers = await Promise.all(
    Array.from({ length: 1000 }, (_, i) => (i % 2 === 0 ? c.send(3, 1, { topics: [] }) : c.send(18, 0, {}))),
  );
  assert.deepEqual(
    c.arrivals,
    answers.map((a) => a._cid),
  );
  assert.deepEqual(
    c.arrivals,
    [...c.arrivals].sort((a, b) => a - b),
  );
});
