import { isUtf8 } from 'node:buffer';
import { existsSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { wallClockMs } from '../observe/index.js';
import {
  envelope,
  offsetKey,
  requireOption,
  type Envelope,
  type JsonSchema,
  type Source,
  type SourceContext,
  type SourceOffsets,
} from '../stream/index.js';
import { csvRowObject, opensQuote, parseCsvRecord } from './csv.js';
import { ConnectorError } from './errors.js';
import { LineReader, countLines } from './line-reader.js';

export interface FileSourceOptions {
  path: string;
  /** Default from the extension: `.csv` is CSV (first line = header), anything else NDJSON. */
  format?: 'ndjson' | 'csv';
  /** Topic name in offsets, record ids and dead letters. Default: the file name without extension. */
  topic?: string;
  /** Events per second to replay at; default as fast as the pipeline reads. */
  rate?: number;
  /** Field (NDJSON) or column (CSV) holding the event time: epoch ms, epoch s (timeUnit) or ISO-8601. */
  eventTime?: string;
  /** Unit of numeric event times. Default 'ms'. */
  timeUnit?: 'ms' | 's';
  /** CSV: the types to convert cells to (the same schema the pipeline decodes with). */
  schema?: JsonSchema;
  /** CSV delimiter. Default ','. */
  delimiter?: string;
  /** Longest CSV record (quoted newlines included) before it is cut and sent on as is. Default 1 MiB. */
  maxRecordBytes?: number;
}

/**
 * Replays a CSV or NDJSON file as a stream: records as Buffers (NDJSON lines as they are, CSV
 * rows as JSON objects of the header's columns), offsets = record numbers, so a checkpointed
 * run resumes at the next record. A line that is not valid (bad UTF-8, a broken CSV quote, too
 * many cells) is passed on as its raw bytes, and the pipeline's decoder sends it to the dead
 * letters with the reason.
 *
 * @example
 * const source = fileSource({ path: './tx.csv', schema: TX_SCHEMA, eventTime: 'ts', rate: 5000 });
 * pipeline('replay').from(source).decode(json(TX_SCHEMA))...
 */
export function fileSource(opts: FileSourceOptions): Source<Buffer> {
  const { path } = opts;
  const format = opts.format ?? (extname(path).toLowerCase() === '.csv' ? 'csv' : 'ndjson');
  requireOption(
    format === 'csv' || format === 'ndjson',
    `fileSource: format must be "csv" or "ndjson", got "${format}"`,
  );
  requireOption(
    opts.rate === undefined || opts.rate > 0,
    `fileSource: rate must be > 0 events/s, got ${opts.rate}`,
  );
  const delimiter = opts.delimiter ?? ',';
  requireOption(
    delimiter.length === 1 && delimiter !== '"',
    'fileSource: delimiter must be one character other than "',
  );
  const topic = opts.topic ?? (basename(path, extname(path)) || 'file');
  const key = offsetKey(topic, 0);
  const maxRecordBytes = opts.maxRecordBytes ?? 1 << 20;
  const scale = opts.timeUnit === 's' ? 1000 : 1;
  let reader: LineReader | undefined;
  let header: string[] | undefined;
  let next = 0;
  let total = 0;
  let started = 0;
  let emitted = 0;

  /** The next record's bytes (CSV records may span lines inside quotes), or null at the end. */
  const nextRecord = (): Buffer | null => {
    for (;;) {
      let line = reader!.next();
      if (line === null) return null;
      if (format === 'csv' && opensQuote(line)) {
        const parts = [line];
        let size = line.length;
        while (opensQuote(Buffer.concat(parts)) && size <= maxRecordBytes) {
          const more = reader!.next();
          if (more === null) break;
          parts.push(Buffer.from('\n'), more);
          size += more.length + 1;
        }
        line = Buffer.concat(parts);
      }
      if (line.length > 0) return line; // blank lines are not records
    }
  };

  const timeOf = (v: unknown, fallback: number): number => {
    if (typeof v === 'number' && Number.isFinite(v)) return v * scale;
    if (typeof v === 'string' && v !== '') {
      const n = Number(v);
      if (Number.isFinite(n)) return n * scale;
      const d = Date.parse(v);
      if (Number.isFinite(d)) return d;
    }
    return fallback;
  };

  /** The record as it goes to the decoder, and its event time when the file has one. */
  const convert = (raw: Buffer, now: number): { value: Buffer; time: number } => {
    if (!isUtf8(raw) || raw.length > maxRecordBytes) return { value: raw, time: now };
    if (format === 'ndjson') {
      if (!opts.eventTime) return { value: raw, time: now };
      try {
        const obj = JSON.parse(raw.toString('utf8')) as Record<string, unknown> | null;
        return { value: raw, time: timeOf(obj?.[opts.eventTime], now) };
      } catch {
        return { value: raw, time: now };
      }
    }
    const cells = parseCsvRecord(raw.toString('utf8'), delimiter);
    if (cells === null || cells.length > header!.length) return { value: raw, time: now };
    const obj = csvRowObject(header!, cells, opts.schema);
    return {
      value: Buffer.from(JSON.stringify(obj)),
      time: opts.eventTime ? timeOf(obj[opts.eventTime], now) : now,
    };
  };

  return {
    name: `file:${topic}`,
    sharesStamps: true,
    async open(ctx: SourceContext) {
      if (!existsSync(path))
        throw new ConnectorError(
          'SLUICE_SOURCE_UNAVAILABLE',
          `fileSource: ${path} does not exist; check the path (relative paths start at ${process.cwd()})`,
        );
      total = countLines(path);
      reader = new LineReader(path);
      if (format === 'csv') {
        const h = reader.next();
        if (h === null)
          throw new ConnectorError(
            'SLUICE_SOURCE_UNAVAILABLE',
            `fileSource: ${path} is empty; a CSV file starts with a header line`,
          );
        header = parseCsvRecord(h.toString('utf8').replace(/^\uFEFF/, ''), delimiter) ?? [];
        total--;
      }
      const skip = ctx.startOffsets?.[key] ?? 0;
      while (next < skip && nextRecord() !== null) next++;
      started = performance.now();
    },
    async poll(max: number): Promise<Envelope<Buffer>[] | null> {
      if (opts.rate) {
        const due = Math.floor(((performance.now() - started) / 1000) * opts.rate) - emitted;
        if (due <= 0) {
          await new Promise((resolve) => setTimeout(resolve, Math.min(20, Math.max(1, 1000 / opts.rate!))));
          return [];
        }
        max = Math.min(max, due);
      }
      const out: Envelope<Buffer>[] = [];
      const now = wallClockMs();
      const stamps = [now];
      while (out.length < max) {
        const raw = nextRecord();
        if (raw === null) break;
        const { value, time } = convert(raw, now);
        const env = envelope(value, topic, 0, next++, now, stamps);
        env.eventTime = time;
        out.push(env);
      }
      emitted += out.length;
      return out.length === 0 ? null : out;
    },
    positions(): SourceOffsets {
      return { [key]: next };
    },
    lag() {
      return Math.max(0, total - next);
    },
    async close() {
      reader?.close();
    },
  };
}
