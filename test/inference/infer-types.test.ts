// `.infer()` feeds float32 rows and hands output() numbers: a model that declares other tensor
// types fails at start with what to change, not at every call (which sent every record to the
// dead letters: `input "text" expects type string, got float32`).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { OpenAIModel, SluiceError, pipeline, type ModelLike } from '../../src/index.js';
import { collect, fromArray } from '../../src/testing.js';
import { startOpenAIServer, type TestServer } from './servers.js';

const mismatch = (pattern: RegExp) => (e: unknown) =>
  e instanceof SluiceError && e.code === 'SLUICE_PIPELINE_MODEL_MISMATCH' && pattern.test(e.message);

describe('infer: tensor types checked at start', () => {
  let server: TestServer;
  const saved = process.env.SLUICE_TEST_OPENAI_KEY;
  before(async () => {
    server = await startOpenAIServer('test-key');
    process.env.SLUICE_TEST_OPENAI_KEY = 'test-key';
  });
  after(async () => {
    if (saved === undefined) delete process.env.SLUICE_TEST_OPENAI_KEY;
    else process.env.SLUICE_TEST_OPENAI_KEY = saved;
    await server.close();
  });

  it('a text model (string input) fed numbers fails at start, before any record, saying what to do', async () => {
    const model = await OpenAIModel.connect({
      task: 'classify',
      model: 'chat-small',
      labels: ['legit', 'fraud'],
      baseUrl: `${server.url}/v1`,
      apiKeyEnv: 'SLUICE_TEST_OPENAI_KEY',
    });
    const run = pipeline('text')
      .from(fromArray([1, 2, 3]))
      .infer(model, { width: 1, outputName: 'score', input: (i) => [i], output: (_i, row) => row[0]! })
      .to(collect())
      .run();
    await assert.rejects(
      run.done,
      mismatch(
        /model input "text" expects type string, but \.infer\(\) feeds it float32 numbers .*\.process\(\) stage/,
      ),
    );
    assert.equal(server.requests, 0, 'no record reached the model');
    assert.equal(run.metrics.counters.deadLetters, 0);
    await model.close();
  });

  it('a string or bool output fails at start, naming the numeric outputs to pick instead', async () => {
    const model: ModelLike = {
      metadata: {
        inputs: [{ name: 'x', type: 'float32', dims: ['N', 1] }],
        outputs: [
          { name: 'label', type: 'string', dims: ['N'] },
          { name: 'prob', type: 'float32', dims: ['N', 2] },
        ],
      },
      run: async () => ({}),
    };
    const run = pipeline('out')
      .from(fromArray([1]))
      .infer(model, { width: 1, input: (i) => [i], output: (_i, row) => row[0]! })
      .to(collect())
      .run();
    await assert.rejects(
      run.done,
      mismatch(/output "label" is of type string.*set outputName to one of: prob/),
    );
  });

  it('float32 inputs, and models that declare no types, start as before', async () => {
    const model: ModelLike = {
      metadata: {
        inputs: [{ name: 'x', dims: ['N', 1] }],
        outputs: [{ name: 'y', type: 'float32', dims: ['N', 1] }],
      },
      run: async (inputs) => ({
        y: { type: 'float32', data: inputs.x!.data as Float32Array, dims: inputs.x!.dims },
      }),
    };
    const out = collect<number>();
    await pipeline('ok')
      .from(fromArray([1, 2]))
      .infer(model, { width: 1, input: (i) => [i], output: (_i, row) => row[0]! })
      .to(out)
      .run().done;
    assert.deepEqual(out.values, [1, 2]);
  });
});
