// Triton specifics of the KServe v2 client, against the fake Triton of test/helpers (written from
// Triton's protocol docs; it decodes the client's bytes by itself): the binary tensor data
// extension both ways, the threshold, BYTES tensors, readiness and metadata checked at connect
// with clear errors, and the schedule policy's priority and timeout passed through.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { KServeModel, pipeline } from '../../src/index.js';
import { ModelLoadError, float32Tensor } from '../../src/inference/index.js';
import { collect, fromArray } from '../../src/testing.js';
import { startFakeTriton, type FakeTriton } from '../helpers/fake-triton.js';

describe('KServe v2 client: Triton specifics', () => {
  let triton: FakeTriton;
  before(async () => {
    triton = await startFakeTriton();
  });
  after(() => triton.close());
  beforeEach(() => {
    triton.requests.length = 0;
    triton.serverReady = true;
    triton.notReady.clear();
    triton.extensions = ['binary_tensor_data', 'schedule_policy'];
  });

  it('sends a large tensor as binary data: JSON header of the declared length, then the raw little-endian floats; reads binary outputs', async () => {
    const model = await KServeModel.connect({ url: triton.url, model: 'sum', binaryThresholdBytes: 1024 });
    assert.equal(model.binaryData, true, 'the server lists binary_tensor_data');
    const n = 100;
    const w = 8;
    const rows = Float32Array.from({ length: n * w }, (_v, i) => (i % 17) * 0.25 - 1.5);
    const out = await model.run({ INPUT0: float32Tensor(rows, [n, w]) });
    const req = triton.requests[0]!;
    assert.equal(req.contentType, 'application/octet-stream');
    const header = JSON.stringify(req.json);
    assert.equal(
      req.headerLength,
      Buffer.byteLength(header),
      'Inference-Header-Content-Length is the JSON length',
    );
    assert.equal(req.contentLength, req.headerLength! + n * w * 4, 'Content-Length covers header and data');
    assert.deepEqual(req.json.inputs[0], {
      name: 'INPUT0',
      shape: [n, w],
      datatype: 'FP32',
      parameters: { binary_data_size: n * w * 4 },
    });
    assert.equal(req.json.parameters?.binary_data_output, true);
    const expected = Buffer.alloc(n * w * 4);
    rows.forEach((v, i) => expected.writeFloatLE(v, i * 4));
    assert.ok(req.binary.equals(expected), "the client's bytes are the floats, little-endian, row-major");
    assert.equal(req.binaryAnswer, true);
    assert.deepEqual(out.SUM!.dims, [n, 1]);
    assert.ok(out.SUM!.data instanceof Float32Array);
    for (let i = 0; i < n; i++) {
      const sum = rows.subarray(i * w, (i + 1) * w).reduce((a, b) => a + b, 0);
      assert.ok(Math.abs((out.SUM!.data as Float32Array)[i]! - sum) < 1e-4);
    }
    assert.deepEqual(
      Array.from(out.DOUBLE!.data as Float32Array),
      Array.from(rows, (v) => v * 2),
    );
  });

  it('keeps a tensor under the threshold as JSON (outputs still binary); a server without the extension gets JSON only', async () => {
    const model = await KServeModel.connect({ url: triton.url, model: 'sum' }); // default 16 KiB
    const out = await model.run({ INPUT0: float32Tensor([1, 2, 3, 4], [2, 2]) });
    const small = triton.requests[0]!;
    assert.equal(small.headerLength, undefined);
    assert.equal(small.contentType, 'application/json');
    assert.deepEqual(small.json.inputs[0]!.data, [1, 2, 3, 4]);
    assert.deepEqual(Array.from(out.SUM!.data as Float32Array), [3, 7]);
    triton.extensions = [];
    const plain = await KServeModel.connect({ url: triton.url, model: 'sum', binaryThresholdBytes: 0 });
    assert.equal(plain.binaryData, false);
    await plain.run({ INPUT0: float32Tensor(new Float32Array(4096), [512, 8]) });
    assert.equal(triton.requests[1]!.headerLength, undefined);
    assert.equal(triton.requests[1]!.binaryAnswer, false);
  });

  it('BYTES tensors as binary: each element a 4-byte length then UTF-8; BYTES and INT64 outputs read back', async () => {
    const model = await KServeModel.connect({
      url: triton.url,
      model: 'echo',
      binaryData: 'always',
      binaryThresholdBytes: 0,
    });
    const texts = ['fraud alert', 'café ☕', ''];
    const out = await model.run({ TEXT: { type: 'string', data: texts, dims: [3] } });
    const req = triton.requests[0]!;
    const expected = Buffer.concat(
      texts.flatMap((t) => {
        const b = Buffer.from(t, 'utf8');
        const len = Buffer.alloc(4);
        len.writeUInt32LE(b.length);
        return [len, b];
      }),
    );
    assert.ok(req.binary.equals(expected));
    assert.deepEqual(req.json.inputs[0]!.parameters, { binary_data_size: expected.length });
    assert.deepEqual(out.UPPER!.data, ['FRAUD ALERT', 'CAFÉ ☕', '']);
    assert.deepEqual(Array.from(out.LENGTH!.data as BigInt64Array), [11n, 9n, 0n]);
  });

  it('a text model in a pipeline: .infer() with inputType string over BYTES, outputType string back', async () => {
    const model = await KServeModel.connect({ url: triton.url, model: 'echo', outputs: ['UPPER'] });
    const out = collect<string>();
    await pipeline('echo')
      .from(fromArray(['a', 'bc', 'def']))
      .infer(model, { inputType: 'string', outputType: 'string', input: (t) => t, output: (_t, [u]) => u! })
      .to(out)
      .run().done;
    assert.deepEqual(out.values, ['A', 'BC', 'DEF']);
  });

  it('checks server readiness, model readiness and metadata at connect, saying which failed', async () => {
    triton.serverReady = false;
    await assert.rejects(
      KServeModel.connect({ url: triton.url, model: 'sum' }),
      (e: unknown) =>
        e instanceof ModelLoadError &&
        /the server is not ready \(GET \/v2\/health\/ready\).*Server not ready/.test(e.message),
    );
    triton.serverReady = true;
    triton.notReady.add('sum');
    await assert.rejects(
      KServeModel.connect({ url: triton.url, model: 'sum' }),
      (e: unknown) =>
        e instanceof ModelLoadError &&
        /the model is not ready \(GET \/v2\/models\/sum\/ready\); check that the server loaded it/.test(
          e.message,
        ),
    );
    await assert.rejects(
      KServeModel.connect({ url: triton.url, model: 'nope', checkReady: false }),
      (e: unknown) =>
        e instanceof ModelLoadError &&
        /metadata could not be read \(GET \/v2\/models\/nope\) \(no such model or version\)/.test(e.message),
    );
  });

  it('passes priority and timeout (µs) through as request parameters, per call over the defaults', async () => {
    const model = await KServeModel.connect({
      url: triton.url,
      model: 'sum',
      priority: 3,
      timeoutMicros: 20_000,
    });
    await model.run({ INPUT0: float32Tensor([1], [1, 1]) });
    await model.run({ INPUT0: float32Tensor([1], [1, 1]) }, { priority: 1, queueTimeoutMicros: 5000 });
    assert.deepEqual(triton.requests[0]!.json.parameters, {
      priority: 3,
      timeout: 20_000,
      binary_data_output: true,
    });
    assert.deepEqual(triton.requests[1]!.json.parameters, {
      priority: 1,
      timeout: 5000,
      binary_data_output: true,
    });
    await assert.rejects(
      KServeModel.connect({ url: triton.url, model: 'sum', priority: -1 }),
      /priority is -1/,
    );
  });
});
