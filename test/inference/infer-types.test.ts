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
        /model input "text" expects type string, but \.infer\(\) feeds it float32 numbers .*set inputType: 'string'/,
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

  it('other tensor types: int64 and string inputs, string and json outputs; a record of the wrong kind is a dead letter with the reason', async () => {
    const seen: { type: string; dims: readonly number[]; data: unknown }[] = [];
    const model: ModelLike = {
      metadata: {
        inputs: [{ name: 'ids', type: 'int64', dims: ['N', 2] }],
        outputs: [{ name: 'doc', type: 'string', dims: ['N'] }],
      },
      run: async (inputs) => {
        const x = inputs.ids!;
        seen.push({ type: x.type, dims: x.dims, data: x.data });
        const ids = x.data as BigInt64Array;
        const docs = Array.from({ length: x.dims[0]! }, (_v, i) =>
          ids[i * 2] === 3n ? 'not json' : JSON.stringify({ sum: Number(ids[i * 2]! + ids[i * 2 + 1]!) }),
        );
        return { doc: { type: 'string', data: docs, dims: [docs.length] } };
      },
    };
    const out = collect<number>();
    const run = pipeline('typed')
      .from(fromArray([1, 2, 2.5, 3, 4]))
      .infer(model, {
        width: 2,
        inputType: 'int64',
        outputType: 'json',
        input: (i) => [i, 10],
        output: (_i, [doc]) => (doc as { sum: number }).sum,
      })
      .to(out)
      .run();
    await run.done;
    assert.deepEqual(out.values, [11, 12, 14]);
    assert.equal(seen[0]!.type, 'int64');
    assert.deepEqual(seen[0]!.dims, [4, 2], '2.5 left before the call');
    assert.ok(seen[0]!.data instanceof BigInt64Array);
    const reasons = run.deadLetters!.items.map((d) => d.reason);
    assert.equal(reasons.length, 2);
    assert.match(reasons[0]!, /cannot be converted to a BigInt|not an integer/i);
    assert.match(reasons[1]!, /output is not JSON/);

    const text: ModelLike = {
      metadata: {
        inputs: [{ name: 'text', type: 'string', dims: ['N'] }],
        outputs: [{ name: 'n', type: 'float32', dims: ['N', 1] }],
      },
      run: async (inputs) => {
        const t = inputs.text!;
        assert.deepEqual(t.dims, [(t.data as string[]).length], 'a one-dim input gets [N]');
        return {
          n: {
            type: 'float32',
            data: Float32Array.from(t.data as string[], (s) => s.length),
            dims: [t.dims[0]!, 1],
          },
        };
      },
    };
    const lengths = collect<number>();
    const run2 = pipeline('text')
      .from(fromArray<unknown>(['ab', 7, 'abcd']))
      .infer(text, { inputType: 'string', input: (v) => v as string, output: (_v, row) => row[0]! })
      .to(lengths)
      .run();
    await run2.done;
    assert.deepEqual(lengths.values, [2, 4]);
    assert.match(
      run2.deadLetters!.items[0]!.reason,
      /input gave a number, the model input "text" takes strings/,
    );
  });

  it('a declared type the mapping does not match fails at start, naming the option to set', async () => {
    const model: ModelLike = {
      metadata: {
        inputs: [{ name: 'x', type: 'float32', dims: ['N', 1] }],
        outputs: [{ name: 'y', type: 'float32', dims: ['N', 1] }],
      },
      run: async () => ({}),
    };
    const start = (opts: Record<string, unknown>) =>
      pipeline('m')
        .from(fromArray([1]))
        .infer(model, {
          width: 1,
          input: (i: number) => [i],
          output: (_i: number, row: unknown) => row,
          ...opts,
        } as never)
        .to(collect())
        .run().done;
    await assert.rejects(
      start({ inputType: 'int64' }),
      mismatch(/expects type float32, but inputType is 'int64'; set inputType: 'float32'/),
    );
    await assert.rejects(
      start({ outputType: 'json' }),
      mismatch(/output "y" is of type float32, but outputType is 'json'/),
    );
  });
});
