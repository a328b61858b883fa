// Child process of dlq-replay.test.ts: runs one dead-letter replay on a data dir and SIGKILLs
// itself right after the named durable step, as a crash at exactly that point would.
// Usage: node --import tsx dlq-replay-driver.ts LOGDIR DLQTOPIC STEP[#N]   (STEP: intent, appended, committed)
import { Log } from '../../src/log/index.js';
import { replayDeadLetters } from '../../src/connectors/index.js';

const [dir, topic, killAt] = process.argv.slice(2) as [string, string, string];
const [step, nth] = killAt.split('#') as [string, string | undefined];
let seen = 0;
const log = Log.open(dir);
const report = replayDeadLetters(log, topic, {
  onStep: (s) => {
    if (s === step && ++seen === Number(nth ?? 1)) process.kill(process.pid, 'SIGKILL');
  },
});
log.close();
process.stdout.write(JSON.stringify(report) + '\n');
