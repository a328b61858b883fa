// Authenticated dead letters. Anyone who can produce to a dead-letter topic (through the broker,
// say) could otherwise write a record with a hand-made `sluice.dlq.source` header and have
// `sluice dlq replay` append it to any topic of the log. So Sluice signs what it writes: an
// HMAC-SHA256 over the value and every `sluice.dlq.*` header, with a key that producers never
// see, and replay accepts only records whose signature matches. Replayed records carry their
// original record id (`sluice.record-id`, signed the same way), which the log source adopts, so
// a replayed record has the idempotency key it would have had, and replaying it again never
// causes a second effect.
import { createHmac, createSecretKey, randomBytes, timingSafeEqual, type KeyObject } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RecordHeader } from '../log/index.js';
import { ConnectorError } from './errors.js';

/** The environment variable that, when set, holds the dead-letter signing key (16+ characters). */
export const DLQ_KEY_ENV = 'SLUICE_DLQ_KEY';
/** The key file Sluice creates in a log directory when SLUICE_DLQ_KEY is not set. */
export const DLQ_KEY_FILE = 'dlq.key';

/** Headers of signatures and of the record id a replayed record keeps. */
export const SIGNATURE_HEADERS = {
  /** On dead letters: HMAC over the value and the `sluice.dlq.*` headers. */
  deadLetter: 'sluice.dlq.mac',
  /** On replayed records: the id of the record that was dead-lettered. */
  recordId: 'sluice.record-id',
  /** On replayed records: HMAC over the record id and the value. */
  recordIdMac: 'sluice.record-id.mac',
} as const;

const keys = new Map<string, Buffer>();

/**
 * The signing key for dead letters of the log in `logDir`: SLUICE_DLQ_KEY when set, else the
 * 32 random bytes of `logDir/dlq.key`, created (mode 0600) on first use. The file is created
 * under another name and linked into place, so two processes never end up with two keys and a
 * crash never leaves a half-written one.
 *
 * @example
 * const key = deadLetterKey(log.dir);
 */
export function deadLetterKey(logDir: string | undefined): Buffer {
  const fromEnv = process.env[DLQ_KEY_ENV];
  if (fromEnv !== undefined && fromEnv !== '') {
    if (fromEnv.length < 16)
      throw new ConnectorError(
        'SLUICE_DLQ_KEY_INVALID',
        `${DLQ_KEY_ENV} is too short: give at least 16 characters`,
      );
    return Buffer.from(fromEnv, 'utf8');
  }
  if (logDir === undefined)
    throw new ConnectorError(
      'SLUICE_DLQ_KEY_INVALID',
      `no key to sign dead letters with: set ${DLQ_KEY_ENV} (16+ characters), the same for writer and replay`,
    );
  const path = join(logDir, DLQ_KEY_FILE);
  const cached = keys.get(path);
  if (cached) return cached;
  let text: string | undefined;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    mkdirSync(logDir, { recursive: true });
    const tmp = `${path}.${process.pid}.tmp`;
    writeFileSync(tmp, randomBytes(32).toString('hex') + '\n', { mode: 0o600 });
    try {
      linkSync(tmp, path); // fails with EEXIST when another process was first: use its key
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    } finally {
      unlinkSync(tmp);
    }
    text = readFileSync(path, 'utf8');
  }
  if (!/^[0-9a-f]{64}\n?$/.test(text))
    throw new ConnectorError(
      'SLUICE_DLQ_KEY_INVALID',
      `the dead-letter key file ${path} is damaged (expected 64 hex digits); restore it, or remove it to start a new key (dead letters signed with the old one can then not be replayed)`,
    );
  const key = Buffer.from(text.trim(), 'hex');
  keys.set(path, key);
  return key;
}

/** Imported once per key: createHmac with a KeyObject is ~1.5x faster than with the bytes. */
const keyObjects = new WeakMap<Buffer, KeyObject>();

function mac(key: Buffer, domain: string, parts: (Uint8Array | string | null)[]): Buffer {
  let k = keyObjects.get(key);
  if (!k) keyObjects.set(key, (k = createSecretKey(key)));
  // One buffer, one update. Each part is length-prefixed, with null distinct from empty, so no
  // two header sets sign alike.
  const bytes = parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : p));
  let size = 0;
  for (const b of bytes) size += 5 + (b?.length ?? 0);
  const buf = Buffer.allocUnsafe(size);
  let at = 0;
  for (const b of bytes) {
    buf[at] = b === null ? 0 : 1;
    buf.writeUInt32BE(b?.length ?? 0, at + 1);
    at += 5;
    if (b) at += Buffer.from(b.buffer, b.byteOffset, b.byteLength).copy(buf, at);
  }
  return createHmac('sha256', k).update(domain).update(buf).digest();
}

const equalMac = (got: Buffer | null | undefined, want: Buffer) =>
  got !== null && got !== undefined && got.length === want.length && timingSafeEqual(got, want);

const isDlqHeader = (h: RecordHeader) =>
  h.key.startsWith('sluice.dlq.') && h.key !== SIGNATURE_HEADERS.deadLetter;

/** The signature header of a dead letter with this value and these `sluice.dlq.*` headers. */
export function signDeadLetter(
  key: Buffer,
  value: Uint8Array | null,
  headers: readonly RecordHeader[],
): RecordHeader {
  return {
    key: SIGNATURE_HEADERS.deadLetter,
    value: Buffer.from(deadLetterMac(key, value, headers).toString('hex')),
  };
}

function deadLetterMac(key: Buffer, value: Uint8Array | null, headers: readonly RecordHeader[]): Buffer {
  const signed = headers.filter(isDlqHeader);
  return mac(key, 'sluice.dlq.v1', [value, ...signed.flatMap((h) => [h.key, h.value ?? null])]);
}

/**
 * Why a dead letter is not one Sluice wrote with `key`, or undefined when its signature
 * matches: no signature, or a value or `sluice.dlq.*` header changed since it was signed.
 */
export function deadLetterForgery(
  key: Buffer,
  value: Uint8Array | null,
  headers: readonly RecordHeader[],
): string | undefined {
  const sig = headers.find((h) => h.key === SIGNATURE_HEADERS.deadLetter)?.value;
  if (!sig) return `no ${SIGNATURE_HEADERS.deadLetter} signature: not written by Sluice`;
  const want = deadLetterMac(key, value, headers);
  const got = Buffer.from(Buffer.from(sig).toString('latin1'), 'hex');
  if (!equalMac(got, want))
    return `${SIGNATURE_HEADERS.deadLetter} does not match: changed after Sluice wrote it, or signed with another key (${DLQ_KEY_ENV} or ${DLQ_KEY_FILE})`;
  return undefined;
}

/** The header naming the dead letter a replayed record came from: "dlq-topic@offset". */
export const REPLAYED_FROM_HEADER = 'sluice.dlq.replayed-from';

/**
 * The headers of a replayed record: the dead letter it came from, the id of the record it
 * replays, and a signature over both and the value.
 */
export function replayHeaders(
  key: Buffer,
  id: string,
  replayedFrom: string,
  value: Uint8Array | null,
): RecordHeader[] {
  return [
    { key: REPLAYED_FROM_HEADER, value: Buffer.from(replayedFrom) },
    { key: SIGNATURE_HEADERS.recordId, value: Buffer.from(id) },
    {
      key: SIGNATURE_HEADERS.recordIdMac,
      value: Buffer.from(mac(key, 'sluice.record-id.v1', [id, replayedFrom, value]).toString('hex')),
    },
  ];
}

/**
 * What a correctly signed replayed record says: the id of the record it replays and the dead
 * letter it came from. Undefined for any other record (no such headers, or headers that Sluice
 * did not sign: its position is its id then). `key` is asked only when the headers are there.
 */
export function signedReplay(
  key: () => Buffer,
  value: Uint8Array | null,
  headers: readonly RecordHeader[],
): { id: string; replayedFrom: string } | undefined {
  const get = (name: string) => headers.find((h) => h.key === name)?.value;
  const id = get(SIGNATURE_HEADERS.recordId);
  const from = get(REPLAYED_FROM_HEADER);
  const sig = get(SIGNATURE_HEADERS.recordIdMac);
  if (!id || !from || !sig) return undefined;
  const replay = { id: Buffer.from(id).toString('utf8'), replayedFrom: Buffer.from(from).toString('utf8') };
  const want = mac(key(), 'sluice.record-id.v1', [replay.id, replay.replayedFrom, value]);
  return equalMac(Buffer.from(Buffer.from(sig).toString('latin1'), 'hex'), want) ? replay : undefined;
}
