import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { checkLog, type LogCheckReport, type LogDamage } from '../../log/index.js';
import { UsageError, parseFlags, stringFlag } from '../args.js';

export const LOG_CHECK_USAGE = `sluice log check --data DIR [--repair] [--json]

Reads every batch of every partition of an embedded log and reports each damaged one: topic,
partition, segment file, byte position, offset range and reason (bad CRC-32C, broken framing,
offsets that do not follow on). Exit status 0 when the log is sound or was repaired, 1 when
damage was found and left in place.

  --data DIR   the pipeline's or broker's data directory (its log in DIR/log) or a log directory
  --repair     set the damage aside: each damaged range moves to DIR/quarantine/ (its bytes and a
               line in quarantine/report.jsonl) and an empty batch keeps its offsets, which
               readers then skip; damage at the end of a partition is cut, as recovery would
  --json       print the report as one JSON object

Stop the pipeline or broker first: the log is locked while it runs. The records of a damaged
batch cannot be read back; re-produce them from their origin if they matter.
`;

function findLogDir(dir: string): string {
  const candidates = [join(dir, 'log'), dir];
  const found = candidates.find((d) => existsSync(join(d, 'topics.json')));
  if (!found)
    throw new UsageError(
      `no embedded log in ${dir} (looked for ${candidates.map((d) => join(d, 'topics.json')).join(' and ')})`,
    );
  return found;
}

function offsets(d: LogDamage): string {
  return d.toOffset === null ? `${d.fromOffset}..end` : `${d.fromOffset}..${d.toOffset - 1}`;
}

function text(r: LogCheckReport): string {
  const lines = r.damage.map(
    (d) =>
      `${d.topic}-${d.partition}  ${d.segment} @${d.position} (${d.bytes} bytes)  offsets ${offsets(d)}: ${d.reason}` +
      (d.quarantined ? `  -> ${d.quarantined}` : ''),
  );
  const ranges = `${r.damage.length} damaged range${r.damage.length === 1 ? '' : 's'}`;
  const summary =
    `checked ${r.partitions} partitions, ${r.segments} segments, ${r.batches} sound batches in ${r.dir}: ` +
    (r.damage.length === 0
      ? 'no damage'
      : r.repaired
        ? `${ranges} set aside (report in ${join(r.dir, 'quarantine', 'report.jsonl')})`
        : `${ranges}; run again with --repair to set them aside`);
  return [...lines, summary].join('\n') + '\n';
}

export async function logCheck(args: string[]): Promise<number> {
  const { values, positionals } = parseFlags(args, {
    data: { type: 'string' },
    repair: { type: 'boolean' },
    json: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    process.stdout.write(LOG_CHECK_USAGE);
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  if (values.data === undefined) throw new UsageError('--data DIR is required (the data or log directory)');
  const dir = findLogDir(resolve(stringFlag(values.data, 'data', '')));
  const report = checkLog(dir, { repair: values.repair === true });
  process.stdout.write(values.json ? JSON.stringify(report) + '\n' : text(report));
  return report.damage.length > 0 && !report.repaired ? 1 : 0;
}
