// The one error base (issue 22): every layer's errors are SluiceErrors with a code, an optional
// cause and details, and messages that never carry a URL's credentials.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SluiceError, isSluiceError, requireOption } from '../../src/core/errors.js';
import { LogError, LogOffsetOutOfRangeError } from '../../src/log/index.js';
import { BrokerError } from '../../src/broker/index.js';
import { ModelLoadError, InferenceError, QueueFullError } from '../../src/inference/index.js';
import { ObserveError, parseSloRule } from '../../src/observe/index.js';
import { KafkaUrlError, parseKafkaUrl } from '../../src/kafka-client/index.js';
import { DecodeError } from '../../src/stream/index.js';

describe('SluiceError, the one base', () => {
  it('carries code, cause and details; its name is the subclass', () => {
    const cause = new Error('EACCES');
    const e = new LogError('SLUICE_LOG_IO_ERROR', 'write failed', { cause, details: { path: '/x' } });
    assert.ok(e instanceof SluiceError && e instanceof LogError && isSluiceError(e));
    assert.equal(e.code, 'SLUICE_LOG_IO_ERROR');
    assert.equal(e.cause, cause);
    assert.deepEqual(e.details, { path: '/x' });
    assert.equal(e.name, 'LogError');
    assert.equal(new LogOffsetOutOfRangeError(9, 0, 5, 't-0').name, 'LogOffsetOutOfRangeError');
  });

  it("cuts a URL's credentials out of every message", () => {
    const e = new SluiceError('SLUICE_SOURCE_UNAVAILABLE', 'cannot reach nats://alice:s3cret@10.0.0.1:4222');
    assert.equal(e.message, 'cannot reach nats://***@10.0.0.1:4222');
    assert.doesNotMatch(new ModelLoadError('GET https://u:pw@h/m failed').message, /pw/);
  });

  it("every layer's errors are SluiceErrors, with codes of the one style", () => {
    const errors: SluiceError[] = [
      new BrokerError('SLUICE_BROKER_LISTEN_FAILED', 'busy'),
      new QueueFullError('full'),
      new DecodeError('bad'),
    ];
    try {
      parseSloRule('nonsense');
    } catch (e) {
      assert.ok(e instanceof ObserveError);
      errors.push(e);
    }
    try {
      parseKafkaUrl('kafka://');
    } catch (e) {
      assert.ok(e instanceof KafkaUrlError);
      errors.push(e);
    }
    assert.equal(errors.length, 5);
    for (const e of errors) {
      assert.ok(e instanceof SluiceError, e.name);
      assert.match(e.code, /^SLUICE_[A-Z]+_[A-Z_]+$/);
    }
    assert.equal(errors[3]!.code, 'SLUICE_OBSERVE_INVALID_OPTION');
    assert.ok(errors[1] instanceof InferenceError && (errors[1] as InferenceError).retryable);
  });

  it('requireOption throws SLUICE_OPTION_INVALID', () => {
    assert.throws(() => requireOption(false, 'batchSize must be > 0'), {
      name: 'SluiceError',
      code: 'SLUICE_OPTION_INVALID',
      message: 'batchSize must be > 0',
    });
  });
});
