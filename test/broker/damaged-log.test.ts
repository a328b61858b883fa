// A damaged batch under the broker (issue 20, item 4): never served (a consumer stops at it with
// an error and the broker's warning says what to run), and once `checkLog --repair` has set it
// aside, consumers read every sound record and step over the damaged offsets.

import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { kafkaSource } from '../../src/connectors/index.js';
import { checkLog, Log } from '../../src/log/index.js';
import { pipeline, type Envelope } from '../../src/stream/index.js';
import { defer, tempDir, testBroker } from './helpers.js';

const TOPIC = 'tx';

async function consume(address: string): Promise<string[]> {
  const values: string[] = [];
  const run = pipeline('read')
    .from(kafkaSource({ brokers: address, topic: TOPIC, groupId: `g${Math.random()}`, endWhen: 'caught-up' }))
    .to({
      name: 'capture',
      write(records: Envelope<Buffer | null>[]) {
        for (const r of records) values.push(`${r.offset}:${r.value?.toString()}`);
      },
    })
    .run({});
  await run.done;
  return values;
}

test(
  'a damaged batch is not served; after log check --repair consumers read past it',
  { timeout: 120_000 },
  async (t) => {
    const dir = tempDir(t);
    // Index entries every 100 bytes: opening scans a closed segment only from its last entry, so
    // the damage is found by the CRC check of the fetch itself.
    const opts = { segmentBytes: 800, indexIntervalBytes: 100, fsync: 'never' as const };
    let log = Log.open(dir, opts);
    log.createTopic(TOPIC, { partitions: 1 });
    for (let b = 0; b < 40; b++)
      log
        .partition(TOPIC, 0)
        .append(Array.from({ length: 5 }, (_, i) => ({ value: Buffer.from(`v${b * 5 + i}`) })));
    log.close();
    // Change a digit of value v12 (batch 10..14, first segment): still a well-formed record.
    const segment = join(dir, `${TOPIC}-0`, '00000000000000000000.log');
    const bytes = readFileSync(segment);
    const at = bytes.indexOf(Buffer.from('v12\u0000', 'latin1'));
    assert.ok(at > 0);
    bytes[at + 2] = 0x37; // v17
    writeFileSync(segment, bytes);

    log = Log.open(dir, opts);
    let broker = await testBroker(t, { log });
    // The client sees KAFKA_STORAGE_ERROR (it retries, then fails), never the changed value.
    await assert.rejects(consume(broker.address), /fetch failed|error 56/);
    assert.ok(
      broker.warnings.some(
        (w) =>
          /tx-0: the stored batch holding offsets 10\.\.14 fails its CRC-32C check/.test(w) &&
          /sluice log check --data/.test(w),
      ),
      broker.warnings.join('\n'),
    );
    await broker.close();
    log.close();

    const report = checkLog(dir, { repair: true });
    assert.deepEqual(
      report.damage.map((d) => [d.fromOffset, d.toOffset]),
      [[10, 15]],
    );
    log = Log.open(dir, opts);
    defer(t, () => log.close());
    broker = await testBroker(t, { log });
    const values = await consume(broker.address);
    const want = Array.from({ length: 200 }, (_, i) => i)
      .filter((i) => i < 10 || i >= 15)
      .map((i) => `${i}:v${i}`);
    assert.deepEqual(values, want);
  },
);
