import { isUtf8 } from 'node:buffer';
import type { Log } from '../log/index.js';
import type { DeadLetter, DeadLetterSink, Decoder } from '../stream/index.js';

/** What the ingest endpoint answers (JSON body plus status). */
export type IngestReply =
  | { status: number; code: string; error: string; refused?: { index: number; reason: string }[] }
  | {
      status: 200;
      topic: string;
      partition: number;
      accepted: number;
      offsets: [first: number, last: number] | null;
      refused?: { index: number; reason: string }[];
    };

const NDJSON = new Set([
  'application/x-ndjson',
  'application/ndjson',
  'application/jsonl',
  'application/x-jsonlines',
]);
const MAX_LISTED = 100;
let turn = 0;

/** Splits an NDJSON body into records (raw bytes per non-empty line; "\r\n" accepted). */
function lines(body: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let pos = 0;
  while (pos < body.length) {
    let nl = body.indexOf(10, pos);
    if (nl < 0) nl = body.length;
    let end = nl;
    if (end > pos && body[end - 1] === 13) end--;
    if (end > pos) out.push(body.subarray(pos, end));
    pos = nl + 1;
  }
  return out;
}

/** A JSON body: one object is one record (its bytes as sent); an array holds one record per element. */
function jsonRecords(body: Buffer): Buffer[] | IngestReply {
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
  return Array.isArray(parsed) ? parsed.map((v) => Buffer.from(JSON.stringify(v) ?? 'null')) : [body];
}

/**
 * Turns a request body into records and appends those that pass the size limit (and the
 * decoder, when one is given) to `topic` in one batch; the others are refused with the reason
 * and written to `deadLetters`.
 */
export async function ingestRecords(
  log: Log,
  topic: string,
  contentType: string | undefined,
  body: Buffer,
  opts: { maxRecordBytes: number; decoder?: Decoder<unknown>; deadLetters?: DeadLetterSink },
): Promise<IngestReply> {
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  let records: Buffer[];
  if (type === 'application/json') {
    const r = jsonRecords(body);
    if (!Array.isArray(r)) return r;
    records = r;
  } else if (NDJSON.has(type)) records = lines(body);
  else
    return {
      status: 415,
      code: 'SLUICE_INGEST_CONTENT_TYPE',
      error: `content-type "${type || '(none)'}" is not accepted; use application/json or application/x-ndjson`,
    };
  if (records.length === 0)
    return { status: 400, code: 'SLUICE_INGEST_EMPTY', error: 'the body holds no records' };

  const partitions = log.partitionCount(topic);
  const partition = turn++ % partitions; // a request stays in one partition, in order
  const keep: Buffer[] = [];
  const refused: { index: number; reason: string }[] = [];
  const letters: DeadLetter[] = [];
  const now = Date.now();
  records.forEach((value, index) => {
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
    if (reason === undefined) return void keep.push(value);
    refused.push({ index, reason });
    letters.push({ stage: 'ingest', reason, original: value, topic, partition, offset: -1, time: now });
  });
  if (letters.length > 0 && opts.deadLetters) {
    await opts.deadLetters.write(letters);
    await opts.deadLetters.flush?.();
  }
  const listed = refused.slice(0, MAX_LISTED);
  if (keep.length === 0)
    return {
      status: 422,
      code: 'SLUICE_INGEST_REFUSED',
      error: `every record was refused${opts.deadLetters ? ' (and dead-lettered)' : ''}: ${refused[0]!.reason}`,
      refused: listed,
    };
  const { baseOffset, lastOffset } = log
    .partition(topic, partition)
    .append(keep.map((value) => ({ value, timestamp: now })));
  return {
    status: 200,
    topic,
    partition,
    accepted: keep.length,
    offsets: [baseOffset, lastOffset],
    ...(refused.length > 0 ? { refused: listed } : {}),
  };
}
