// The record-batch codecs Kafka defines (attributes bits 0-2): none 0, gzip 1, snappy 2, lz4 3,
// zstd 4. A compressed batch keeps its 61-byte header as is; only the records section after it
// is compressed (as one gzip member, one Kafka LZ4 frame, one zstd frame, or snappy: raw, or
// xerial-framed as kafka-python and the Java client's old snappy-java streams write it).
//
// Why these implementations (see docs/log.md, "Compression"):
// - gzip: node:zlib, everywhere.
// - zstd: node:zlib's zstd where Node has it (22.15+, 23.8+); on older Node the decoder is
//   `fzstd` (pure JavaScript, no install step, the zstd decoder of fflate's author). Node 20 has
//   no zstd *encoder* we can ship without a native build, so writing zstd there is refused with
//   a clear error; reading works on every Node version.
// - snappy, lz4: `@platformatic/wasm-utils` (Rust's snap and lz4_flex compiled to WebAssembly,
//   shipped inside the npm package, synchronous): already what @platformatic/kafka uses, so one
//   implementation for both our log and the Kafka client.

import { createRequire } from 'node:module';
import zlib from 'node:zlib';
import { CODEC_NAMES } from './batch-layout.js';
import { LogError } from './errors.js';

/** A codec name as Kafka clients spell it (`compression.type`). */
export type CompressionCodec = (typeof CODEC_NAMES)[number];

/** Decompressed records sections larger than this are refused: a small batch cannot claim gigabytes. */
export const MAX_DECOMPRESSED_BYTES = 256 << 20;

// Loaded on first use: compiling the WebAssembly costs ~70 ms, which every CLI start and every
// process that never meets a compressed batch would pay. (require of these ES modules works from
// Node 20.19, the oldest the package supports.)
const requireLazy = createRequire(import.meta.url);
let wasm: typeof import('@platformatic/wasm-utils') | undefined;
const wasmCodecs = () =>
  (wasm ??= requireLazy('@platformatic/wasm-utils') as typeof import('@platformatic/wasm-utils'));
let fzstd: typeof import('fzstd') | undefined;
const fzstdCodec = () => (fzstd ??= requireLazy('fzstd') as typeof import('fzstd'));

type ZstdZlib = {
  zstdCompressSync?: (buf: Buffer) => Buffer;
  zstdDecompressSync?: (buf: Buffer, opts?: { maxOutputLength?: number }) => Buffer;
};
const nodeZstd = zlib as unknown as ZstdZlib;

/** True when this Node can write zstd batches (node:zlib has zstd from Node 22.15 / 23.8). */
export const zstdWritable = typeof nodeZstd.zstdCompressSync === 'function';

// kafka-python and snappy-java's stream format: magic, version, compatible version, then blocks
// each prefixed by its big-endian int32 length.
const XERIAL_MAGIC = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]);
const XERIAL_HEADER_SIZE = 16;

/** The codec id (0-4) of `name`, or a clear error listing the valid names. */
export function codecId(name: string): number {
  const id = (CODEC_NAMES as readonly string[]).indexOf(name);
  if (id < 0) {
    throw new LogError(
      'SLUICE_LOG_UNSUPPORTED_COMPRESSION',
      `unknown compression "${name}"; use one of ${CODEC_NAMES.join(', ')}`,
    );
  }
  return id;
}

/**
 * Checks that this process can write `name` batches; returns the codec. Call at construction time
 * so a sink fails when it is built, not on its first batch.
 *
 * @example
 * const compression = checkCompression(options.compression ?? 'none');
 */
export function checkCompression(name: string): CompressionCodec {
  codecId(name);
  if (name === 'zstd' && !zstdWritable) {
    throw new LogError(
      'SLUICE_LOG_UNSUPPORTED_COMPRESSION',
      `writing zstd needs Node >= 22.15 (this is ${process.version}; reading zstd works on every version): ` +
        'upgrade Node or choose gzip, snappy or lz4',
    );
  }
  return name as CompressionCodec;
}

/** Compresses a records section with `codec` (never 'none'). */
export function compressRecords(codec: CompressionCodec, data: Buffer): Buffer {
  switch (codec) {
    case 'gzip':
      return zlib.gzipSync(data);
    case 'snappy':
      return wasmCodecs().snappyCompress(data);
    case 'lz4':
      return wasmCodecs().lz4Compress(data);
    case 'zstd':
      checkCompression('zstd');
      return nodeZstd.zstdCompressSync!(data);
    default:
      throw new LogError(
        'SLUICE_LOG_INVALID_ARGUMENT',
        `compressRecords needs a codec other than "${codec}"`,
      );
  }
}

function tooLarge(size: number): Error {
  return new Error(`it claims ${size} bytes decompressed, over the ${MAX_DECOMPRESSED_BYTES}-byte limit`);
}

/** Raw snappy starts with the uncompressed length as a varint: refuse a bomb before decoding. */
function snappyRaw(data: Buffer): Buffer {
  let size = 0;
  for (let i = 0, shift = 0; i < 5 && i < data.length; i++, shift += 7) {
    size += (data[i] & 0x7f) * 2 ** shift;
    if ((data[i] & 0x80) === 0) break;
  }
  if (size > MAX_DECOMPRESSED_BYTES) throw tooLarge(size);
  return wasmCodecs().snappyDecompress(data);
}

function snappyXerial(data: Buffer): Buffer {
  const blocks: Buffer[] = [];
  let total = 0;
  for (let pos = XERIAL_HEADER_SIZE; pos < data.length;) {
    if (pos + 4 > data.length) throw new Error(`xerial block length cut at byte ${pos}`);
    const length = data.readInt32BE(pos);
    pos += 4;
    if (length < 0 || pos + length > data.length)
      throw new Error(`xerial block of ${length} bytes runs past the ${data.length}-byte payload`);
    const block = snappyRaw(data.subarray(pos, pos + length));
    total += block.length;
    if (total > MAX_DECOMPRESSED_BYTES) throw tooLarge(total);
    blocks.push(block);
    pos += length;
  }
  return blocks.length === 1 ? blocks[0] : Buffer.concat(blocks, total);
}

function zstd(data: Buffer): Buffer {
  if (nodeZstd.zstdDecompressSync)
    return nodeZstd.zstdDecompressSync(data, { maxOutputLength: MAX_DECOMPRESSED_BYTES });
  const out = fzstdCodec().decompress(data);
  if (out.length > MAX_DECOMPRESSED_BYTES) throw tooLarge(out.length);
  return Buffer.from(out.buffer, out.byteOffset, out.length);
}

function decompressWith(codec: number, data: Buffer): Buffer {
  switch (codec) {
    case 1:
      return zlib.gunzipSync(data, { maxOutputLength: MAX_DECOMPRESSED_BYTES });
    case 2:
      return data.length >= XERIAL_HEADER_SIZE && data.subarray(0, 8).equals(XERIAL_MAGIC)
        ? snappyXerial(data)
        : snappyRaw(data);
    case 3: {
      const out = wasmCodecs().lz4Decompress(data);
      if (out.length > MAX_DECOMPRESSED_BYTES) throw tooLarge(out.length);
      return out;
    }
    case 4:
      return zstd(data);
    default:
      throw new LogError(
        'SLUICE_LOG_UNSUPPORTED_COMPRESSION',
        `codec ${codec} is not a Kafka codec; Kafka defines none, gzip, snappy, lz4 and zstd`,
      );
  }
}

/**
 * Decompresses the records section of a batch compressed with codec id `codec` (1-4). A payload
 * the codec cannot decode throws a LogError `SLUICE_LOG_CORRUPT` naming the codec and `where` (e.g.
 * "RecordBatch at offset 42"), never a codec library's bare error.
 *
 * @example
 * const records = decompressRecords(1, zlib.gzipSync(section), 'RecordBatch at offset 0');
 */
export function decompressRecords(codec: number, data: Buffer, where: string): Buffer {
  try {
    return decompressWith(codec, data);
  } catch (err) {
    if (err instanceof LogError) throw err;
    const why = err instanceof Error ? err.message : String(err);
    throw new LogError(
      'SLUICE_LOG_CORRUPT',
      `${where} is compressed with ${CODEC_NAMES[codec]} but its ${data.length}-byte payload does not decode ` +
        `(${why}); the producer wrote a damaged batch or the bytes were damaged since`,
      { cause: err },
    );
  }
}
