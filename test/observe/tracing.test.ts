// Traces: a record that arrives with a sampled `traceparent` gets a span in that trace, a child
// span per stage, the async stages' batch spans link to it, and the webhook it causes carries its
// `traceparent` on; exported over OTLP/HTTP to a local receiver that decodes what arrives.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Log } from '../../src/log/index.js';
import { action, json, logSource, pipeline } from '../../src/index.js';
import { webhookActionSink as webhookSink } from '../../src/actions/index.js';
import { formatTraceparent, parseTraceparent, tracingConfig } from '../../src/observe/index.js';
import { startOtlpReceiver, type ReceivedSpan } from '../helpers/otlp-receiver.js';

const N = 200;
const hex = (n: number, width: number) => n.toString(16).padStart(width, '0');
/** Records 0, 10, 20, … arrive with a sampled caller's traceparent; 5, 15, … with an unsampled one. */
const callerOf = (i: number) =>
  i % 10 === 0
    ? { traceId: hex(0xabc000 + i, 32), spanId: hex(0x100 + i, 16), sampled: true }
    : i % 10 === 5
      ? { traceId: hex(0xdef000 + i, 32), spanId: hex(0x200 + i, 16), sampled: false }
      : undefined;

async function waitFor(cond: () => boolean, what: string, ms = 15_000): Promise<void> {
  const until = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('W3C traceparent and tracing configuration', () => {
  it('parses valid values, refuses invalid ones, and formats back', () => {
    const v = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const ctx = parseTraceparent(v)!;
    assert.deepEqual(ctx, {
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      spanId: '00f067aa0ba902b7',
      sampled: true,
    });
    assert.equal(formatTraceparent(ctx), v);
    for (const bad of [
      '00-00000000000000000000000000000000-00f067aa0ba902b7-01', // zero trace id
      '00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01', // zero span id
      'ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', // forbidden version
      '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra', // version 00 has 4 fields
      '00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01',
      'garbage',
    ])
      assert.equal(parseTraceparent(bad), undefined, bad);
    assert.equal(
      parseTraceparent('01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00-x')?.sampled,
      false,
    );
  });

  it('reads the standard OTEL_* variables; off unless one asks for traces', () => {
    assert.equal(tracingConfig(undefined, {}), undefined);
    assert.equal(tracingConfig(undefined, { OTEL_TRACES_SAMPLER: 'always_off' }), undefined);
    assert.equal(
      tracingConfig(undefined, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://h:4318', OTEL_SDK_DISABLED: 'true' }),
      undefined,
    );
    assert.deepEqual(tracingConfig(undefined, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://h:4318/' }), {
      sampler: 'parentbased_traceidratio',
      ratio: 0.01,
      endpoint: 'http://h:4318/v1/traces',
      serviceName: 'sluice',
      exporter: undefined,
    });
    const c = tracingConfig(undefined, {
      OTEL_TRACES_SAMPLER: 'traceidratio',
      OTEL_TRACES_SAMPLER_ARG: '0.25',
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://h:4318/custom',
      OTEL_SERVICE_NAME: 'fraud-scorer',
    })!;
    assert.deepEqual(
      [c.sampler, c.ratio, c.endpoint, c.serviceName],
      ['traceidratio', 0.25, 'http://h:4318/custom', 'fraud-scorer'],
    );
    assert.throws(
      () => tracingConfig(undefined, { OTEL_TRACES_SAMPLER: 'sometimes' }),
      /OTEL_TRACES_SAMPLER "sometimes" is not one of/,
    );
    assert.throws(() => tracingConfig({ ratio: 2 }), /tracing.ratio must be a number from 0 to 1/);
    assert.equal(tracingConfig(false, { OTEL_TRACES_SAMPLER: 'always_on' }), undefined);
  });
});

describe('tracing a pipeline run over OTLP/HTTP', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-trace-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('continues the callers’ traces: record span, stage children, linked batch spans, traceparent on the webhook', async (t) => {
    const otlp = await startOtlpReceiver();
    t.after(() => otlp.close());
    const hooks: { traceparent: string | undefined; id: number }[] = [];
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c));
      req.on('end', () => {
        hooks.push({
          traceparent: req.headers.traceparent as string | undefined,
          id: JSON.parse(body).payload.id,
        });
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    t.after(() => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))));

    const log = Log.open(join(dir, 'log'));
    t.after(() => log.close());
    log.createTopic('payments', { partitions: 1 });
    log.partition('payments', 0).append(
      Array.from({ length: N }, (_, i) => {
        const caller = callerOf(i);
        return {
          value: Buffer.from(JSON.stringify({ id: i, amount: i * 3 })),
          headers: caller ? [{ key: 'traceparent', value: Buffer.from(formatTraceparent(caller)) }] : [],
        };
      }),
    );
    const run = pipeline('traced')
      .from(logSource({ log, topic: 'payments', endWhen: 'caught-up' }))
      .decode(json({ id: 'integer', amount: 'number' }))
      .map((p) => ({ ...p, big: p.amount > 30 }), { name: 'features' })
      .mapBatch(async (rows) => rows.map((p) => ({ ...p, score: p.id / N })), { name: 'model' })
      .to(
        action({
          name: 'hook',
          payload: (p) => p,
          to: webhookSink({
            url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/h`,
            unsigned: true,
            onWarning: () => {},
          }),
        }),
      )
      // Ratio 0: only records whose caller sampled them are traced, so the test knows which.
      .run({
        batchSize: 64,
        tracing: { ratio: 0, endpoint: `${otlp.endpoint}/v1/traces`, serviceName: 'trace-test' },
      });
    const summary = await run.done;
    assert.equal(summary.counters.processed, N);

    const sampled = Array.from({ length: N }, (_, i) => i).filter((i) => callerOf(i)?.sampled === true);
    const recordSpans = () => otlp.spans.filter((s) => s.name === 'traced process');
    await waitFor(() => recordSpans().length >= sampled.length, 'record spans');
    assert.deepEqual(otlp.rejected, []);
    const records = recordSpans();
    assert.equal(records.length, sampled.length, 'one span per sampled record, none for the others');
    const byParent = new Map<string, ReceivedSpan[]>();
    for (const s of otlp.spans)
      if (s.parentSpanId) byParent.set(s.parentSpanId, [...(byParent.get(s.parentSpanId) ?? []), s]);
    const batchSpans = otlp.spans.filter((s) => s.name.endsWith(' batch'));
    for (const i of sampled) {
      const caller = callerOf(i)!;
      const rec = records.find((s) => s.traceId === caller.traceId);
      assert.ok(rec, `record ${i} is traced in its caller's trace`);
      assert.equal(rec.parentSpanId, caller.spanId, 'the caller’s span is its parent');
      assert.equal(rec.service, 'trace-test');
      assert.equal(rec.attributes['messaging.kafka.offset'], i);
      const stages = (byParent.get(rec.spanId) ?? []).map((s) => s.name);
      for (const stage of ['decode', 'features', 'model', 'sink:action:hook'])
        assert.ok(
          stages.some((n) => n.includes(stage)),
          `record ${i}: a ${stage} stage span among ${stages.join(', ')}`,
        );
      for (const c of byParent.get(rec.spanId)!) {
        assert.ok(
          c.startMs >= rec.startMs - 1 && c.endMs <= rec.endMs + 1,
          'children lie inside the record span',
        );
      }
      for (const stage of ['model', 'sink:action:hook']) {
        const recId = rec.spanId;
        const linked: ReceivedSpan[] = batchSpans.filter(
          (b) => b.name.includes(stage) && b.links.some((l) => l.spanId === recId),
        );
        assert.equal(linked.length, 1, `record ${i}: one ${stage} batch span links to it`);
      }
      const hook = hooks.find((h) => h.id === i)!;
      assert.equal(
        hook.traceparent,
        `00-${caller.traceId}-${rec.spanId}-01`,
        'the webhook continues the trace',
      );
    }
    // One record's tree as the receiver got it, for the record (docs/observe.md shows one).
    const first = records.find((r) => r.traceId === callerOf(sampled[0]!)!.traceId)!;
    const ms = (s: ReceivedSpan) => `${(s.endMs - s.startMs).toFixed(2)} ms`;
    const tree = [`${first.name}  trace ${first.traceId} parent ${first.parentSpanId}  ${ms(first)}`];
    for (const c of (byParent.get(first.spanId) ?? []).sort((a, b) => a.startMs - b.startMs)) {
      const link = batchSpans.find(
        (b) => b.links.some((l) => l.spanId === first.spanId) && b.name.startsWith(c.name),
      );
      tree.push(
        `  ├─ ${c.name}  ${ms(c)}${link ? `  (linked from "${link.name}", ${link.attributes['sluice.batch.size']} records)` : ''}`,
      );
    }
    console.log(`# trace tree:\n# ${tree.join('\n# ')}`);
    // An unsampled caller's traceparent is passed on unchanged (no span of ours in between).
    const unsampled = hooks.find((h) => h.id === 5)!;
    assert.equal(unsampled.traceparent, formatTraceparent(callerOf(5)!));
    assert.equal(hooks.find((h) => h.id === 1)!.traceparent, undefined);
  });

  it(
    '`sluice demo fraud` traces with no code change, from OTEL_* variables alone',
    { timeout: 120_000 },
    async (t) => {
      const otlp = await startOtlpReceiver();
      t.after(() => otlp.close());
      const child = spawn(
        process.execPath,
        [
          'bin/sluice.js',
          'demo',
          'fraud',
          '--events',
          '20000',
          '--data',
          join(dir, 'fraud'),
          '--json',
          '--quiet',
          '--no-dashboard',
          '--no-slo',
        ],
        {
          env: {
            ...process.env,
            OTEL_EXPORTER_OTLP_ENDPOINT: otlp.endpoint,
            OTEL_TRACES_SAMPLER: 'traceidratio',
            OTEL_TRACES_SAMPLER_ARG: '0.01',
            OTEL_SERVICE_NAME: 'fraud-demo',
          },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let stderr = '';
      child.stderr.on('data', (c: Buffer) => (stderr += c));
      const code = await new Promise<number | null>((r) => child.on('exit', r));
      assert.equal(code, 0, stderr);
      await waitFor(() => otlp.spans.some((s) => s.name.endsWith(' batch')), 'spans from the demo');
      const records = otlp.spans.filter((s) => s.name.endsWith(' process') && !s.parentSpanId);
      // 1 % of 20,000 records: about 200 (a binomial draw; 100..320 is far beyond 6 sigma).
      assert.ok(records.length >= 100 && records.length <= 320, `${records.length} record spans`);
      assert.ok(records.every((s) => s.service === 'fraud-demo'));
      const model = otlp.spans.filter((s) => /^infer/.test(s.name) && s.name.endsWith(' batch'));
      assert.ok(model.length > 0, 'model call batch spans');
      assert.ok(
        model.every(
          (b) => b.links.length > 0 && (b.attributes['sluice.batch.size']! as number) >= b.links.length,
        ),
      );
      const ids = new Set(records.map((r) => r.spanId));
      assert.ok(
        model.some((b) => b.links.some((l) => ids.has(l.spanId))),
        'model batch spans link to record spans',
      );
      assert.deepEqual(otlp.rejected, []);
    },
  );
});
