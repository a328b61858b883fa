// `file:` paths, schemes and "scheme://host/what" are parsed once (src/core/url.ts) for the
// sources, the ingest and the action sinks; the two URL readers agree on them.
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { describe, it } from 'node:test';
import { badUrlMessage, fileUrlPath, logUrlParts, splitUrlPath, urlScheme } from '../../src/core/url.js';
import { actionSinkFromUrl } from '../../src/actions/index.js';
import { sourceFromUrl } from '../../src/connectors/index.js';

describe('core/url: one parser for sources and sinks', () => {
  it('schemes, lower case', () => {
    assert.equal(urlScheme('Kafka://h:9092/t'), 'kafka');
    assert.equal(urlScheme('file:x.jsonl'), 'file');
    assert.equal(urlScheme('no-scheme'), undefined);
  });

  it('file: paths: relative, absolute, file:///, and none', () => {
    assert.equal(fileUrlPath('file:out/a.jsonl'), resolve('out/a.jsonl'));
    assert.equal(fileUrlPath('file:/tmp/a.jsonl'), '/tmp/a.jsonl');
    assert.equal(fileUrlPath('file:///tmp/a%20b.jsonl'), '/tmp/a b.jsonl');
    assert.equal(fileUrlPath('file:'), undefined);
  });

  it('log: directory and topic, the last path segment the topic', () => {
    assert.deepEqual(logUrlParts('log:data/log/transactions'), {
      dir: resolve('data/log'),
      topic: 'transactions',
    });
    assert.deepEqual(logUrlParts('log:///var/sluice/log/tx'), { dir: '/var/sluice/log', topic: 'tx' });
    for (const bad of ['log:', 'log:data/log/', 'log:/tx']) assert.equal(logUrlParts(bad), undefined, bad);
  });

  it('scheme://host/what?query', () => {
    const s = splitUrlPath('redis://127.0.0.1:6379/tx%2F1?group=g');
    assert.equal(s?.base, 'redis://127.0.0.1:6379');
    assert.equal(s?.rest, 'tx/1');
    assert.equal(s?.query.get('group'), 'g');
    assert.equal(splitUrlPath('nats://127.0.0.1:4222/'), undefined);
  });

  it('a bad URL: the same message shape for sources and sinks, never a password', () => {
    assert.equal(
      badUrlMessage('sink', 'ftp://u:pw@h/x', 'scheme "ftp:" is not supported', ['file:path.jsonl']),
      'sink URL "ftp://***@h/x": scheme "ftp:" is not supported; use one of file:path.jsonl',
    );
    assert.throws(() => actionSinkFromUrl('file:'), {
      code: 'SLUICE_SINK_URL',
      message: /no path after file:/,
    });
    assert.throws(() => sourceFromUrl('file:'), {
      code: 'SLUICE_SOURCE_URL',
      message: /no path after file:/,
    });
    assert.throws(() => actionSinkFromUrl('kafka://h:9092'), {
      code: 'SLUICE_SINK_URL',
      message: /^sink URL "kafka:\/\/h:9092": not a Kafka URL/,
    });
    assert.throws(() => sourceFromUrl('kafka://h:9092'), {
      code: 'SLUICE_SOURCE_URL',
      message: /^source URL "kafka:\/\/h:9092": not a Kafka URL/,
    });
  });
});
