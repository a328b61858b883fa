// A process serving HTTP ingest over a fresh log, for test/reliability/ingest-limits.test.ts
// (which reads its memory from /proc). Settings from the environment:
//   INGEST_DIR          log directory (required)
//   INGEST_MODE         'plain': HttpIngest alone (createTopics on); 'pipeline': httpIngestSource
//                       read by a pipeline whose sink takes INGEST_SINK_DELAY_MS per batch
//   INGEST_OPTIONS      JSON of extra HttpIngest options (maxBacklog, maxInFlightBytes, ...)
// Prints "ingest listening on URL" when ready; stops on SIGTERM, printing how late its own
// timers fired at worst ("max timer delay N ms").

import { HttpIngest, httpIngestSource, type HttpIngestOptions } from '../../src/connectors/index.js';
import { Log } from '../../src/log/index.js';
import { pipeline } from '../../src/stream/index.js';

const log = Log.open(process.env.INGEST_DIR!);
const extra = JSON.parse(process.env.INGEST_OPTIONS ?? '{}') as Partial<HttpIngestOptions>;
const stops: (() => Promise<unknown>)[] = [];

if (process.env.INGEST_MODE === 'pipeline') {
  const delayMs = Number(process.env.INGEST_SINK_DELAY_MS ?? 0);
  let written = 0;
  const run = pipeline('ingest-test')
    .from(
      httpIngestSource({
        log,
        topic: 'events',
        token: '',
        ...extra,
        onListen: (url) => console.log(`ingest listening on ${url}`),
      }),
    )
    .to({
      name: 'slow-sink',
      write: async (records) => {
        written += records.length;
        await new Promise((r) => setTimeout(r, delayMs));
      },
    })
    .run({ batchSize: 500 });
  // The test reads how far the pipeline got from this line.
  const progress = setInterval(() => console.log(`written ${written}`), 200);
  stops.push(async () => {
    clearInterval(progress);
    await run.stop();
  });
} else {
  const ingest = await HttpIngest.start({ log, token: '', createTopics: true, ...extra });
  console.log(`ingest listening on ${ingest.url}`);
  stops.push(() => ingest.close());
}

// How late this process's own timers fire while requests are handled (the issue saw 7 s).
let lastTick = performance.now();
let maxTimerDelayMs = 0;
const ticker = setInterval(() => {
  const now = performance.now();
  maxTimerDelayMs = Math.max(maxTimerDelayMs, now - lastTick - 50);
  lastTick = now;
}, 50);
stops.push(async () => {
  clearInterval(ticker);
  console.log(`max timer delay ${Math.round(maxTimerDelayMs)} ms`);
});

process.once('SIGTERM', () => {
  void (async () => {
    for (const stop of stops) await stop();
    log.close();
    process.exit(0);
  })();
});
