// Appends one producer's RecordBatch to a partition the way a Kafka broker does: exactly one
// batch per partition (Produce v3+), idempotent-producer sequence checks, transactional batches
// checked against their transaction, the log's validation (magic, CRC, framing, codec, size)
// mapped to Kafka error codes.

import { LogError, type Partition } from '../log/index.js';
import type { BrokerState } from './apis/api.js';
import { KafkaCode } from './protocol/error-codes.js';

// RecordBatch v2 header offsets used here (see src/log/batch-layout.ts for the whole layout).
const HEADER = 61;
const OFF_BATCH_LENGTH = 8;
const OFF_LEADER_EPOCH = 12;
const OFF_ATTRIBUTES = 21;
const OFF_PRODUCER_ID = 43;
const OFF_PRODUCER_EPOCH = 51;
const OFF_BASE_SEQUENCE = 53;
const OFF_RECORD_COUNT = 57;
const ATTR_TRANSACTIONAL = 0x10;

/** The outcome for one partition of a Produce request. */
export interface AppendOutcome {
  code: number;
  baseOffset: number;
  message: string | null;
}

function fail(code: number, message: string): AppendOutcome {
  return { code, baseOffset: -1, message };
}

/** Kafka's error code for a LogError raised while appending. */
export function kafkaCodeOf(err: unknown): number {
  if (!(err instanceof LogError)) return KafkaCode.UNKNOWN_SERVER_ERROR;
  switch (err.code) {
    case 'SLUICE_LOG_CORRUPT':
      return KafkaCode.CORRUPT_MESSAGE;
    case 'SLUICE_LOG_UNSUPPORTED_MAGIC':
      return KafkaCode.UNSUPPORTED_FOR_MESSAGE_FORMAT;
    case 'SLUICE_LOG_INVALID_BATCH':
      return KafkaCode.INVALID_RECORD;
    case 'SLUICE_LOG_UNSUPPORTED_COMPRESSION':
      return KafkaCode.UNSUPPORTED_COMPRESSION_TYPE;
    case 'SLUICE_LOG_BATCH_TOO_LARGE':
      return KafkaCode.MESSAGE_TOO_LARGE;
    case 'SLUICE_LOG_IO_ERROR':
    case 'SLUICE_LOG_CLOSED':
      return KafkaCode.KAFKA_STORAGE_ERROR;
    default:
      return KafkaCode.UNKNOWN_SERVER_ERROR;
  }
}

/** Why a batch does not fit its producer's transaction (or lacks one), or null when it may be written. */
function transactionRefusal(
  broker: BrokerState,
  transactionalId: string | null,
  records: Buffer,
  producerId: number,
  epoch: number,
  topic: string,
  index: number,
): AppendOutcome | null {
  const transactional = (records.readInt16BE(OFF_ATTRIBUTES) & ATTR_TRANSACTIONAL) !== 0;
  if (transactionalId === null && !transactional) return null;
  if (transactionalId === null || !transactional) {
    return fail(
      KafkaCode.INVALID_TXN_STATE,
      transactional
        ? `partition ${index}: a transactional batch needs the producer's transactional_id in the request`
        : `partition ${index}: a request with a transactional_id must carry transactional batches`,
    );
  }
  const code = broker.txns.checkProduce(transactionalId, producerId, epoch, topic, index);
  if (code === 0) return null;
  const why: Record<number, string> = {
    [KafkaCode.INVALID_PRODUCER_ID_MAPPING]: `producer ${producerId} is not the producer of transactional id ${JSON.stringify(transactionalId)}`,
    [KafkaCode.INVALID_PRODUCER_EPOCH]: `producer ${producerId} epoch ${epoch} is fenced: a newer instance of ${JSON.stringify(transactionalId)} exists`,
    [KafkaCode.INVALID_TXN_STATE]: `${topic}-${index} is not in an open transaction of ${JSON.stringify(transactionalId)}: call AddPartitionsToTxn first`,
  };
  return fail(code, why[code] ?? `transaction of ${JSON.stringify(transactionalId)} is being ended`);
}

/**
 * Validates and appends `records` (one RecordBatch v2 from a producer) to `partition` of
 * `topic`. The buffer's partitionLeaderEpoch is overwritten in place (it is outside the CRC).
 */
export function appendProducerBatch(
  broker: BrokerState,
  topic: string,
  index: number,
  partition: Partition,
  records: Buffer | null,
  transactionalId: string | null = null,
): AppendOutcome {
  if (records === null || records.length < HEADER) {
    return fail(
      KafkaCode.CORRUPT_MESSAGE,
      `partition ${index}: records are missing or shorter than a batch header`,
    );
  }
  if (records.readInt32BE(OFF_BATCH_LENGTH) + 12 !== records.length) {
    return fail(
      KafkaCode.INVALID_RECORD,
      `partition ${index}: Produce v3+ takes exactly one record batch per partition, and these bytes are not one batch`,
    );
  }
  const producerId =
    records.readInt32BE(OFF_PRODUCER_ID) * 2 ** 32 + records.readUInt32BE(OFF_PRODUCER_ID + 4);
  const epoch = records.readInt16BE(OFF_PRODUCER_EPOCH);
  const refused = transactionRefusal(broker, transactionalId, records, producerId, epoch, topic, index);
  if (refused !== null) return refused;
  const baseSeq = records.readInt32BE(OFF_BASE_SEQUENCE);
  const count = records.readInt32BE(OFF_RECORD_COUNT);
  const idempotent = producerId >= 0 && baseSeq >= 0;
  if (idempotent) {
    let verdict;
    try {
      // The partition's producer state: loaded (snapshot + the batches after it) on first use.
      verdict = broker.producers.check(producerId, epoch, baseSeq, count, partition.producers());
    } catch (err) {
      broker.warn(`sluice broker: producer state of ${topic}-${index}: ${(err as Error).message}`);
      return fail(kafkaCodeOf(err), (err as Error).message);
    }
    if (verdict.kind === 'duplicate') return { code: 0, baseOffset: verdict.baseOffset, message: null };
    if (verdict.kind === 'error') {
      return fail(
        verdict.code,
        verdict.code === KafkaCode.INVALID_PRODUCER_EPOCH
          ? `producer ${producerId} epoch ${epoch} is stale: a newer epoch has been issued`
          : `producer ${producerId} sequence ${baseSeq} does not follow the last one written to ${topic}-${index}`,
      );
    }
  }
  records.writeInt32BE(0, OFF_LEADER_EPOCH); // this broker is the leader of epoch 0, forever
  let baseOffset: number;
  try {
    baseOffset = partition.appendBatch(records);
  } catch (err) {
    const code = kafkaCodeOf(err);
    if (code === KafkaCode.KAFKA_STORAGE_ERROR || code === KafkaCode.UNKNOWN_SERVER_ERROR) {
      broker.warn(`sluice broker: append to ${topic}-${index} failed: ${(err as Error).message}`);
    }
    return fail(code, (err as Error).message);
  }
  // The partition recorded the batch in its producer state; the table learns the epoch.
  if (idempotent) broker.producers.appended(producerId, epoch);
  broker.appends.appended(topic, index);
  return { code: 0, baseOffset, message: null };
}
