// Record shapes shared by the log's encoder, decoder, partitions and their callers.

/** A record header: a UTF-8 key and an optional binary value. */
export interface RecordHeader {
  key: string;
  value: Buffer | null;
}

/** A record as a producer hands it to the log; the log assigns its offset. */
export interface ProducerRecord {
  key?: Buffer | null;
  value: Buffer | null;
  /** Milliseconds since the epoch; defaults to the append time. */
  timestamp?: number;
  headers?: readonly RecordHeader[];
}

/**
 * A record read back from the log. `key` and `value` are zero-copy views of the read buffer:
 * copy them (`Buffer.from(v)`) to keep them beyond the records' lifetime cheaply.
 * `headers` is a shared frozen empty array when the record has none, hence readonly.
 */
export interface LogRecord {
  offset: number;
  timestamp: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: readonly RecordHeader[];
}

/** The fields of a RecordBatch v2 header that readers need without decoding records. */
export interface BatchHeaderSummary {
  baseOffset: number;
  /** Bytes after the batchLength field: the whole batch is `batchLength + 12` bytes. */
  batchLength: number;
  magic: number;
  crc: number;
  attributes: number;
  lastOffsetDelta: number;
  maxTimestamp: number;
  recordCount: number;
}

/** Every field of a RecordBatch v2 header. */
export interface BatchHeader extends BatchHeaderSummary {
  partitionLeaderEpoch: number;
  baseTimestamp: number;
  producerId: number;
  producerEpoch: number;
  baseSequence: number;
}

/** A decoded RecordBatch v2. */
export interface RecordBatch extends BatchHeader {
  records: LogRecord[];
}
