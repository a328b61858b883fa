import { isUtf8 } from 'node:buffer';
import type { SluiceErrorCode } from '../core/errors.js';
import { traceHeaders } from './trace-header.js';
import type { Log, RecordHeader } from '../log/index.js';
import type { DeadLetter, DeadLetterSink, Decoder } from '../stream/index.js';

/** The `code` of a refused ingest request (its part of the one list in `core/errors.ts`). */
export type IngestCode = Extract<SluiceErrorCode, `SLUICE_INGEST_${string}`>;

/** What the ingest endpoint answers (JSON body plus status). */
export type IngestReply =
  | { status: number; code: IngestCode; error: string; refused?: { index: number; reason: string }[] }
  | {
      status: 200;
      topic: string;
      partition: number;
      accepted: number;
      offsets: [first: number, last: number] | null;
      /** The first 100 refused records with their reasons. */
      refused?: { index: number; reason: string }[];
      /** How many were refused in all (when any were). */
      refusedCount?: number;
    };

const NDJSON = new Set([
  'application/x-ndjson',
  'application/ndjson',
  'application/jsonl',
  'application/x-jsonlines',
]);
const MAX_LISTED = 100;
/**
 * Records handled (checked, dead-lettered, appended as one batch) at a time. A body of millions
 * of tiny records never exists as millions of objects at once, and the event loop gets a turn
 * between slices, so the process's timers and other requests are not held up for seconds.
 */
const SLICE_RECORDS = 4096;
const SLICE_BYTES = 512 << 10;
let turn = 0;

/**
 * The records of a body, handed out a slice at a time: the non-empty lines of an NDJSON body
 * ("\r\n" accepted), or the whole body as one record.
 */
class RecordSlices {
  private pos = 0;

  private constructor(
    private readonly body: Buffer,
    private readonly whole: boolean,
  ) {}

  static lines(body: Buffer): RecordSlices {
    return new RecordSlices(body, false);
  }

  static one(body: Buffer): RecordSlices {
    return new RecordSlices(body, true);
  }

  /** The next records (possibly none when only empty lines were left), or null at the end. */
  next(): Buffer[] | null {
    const body = this.body;
    if (this.pos >= body.length) return null;
    if (this.whole) {
      this.pos = body.length;
      return [body];
    }
    const out: Buffer[] = [];
    let bytes = 0;
    while (this.pos < body.length && out.length < SLICE_RECORDS && bytes < SLICE_BYTES) {
      let nl = body.indexOf(10, this.pos);
      if (nl < 0) nl = body.length;
      let end = nl;
      if (end > this.pos && body[end - 1] === 13) end--;
      if (end > this.pos) out.push(body.subarray(this.pos, end));
      bytes += nl + 1 - this.pos;
      this.pos = nl + 1;
    }
    return out;
  }
}

/**
 * A JSON body: one object is one record (its bytes as sent); an array holds one record per
 * element, re-serialised at once into one newline-separated buffer (JSON.stringify escapes
 * newlines inside strings) so the parsed tree can be dropped before the records are handled.
 */
function jsonRecords(body: Buffer): RecordSlices | IngestReply {
  if (!isUtf8(body))
    return { status: 400, code: 'SLUICE_INGEST_BAD_JSON', error: 'body is not valid UTF-8; send UTF-8 JSON' };
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch (e) {
    return {
      status: 400,
      code: 'SLUICE_INGEST_BAD_JSON',
      error: `malformed JSON body: ${(e as Error).message}; send one JSON value, or NDJSON (content-type application/x-ndjson) to have bad lines dead-lettered one by one`,
    };
  }
  if (!Array.isArray(parsed)) return RecordSlices.one(body);
  const text = parsed.map((v: unknown) => JSON.stringify(v) ?? 'null').join('\n');
  return RecordSlices.lines(Buffer.from(text));
}

/** Appends to one partition wait for each other, so a request's slices get consecutive offsets. */
const partitionTurns = new WeakMap<Log, Map<string, Promise<unknown>>>();

function inPartitionTurn<T>(log: Log, key: string, fn: () => Promise<T>): Promise<T> {
  let turns = partitionTurns.get(log);
  if (turns === undefined) partitionTurns.set(log, (turns = new Map()));
  const run = (turns.get(key) ?? Promise.resolve()).then(fn);
  const tail = run.catch(() => {});
  turns.set(key, tail);
  void tail.then(() => {
    if (turns.get(key) === tail) turns.delete(key);
  });
  return run;
}

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Turns a request body into records and appends those that pass the size limit (and the
 * decoder, when one is given) to `topic`, a slice of up to 4,096 records per batch, yielding to
 * the event loop between slices; the others are refused with the reason and written to
 * `deadLetters`. A request's records land in one partition at consecutive offsets.
 */
/** How a request's records are checked and appended. */
export interface IngestBodyOptions {
  maxRecordBytes: number;
  decoder?: Decoder<unknown>;
  deadLetters?: DeadLetterSink;
  /** The request's `traceparent` header: stored on each record, so its trace goes on. */
  traceparent?: string | string[];
}

export async function ingestRecords(
  log: Log,
  topic: string,
  contentType: string | undefined,
  body: Buffer,
  opts: IngestBodyOptions,
): Promise<IngestReply> {
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  let slices: RecordSlices;
  if (type === 'application/json') {
    const r = jsonRecords(body);
    if (!(r instanceof RecordSlices)) return r;
    slices = r;
  } else if (NDJSON.has(type)) slices = RecordSlices.lines(body);
  else
    return {
      status: 415,
      code: 'SLUICE_INGEST_CONTENT_TYPE',
      error: `content-type "${type || '(none)'}" is not accepted; use application/json or application/x-ndjson`,
    };
  const partitions = log.partitionCount(topic);
  const partition = turn++ % partitions; // a request stays in one partition, in order
  return inPartitionTurn(log, `${topic}/${partition}`, () =>
    appendSlices(log, topic, partition, slices, opts),
  );
}

async function appendSlices(
  log: Log,
  topic: string,
  partition: number,
  slices: RecordSlices,
  opts: IngestBodyOptions,
): Promise<IngestReply> {
  const headers = traceHeaders(opts.traceparent);
  const refused: { index: number; reason: string }[] = [];
  let refusedCount = 0;
  let firstReason = '';
  let accepted = 0;
  let index = 0;
  let offsets: [number, number] | null = null;
  const now = Date.now();
  for (let records = slices.next(); records !== null; records = slices.next()) {
    const keep: { value: Buffer; headers?: RecordHeader[] }[] = [];
    const letters: DeadLetter[] = [];
    for (const value of records) {
      let reason: string | undefined;
      if (value.length > opts.maxRecordBytes)
        reason = `record of ${value.length} bytes exceeds the ${opts.maxRecordBytes}-byte limit`;
      else if (opts.decoder) {
        try {
          opts.decoder.decode(value);
        } catch (e) {
          reason = (e as Error).message;
        }
      }
      if (reason === undefined) keep.push(headers === undefined ? { value } : { value, headers });
      else {
        if (refusedCount++ === 0) firstReason = reason;
        if (refused.length < MAX_LISTED) refused.push({ index, reason });
        letters.push({ stage: 'ingest', reason, original: value, topic, partition, offset: -1, time: now });
      }
      index++;
    }
    if (letters.length > 0 && opts.deadLetters) await opts.deadLetters.write(letters);
    if (keep.length > 0) {
      const { baseOffset, lastOffset } = log.partition(topic, partition).append(keep, now);
      offsets = [offsets?.[0] ?? baseOffset, lastOffset];
      accepted += keep.length;
    }
    await nextTurn();
  }
  if (refusedCount > 0 && opts.deadLetters) await opts.deadLetters.flush?.();
  if (index === 0) return { status: 400, code: 'SLUICE_INGEST_EMPTY', error: 'the body holds no records' };
  if (accepted === 0)
    return {
      status: 422,
      code: 'SLUICE_INGEST_REFUSED',
      error: `every record was refused${opts.deadLetters ? ' (and dead-lettered)' : ''}: ${firstReason}`,
      refused,
    };
  return {
    status: 200,
    topic,
    partition,
    accepted,
    offsets,
    ...(refusedCount > 0 ? { refused, refusedCount } : {}),
  };
}
