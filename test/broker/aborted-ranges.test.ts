// Two aborted transactions of one producer in one read_committed fetch: @platformatic/kafka 1.x
// keeps one aborted range per producer per response and let the earlier transaction's records
// through, so the exactly-once Kafka sink's read-back took aborted outputs for committed ones and
// did not produce them again (the kill test lost 80-120 of 3,000 outputs in 2 of 3 runs). The
// broker now answers a read_committed fetch up to the second aborted transaction of a producer.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Consumer, type Message } from '@platformatic/kafka';
import { Kafka, logLevel } from 'kafkajs';
import { testBroker } from './helpers.js';

test(
  'read_committed through @platformatic/kafka: records of two aborted transactions of one producer stay out',
  { timeout: 60_000 },
  async (t) => {
    const broker = await testBroker(t);
    const kafka = new Kafka({
      clientId: 'aborted-ranges',
      brokers: [broker.address],
      logLevel: logLevel.NOTHING,
    });
    const producer = kafka.producer({
      transactionalId: 'one-producer',
      idempotent: true,
      maxInFlightRequests: 1,
    });
    await producer.connect();
    // One producer id throughout: abort, abort, commit, abort, commit.
    const plan: [string, boolean][] = [
      ['a', false],
      ['b', false],
      ['c', true],
      ['d', false],
      ['e', true],
    ];
    for (const [tag, commit] of plan) {
      const txn = await producer.transaction();
      await txn.send({
        topic: 'out',
        messages: Array.from({ length: 5 }, (_, i) => ({ value: `${tag}${i}` })),
      });
      await (commit ? txn.commit() : txn.abort());
    }
    await producer.disconnect();

    const consumer = new Consumer({
      clientId: 'aborted-ranges-reader',
      bootstrapBrokers: [broker.address],
      groupId: `aborted-ranges-${Date.now()}`,
      isolationLevel: 1,
      maxWaitTime: 100,
    });
    const stream = await consumer.consume({
      topics: ['out'],
      mode: 'manual',
      autocommit: false,
      offsets: [{ topic: 'out', partition: 0, offset: 0n }],
    });
    const got: string[] = [];
    const end = broker.log.partition('out', 0).highWatermark;
    const iterator = (stream as AsyncIterable<Message>)[Symbol.asyncIterator]();
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      const r = await Promise.race([
        iterator.next(),
        new Promise<'idle'>((res) => setTimeout(() => res('idle'), 1500)),
      ]);
      if (r === 'idle' || r.done) break;
      got.push(r.value.value!.toString());
      if (r.value.offset + 1n >= BigInt(end)) break;
    }
    await stream.close();
    await consumer.close(true);
    assert.deepEqual(got.sort(), ['c0', 'c1', 'c2', 'c3', 'c4', 'e0', 'e1', 'e2', 'e3', 'e4']);
  },
);
