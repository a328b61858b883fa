// Transaction markers (KIP-98): the control batches that end a producer's transaction in a
// partition. One record each: key = version int16 (0) + type int16 (0 abort, 1 commit), value =
// version int16 (0) + coordinator epoch int32. The batch carries the producer's id and epoch
// and the transactional + control attribute bits; consumers never see its record, and
// read_committed consumers use it to stop dropping an aborted producer's records.

import { ATTR_CONTROL, ATTR_TRANSACTIONAL, OFF_ATTRIBUTES, OFF_CRC } from './batch-layout.js';
import { crc32c } from '../core/crc32c.js';
import { encodeRecordBatch } from './record-batch.js';

/** A transaction marker's type, as its key's second int16 says. */
export const CONTROL_ABORT = 0;
export const CONTROL_COMMIT = 1;

/** What a transaction marker says. */
export interface TxnMarker {
  producerId: number;
  producerEpoch: number;
  commit: boolean;
  coordinatorEpoch: number;
}

/**
 * Encodes a transaction marker as a control batch at offset 0 (the partition sets the offset).
 *
 * @example
 * const batch = encodeControlBatch({ producerId: 7, producerEpoch: 0, commit: true, coordinatorEpoch: 0 });
 * partition.appendControlBatch(batch);
 */
export function encodeControlBatch(marker: TxnMarker, now = Date.now()): Buffer {
  const key = Buffer.alloc(4);
  key.writeInt16BE(0, 0);
  key.writeInt16BE(marker.commit ? CONTROL_COMMIT : CONTROL_ABORT, 2);
  const value = Buffer.alloc(6);
  value.writeInt16BE(0, 0);
  value.writeInt32BE(marker.coordinatorEpoch, 2);
  const batch = encodeRecordBatch([{ key, value, timestamp: now }], 0, {
    timestamp: now,
    partitionLeaderEpoch: 0,
    producerId: marker.producerId,
    producerEpoch: marker.producerEpoch,
    baseSequence: -1,
  });
  // The attributes are inside the CRC: set the bits, then checksum again.
  batch.writeInt16BE(ATTR_TRANSACTIONAL | ATTR_CONTROL, OFF_ATTRIBUTES);
  batch.writeUInt32BE(crc32c(batch, OFF_ATTRIBUTES), OFF_CRC);
  return batch;
}
