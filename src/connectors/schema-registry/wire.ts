import { DecodeError } from '../../stream/index.js';

/**
 * The Confluent wire format: byte 0 is the magic byte 0, bytes 1-4 the schema id (big-endian),
 * then the payload. Protobuf payloads start with the message indexes (see `readMessageIndexes`).
 */
export const HEADER_BYTES = 5;

/** The schema id of a framed record, or undefined where `raw` is not one (decode says why). */
export function peekSchemaId(raw: unknown): number | undefined {
  if (!(raw instanceof Uint8Array) || raw.length < HEADER_BYTES || raw[0] !== 0) return undefined;
  return ((raw[1]! << 24) >>> 0) + (raw[2]! << 16) + (raw[3]! << 8) + raw[4]!;
}

/** The schema id of a framed record; a DecodeError says what is wrong with one that is not. */
export function readSchemaId(raw: unknown): number {
  if (raw === null || raw === undefined) throw new DecodeError('record has no value (null)');
  if (!(raw instanceof Uint8Array))
    throw new DecodeError(`expected bytes in the Confluent wire format, got ${typeof raw}`);
  if (raw.length < HEADER_BYTES)
    throw new DecodeError(
      `record of ${raw.length} bytes is too short for the Confluent wire format (magic byte 0 + 4-byte schema id + payload)`,
    );
  if (raw[0] !== 0)
    throw new DecodeError(
      `record is not in the Confluent wire format: first byte is ${raw[0]}, expected the magic byte 0`,
    );
  return peekSchemaId(raw)!;
}

/** The payload after the header, as a Buffer view (no copy). */
export function payloadOf(raw: Uint8Array, from = HEADER_BYTES): Buffer {
  return Buffer.from(raw.buffer, raw.byteOffset + from, raw.length - from);
}

/**
 * Reads the Protobuf message indexes after the header: a zigzag varint count, then that many
 * zigzag varints (the path to the message type in the .proto file: top-level index, then
 * nested ones); a count of 0 stands for [0], the first message. Returns the path and where the
 * message bytes start.
 */
export function readMessageIndexes(raw: Uint8Array): { path: number[]; start: number } {
  let pos = HEADER_BYTES;
  const next = (): number => {
    let result = 0;
    let shift = 0;
    for (;;) {
      if (pos >= raw.length) throw new DecodeError('truncated Protobuf message indexes after the schema id');
      const b = raw[pos++]!;
      result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) break;
      shift += 7;
      if (shift > 28)
        throw new DecodeError('malformed Protobuf message indexes: a varint longer than 5 bytes');
    }
    return result % 2 === 0 ? result / 2 : -(result + 1) / 2; // zigzag
  };
  const count = next();
  if (count === 0) return { path: [0], start: pos };
  if (count < 0 || count > 100)
    throw new DecodeError(`malformed Protobuf message indexes: count ${count} (expected 0-100)`);
  const path: number[] = [];
  for (let i = 0; i < count; i++) {
    const index = next();
    if (index < 0) throw new DecodeError(`malformed Protobuf message indexes: negative index ${index}`);
    path.push(index);
  }
  return { path, start: pos };
}
