import { diffFeatureFiles } from '../../train.js';
import { UsageError, intFlag, numberFlag, parseFlags, stringFlag } from '../args.js';

export const FEATURES_DIFF_USAGE = `sluice features diff A.csv B.csv [options]

Parity check: compares the features of the same records in two files, CSV or Parquet (.parquet,
as Sluice writes it), e.g. those computed online ("sluice demo fraud --input FILE.csv
--features-out online.csv") and by a backfill ("sluice train fraud --input FILE.csv
--features-out backfill.parquet"). Times compare as instants. Rows are matched by a key
column; every column both files have is compared. Exits 0 when every record is in both files
and no cell differs, 1 otherwise.

  --key COLUMN        record key (default TRANSACTION_ID, else the first column)
  --tolerance X       numbers equal when |a - b| <= X * max(1, |a|, |b|) (default 1e-9)
  --examples N        mismatches to list (default 10)
  --json              print the whole result as JSON
`;

export async function featuresDiff(args: string[]): Promise<number> {
  const { values, positionals } = parseFlags(args, {
    key: { type: 'string' },
    tolerance: { type: 'string' },
    examples: { type: 'string' },
    json: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    process.stdout.write(FEATURES_DIFF_USAGE);
    return 0;
  }
  // "sluice features diff A B": the sub-command word arrives as the first positional.
  const files = positionals[0] === 'diff' ? positionals.slice(1) : positionals;
  if (positionals[0] !== 'diff' || files.length !== 2)
    throw new UsageError('usage: sluice features diff A.csv B.csv [--key COLUMN] [--tolerance X]');
  const d = diffFeatureFiles(files[0]!, files[1]!, {
    key: values.key === undefined ? undefined : stringFlag(values.key, 'key', ''),
    tolerance: numberFlag(values.tolerance, 'tolerance', 1e-9, 0, 1),
    examples: intFlag(values.examples, 'examples', 10, 0, 10_000),
  });
  const equal = d.mismatches === 0 && d.missingInA === 0 && d.missingInB === 0;
  if (values.json) process.stdout.write(JSON.stringify(d) + '\n');
  else {
    process.stdout.write(
      `${d.matched} records matched on ${d.key}, ${d.columns.length} columns compared: ${d.mismatches} mismatching cells` +
        `, ${d.missingInB} records only in ${files[0]}, ${d.missingInA} only in ${files[1]}\n`,
    );
    for (const [column, n] of Object.entries(d.mismatchesByColumn))
      process.stdout.write(`  ${column}: ${n}\n`);
    for (const e of d.examples) process.stdout.write(`  ${d.key}=${e.key} ${e.column}: ${e.a} vs ${e.b}\n`);
    if (d.onlyInA.length + d.onlyInB.length > 0)
      process.stdout.write(`  not compared (in one file only): ${[...d.onlyInA, ...d.onlyInB].join(', ')}\n`);
  }
  return equal ? 0 : 1;
}
