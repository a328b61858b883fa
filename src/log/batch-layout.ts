// Byte layout of a Kafka RecordBatch v2 header (all big-endian):
//
//   RecordBatch =>
//     baseOffset int64            @0
//     batchLength int32           @8   bytes after this field (= batch size - 12)
//     partitionLeaderEpoch int32  @12
//     magic int8                  @16  = 2
//     crc uint32                  @17  CRC-32C of bytes [21, end)
//     attributes int16            @21  bits 0-2 codec, 3 timestamp type, 4 transactional, 5 control
//     lastOffsetDelta int32       @23
//     baseTimestamp int64         @27
//     maxTimestamp int64          @35
//     producerId int64            @43
//     producerEpoch int16         @51
//     baseSequence int32          @53
//     records count int32         @57
//     records [Record]            @61
//
//   Record =>
//     length varint, attributes int8, timestampDelta varlong, offsetDelta varint,
//     keyLength varint (-1 = null), key bytes, valueLength varint (-1 = null), value bytes,
//     headers count varint, [headerKeyLength varint, key utf8, headerValueLength varint (-1 = null), value]

export const BATCH_HEADER_SIZE = 61;
/** Bytes before the batchLength count starts: baseOffset + batchLength. */
export const LOG_OVERHEAD = 12;
export const MIN_BATCH_LENGTH = BATCH_HEADER_SIZE - LOG_OVERHEAD;
export const CURRENT_MAGIC = 2;

export const OFF_BASE_OFFSET = 0;
export const OFF_BATCH_LENGTH = 8;
export const OFF_LEADER_EPOCH = 12;
export const OFF_MAGIC = 16;
export const OFF_CRC = 17;
export const OFF_ATTRIBUTES = 21;
export const OFF_LAST_OFFSET_DELTA = 23;
export const OFF_BASE_TIMESTAMP = 27;
export const OFF_MAX_TIMESTAMP = 35;
export const OFF_PRODUCER_ID = 43;
export const OFF_PRODUCER_EPOCH = 51;
export const OFF_BASE_SEQUENCE = 53;
export const OFF_RECORD_COUNT = 57;

export const ATTR_CODEC_MASK = 0x07;
export const ATTR_LOG_APPEND_TIME = 0x08;
export const ATTR_TRANSACTIONAL = 0x10;
export const ATTR_CONTROL = 0x20;

export const CODEC_NAMES = ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const;
