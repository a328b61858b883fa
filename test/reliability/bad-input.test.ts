import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { json, logDeadLetters, logSource, pipeline } from '../../src/index.js';
import { DLQ_HEADERS } from '../../src/connectors/index.js';
import { Log } from '../../src/log/index.js';
import { collect } from '../../src/testing.js';
import { seededRandom } from '../../src/core/random.js';
import { FUZZ_SCHEMA, OVERSIZED_REASON, goodRecord, malformed } from './malformed.js';

const tmp = mkdtempSync(join(tmpdir(), 'sluice-fuzz-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const BAD = 100_000;

describe('bad-input suite: malformed records through the log source', () => {
  it('100,000 malformed records (and 10 MB ones) land in dead letters with reasons; good records around them are processed', async () => {
    const log = Log.open(join(tmp, 'log'), { maxBatchBytes: 64 << 20 });
    log.createTopic('in', { partitions: 2 });
    const r = seededRandom(77);
    const expectedReasons = new Map<string, RegExp>();
    let good = 0;
    for (let b = 0; b < 200; b++) {
      const part = b % 2;
      const batch = [];
      for (let j = 0; j < 1000; j++) {
        const i = b * 1000 + j;
        if (j % 2 === 0 || b >= 100) {
          const [bytes, reason] = malformed(r, i);
          const offset = log.partition('in', part).highWatermark + batch.length;
          expectedReasons.set(`${part}@${offset}`, reason);
          batch.push({ value: bytes });
        } else {
          good++;
          batch.push({ value: goodRecord(i) });
        }
      }
      log.partition('in', part).append(batch);
    }
    // Two 10 MB records: over the decoder's 1 MiB limit.
    const huge = Buffer.alloc(10 << 20, 0x61);
    for (const part of [0, 1]) {
      expectedReasons.set(`${part}@${log.partition('in', part).highWatermark}`, OVERSIZED_REASON);
      log.partition('in', part).append([{ value: huge }]);
    }
    const total = 200_000 + 2;
    assert.equal(expectedReasons.size, total - good);
    assert.ok(expectedReasons.size >= BAD);

    const out = collect<{ id: number }>();
    const s = await pipeline('fuzz')
      .from(logSource({ log, topic: 'in', endWhen: 'caught-up' }))
      .decode(json(FUZZ_SCHEMA))
      .to(out)
      .run({ deadLetters: logDeadLetters(log, 'fuzz.dlq') }).done;
    assert.equal(s.counters.in, total);
    assert.equal(out.values.length, good);
    assert.equal(s.counters.deadLetters, total - good);

    // Every dead letter says where it came from and why, and keeps the original bytes.
    const dlq = log.partition('fuzz.dlq', 0);
    let offset = 0;
    let seen = 0;
    while (offset < dlq.highWatermark) {
      const { records, nextOffset } = dlq.read(offset, 64 << 20);
      for (const rec of records) {
        const h = Object.fromEntries(rec.headers.map((x) => [x.key, x.value?.toString() ?? '']));
        const source = h[DLQ_HEADERS.source]!.replace('in/', '');
        const want = expectedReasons.get(source);
        assert.ok(want, `unexpected dead letter from ${source}`);
        assert.match(h[DLQ_HEADERS.reason]!, want, `${source}: ${h[DLQ_HEADERS.reason]}`);
        assert.equal(h[DLQ_HEADERS.stage], 'decode');
        seen++;
      }
      offset = nextOffset;
    }
    assert.equal(seen, total - good);
    log.close();
  });
});
