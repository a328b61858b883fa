import { isUtf8 } from 'node:buffer';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { readDeadLetters, replayDeadLetters, type StoredDeadLetter } from '../../connectors/index.js';
import { Log } from '../../log/index.js';
import { UsageError, intFlag, parseFlags, stringFlag } from '../args.js';

export const DLQ_USAGE = `sluice dlq list|show|replay --data DIR [options]

Inspects the dead letters of a pipeline (records that failed to decode or made a stage throw,
each with its reason) and replays them after a fix.

  list            one line per dead letter: offset, time, stage, source, reason
  show OFFSET     one dead letter in full, with its original bytes (text, or hex when not UTF-8)
  replay          append the original bytes back to the topic each came from (its source header),
                  keeping each record's original id (so its actions' idempotency keys); each
                  dead letter is appended once, also when a replay is killed and run again;
                  only dead letters Sluice signed are replayed (key: SLUICE_DLQ_KEY, else
                  dlq.key in the log directory), others are skipped with the reason

  --data DIR      the pipeline's data directory (its log in DIR/log) or a log directory
  --topic T       dead-letter topic (default fraud.dlq)
  --from N        first dead-letter offset (list, replay)
  --to N          replay: stop before this offset
  --limit N       list: at most N lines (default 100)
  --stage S       replay: only dead letters of this stage, e.g. decode (repeatable)
  --dry-run       replay: say what would be replayed, change nothing
  --json          JSON lines (list, show) or one JSON report (replay)

Stop the pipeline first: its log is locked while it runs. Replay appends records, so a pipeline
reading the source topic picks them up on its next run.
`;

function openLog(dir: string): Log {
  const candidates = [join(dir, 'log'), dir];
  const found = candidates.find((d) => existsSync(join(d, 'topics.json')));
  if (!found)
    throw new UsageError(
      `no embedded log in ${dir} (looked for ${candidates.map((d) => join(d, 'topics.json')).join(' and ')})`,
    );
  return Log.open(found);
}

const json = (d: StoredDeadLetter) => ({
  offset: d.offset,
  time: new Date(d.time).toISOString(),
  stage: d.stage,
  reason: d.reason,
  source: d.source,
  bytes: d.value?.length ?? 0,
  value:
    d.value === null
      ? null
      : isUtf8(d.value)
        ? d.value.toString('utf8')
        : { base64: d.value.toString('base64') },
});

// Control characters (C0, DEL, C1 such as CSI \x9b), line and bidi overrides: what a
// terminal would act on or what would make a line lie about its content. Headers and values
// come from whoever produced the record, so none of these reach the terminal raw.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2066-\u2069]/g;
// eslint-disable-next-line no-control-regex -- the same, line breaks and tabs kept
const UNSAFE_KEEP_LINES = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2066-\u2069]/g;
const escapeOne = (c: string) => {
  const n = c.charCodeAt(0);
  return n <= 0xff ? `\\x${n.toString(16).padStart(2, '0')}` : `\\u${n.toString(16).padStart(4, '0')}`;
};

/** Text safe to print: every control character written as \xNN (or \uNNNN). */
export function escapeControls(text: string, keepLines = false): string {
  return text.replace(keepLines ? UNSAFE_KEEP_LINES : UNSAFE, escapeOne);
}

/** JSON.stringify leaves DEL, C1 and bidi controls raw; these are escaped as \uNNNN too. */
const safeJson = (v: unknown) =>
  JSON.stringify(v).replace(UNSAFE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

function line(d: StoredDeadLetter): string {
  const reason = d.reason.length > 100 ? `${d.reason.slice(0, 99)}…` : d.reason;
  return escapeControls(
    `${String(d.offset).padStart(6)}  ${new Date(d.time).toISOString()}  ${d.stage.padEnd(12)}  ${d.source.padEnd(20)}  ${reason}`,
  );
}

function show(d: StoredDeadLetter): string {
  const v = d.value;
  const body =
    v === null
      ? '(null)'
      : isUtf8(v)
        ? escapeControls(v.toString('utf8'), true)
        : `(not UTF-8, ${v.length} bytes, hex)\n${v.toString('hex').replace(/(.{64})/g, '$1\n')}`;
  return [
    `offset:  ${d.offset}`,
    `time:    ${new Date(d.time).toISOString()}`,
    `stage:   ${escapeControls(d.stage)}`,
    `source:  ${escapeControls(d.source)}`,
    `reason:  ${escapeControls(d.reason)}`,
    `bytes:   ${v?.length ?? 0}`,
    '',
    body,
  ].join('\n');
}

export async function dlq(args: string[]): Promise<number> {
  const { values, positionals } = parseFlags(args, {
    data: { type: 'string' },
    topic: { type: 'string' },
    from: { type: 'string' },
    to: { type: 'string' },
    limit: { type: 'string' },
    stage: { type: 'string', multiple: true },
    'dry-run': { type: 'boolean' },
    json: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    process.stdout.write(DLQ_USAGE);
    return 0;
  }
  const [sub, arg, ...extra] = positionals;
  if (!sub || !['list', 'show', 'replay'].includes(sub))
    throw new UsageError(`say what to do: list, show OFFSET or replay${sub ? ` (not "${sub}")` : ''}`);
  if (extra.length > 0 || (sub !== 'show' && arg !== undefined))
    throw new UsageError(`unexpected argument "${extra[0] ?? arg}"`);
  if (values.data === undefined) throw new UsageError('--data DIR is required (the pipeline data directory)');
  const topic = stringFlag(values.topic, 'topic', 'fraud.dlq');
  const from = values.from === undefined ? undefined : intFlag(values.from, 'from', 0);
  const log = openLog(resolve(stringFlag(values.data, 'data', '')));
  try {
    if (sub === 'list') {
      const letters = readDeadLetters(log, topic, { from, limit: intFlag(values.limit, 'limit', 100, 1) });
      if (values.json) for (const d of letters) process.stdout.write(safeJson(json(d)) + '\n');
      else {
        process.stdout.write(
          `${'OFFSET'.padStart(6)}  ${'TIME'.padEnd(24)}  ${'STAGE'.padEnd(12)}  ${'SOURCE'.padEnd(20)}  REASON\n`,
        );
        for (const d of letters) process.stdout.write(line(d) + '\n');
        if (letters.length === 0)
          process.stdout.write(`(no dead letters in ${topic}${from ? ` from offset ${from}` : ''})\n`);
      }
      return 0;
    }
    if (sub === 'show') {
      if (arg === undefined)
        throw new UsageError('show needs the OFFSET of a dead letter (see "sluice dlq list")');
      const offset = intFlag(arg, 'OFFSET', 0);
      const d = readDeadLetters(log, topic, { from: offset, limit: 1 })[0];
      if (!d || d.offset !== offset) throw new UsageError(`no dead letter at offset ${offset} of ${topic}`);
      process.stdout.write((values.json ? safeJson(json(d)) : show(d)) + '\n');
      return 0;
    }
    const stages = values.stage as unknown as string[] | undefined; // parseArgs gives an array with `multiple`
    const report = replayDeadLetters(log, topic, {
      from,
      to: values.to === undefined ? undefined : intFlag(values.to, 'to', 0),
      stages,
      dryRun: values['dry-run'] === true,
    });
    if (values.json) process.stdout.write(safeJson(report) + '\n');
    else {
      const where = Object.entries(report.topics)
        .map(([t, n]) => `${n} to ${t}`)
        .join(', ');
      process.stdout.write(
        `${values['dry-run'] ? 'would replay' : 'replayed'} ${report.replayed} dead letter(s)${where ? ` (${where})` : ''}; next replay starts at offset ${report.next}\n`,
      );
      for (const s of report.skipped.slice(0, 20))
        process.stdout.write(`  skipped ${s.offset}: ${escapeControls(s.why)}\n`);
      if (report.skipped.length > 20)
        process.stdout.write(`  ... and ${report.skipped.length - 20} more skipped\n`);
    }
    return 0;
  } finally {
    log.close();
  }
}
