/**
 * A training set's file: typed columns (the feature names are the column names) written row by
 * row as CSV or Parquet, chosen by the file's extension (`.parquet`) or by name. Both stream:
 * CSV lines go out every few thousand rows, Parquet one row group at a time.
 */
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname, extname } from 'node:path';
import { SluiceError } from '../core/errors.js';
import { ParquetWriter, type ParquetColumn } from '../core/parquet-writer.js';

export type TrainingSetFormat = 'csv' | 'parquet';
export const TRAINING_SET_FORMATS: readonly TrainingSetFormat[] = ['csv', 'parquet'];

/** A training set being written; `appendRow` takes the values in column order (the array may be reused). */
export interface TrainingSetFile {
  readonly path: string;
  readonly format: TrainingSetFormat;
  appendRow(values: ArrayLike<unknown>): void;
  close(): void;
}

/**
 * The format of `path`: `format` when given, else Parquet for `.parquet`/`.parq`, else CSV.
 *
 * @example
 * trainingSetFormat('set.parquet'); // 'parquet'
 */
export function trainingSetFormat(path: string, format?: string): TrainingSetFormat {
  if (format !== undefined) {
    if (!(TRAINING_SET_FORMATS as readonly string[]).includes(format))
      throw new SluiceError(
        'SLUICE_OPTION_INVALID',
        `training set format must be csv or parquet, got "${format}"`,
      );
    return format as TrainingSetFormat;
  }
  const ext = extname(path).toLowerCase();
  return ext === '.parquet' || ext === '.parq' ? 'parquet' : 'csv';
}

/** CSV text of a value: timestamps as ISO 8601 UTC, nulls empty, numbers as JavaScript prints them. */
const cell = (type: ParquetColumn['type'], v: unknown): string =>
  v === null || v === undefined
    ? ''
    : type === 'timestamp-ms'
      ? new Date(v instanceof Date ? v.getTime() : (v as number)).toISOString()
      : String(v);

class CsvTrainingSet implements TrainingSetFile {
  readonly format = 'csv';
  private readonly fd: number;
  private lines: string[] = [];
  private readonly parts: string[];

  constructor(
    readonly path: string,
    private readonly columns: readonly ParquetColumn[],
  ) {
    mkdirSync(dirname(path), { recursive: true });
    this.fd = openSync(path, 'w');
    writeSync(this.fd, columns.map((c) => c.name).join(',') + '\n');
    this.parts = new Array<string>(columns.length);
  }

  appendRow(values: ArrayLike<unknown>): void {
    for (let i = 0; i < this.columns.length; i++) this.parts[i] = cell(this.columns[i]!.type, values[i]);
    this.lines.push(this.parts.join(','));
    if (this.lines.length >= 4096) this.flush();
  }

  private flush(): void {
    if (this.lines.length > 0) writeSync(this.fd, this.lines.join('\n') + '\n');
    this.lines = [];
  }

  close(): void {
    try {
      this.flush();
    } finally {
      closeSync(this.fd);
    }
  }
}

/**
 * Opens a training set file for writing (CSV or Parquet, see {@link trainingSetFormat}).
 *
 * @example
 * const set = openTrainingSet('fraud.training.parquet', [
 *   { name: 'event_time', type: 'timestamp-ms' },
 *   { name: 'TX_FRAUD', type: 'int64' },
 *   { name: 'TX_AMOUNT', type: 'double' },
 * ]);
 * set.appendRow([Date.now(), 0, 42.5]);
 * set.close();
 */
export function openTrainingSet(
  path: string,
  columns: readonly ParquetColumn[],
  opts: { format?: string; metadata?: Record<string, string> } = {},
): TrainingSetFile {
  if (trainingSetFormat(path, opts.format) === 'csv') return new CsvTrainingSet(path, columns);
  const w = new ParquetWriter(path, columns, { metadata: opts.metadata });
  return { path, format: 'parquet', appendRow: (v) => w.appendRow(v), close: () => w.close() };
}
