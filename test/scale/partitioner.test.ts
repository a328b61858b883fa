// Sluice's partitioner must put a key where Kafka's default partitioner does, or state and
// records produced by other clients would not meet on one worker: Kafka's own murmur2 test
// vectors, and librdkafka (kcat, partitioner=murmur2_random) deciding partitions for real.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { murmur2, partitionFor } from '../../src/scale.js';
import { testBroker } from '../broker/helpers.js';
import { run } from '../broker/processes.js';
import { commandExists, needService } from '../helpers/services.js';

const noKcat = await needService('kcat', () => commandExists('kcat', ['-V']));

describe('partitionFor', () => {
  it("matches Kafka's murmur2 test vectors (Utils.murmur2)", () => {
    const vectors: [string, number][] = [
      ['21', -973932308],
      ['foobar', -790332482],
      ['a-little-bit-long-string', -985981536],
      ['a-little-bit-longer-string', -1486304829],
      ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
      ['abc', 479470107],
    ];
    for (const [s, h] of vectors) assert.equal(murmur2(Buffer.from(s)), h, s);
  });

  it('puts keys where librdkafka murmur2_random puts them', { skip: noKcat, timeout: 60_000 }, async (t) => {
    const broker = await testBroker(t, { partitions: 6 });
    const keys = Array.from({ length: 500 }, (_, i) => (i % 3 === 0 ? i : `card-${i}`));
    const input = keys.map((k) => `${k}:v`).join('\n') + '\n';
    const produced = await run(
      'kcat',
      ['-P', '-b', broker.address, '-t', 'keys', '-K:', '-X', 'partitioner=murmur2_random'],
      { input },
    );
    assert.equal(produced.code, 0, produced.stderr);
    const consumed = await run('kcat', ['-C', '-b', broker.address, '-t', 'keys', '-e', '-f', '%k %p\\n'], {
      timeoutMs: 30_000,
    });
    const lines = consumed.stdout.trim().split('\n');
    assert.equal(lines.length, keys.length);
    for (const line of lines) {
      const [key, p] = line.split(' ');
      assert.equal(partitionFor(key!, 6), Number(p), `key ${key}`);
    }
    assert.equal(partitionFor(12, 6), partitionFor('12', 6), 'a number key hashes as its decimal string');
  });
});
