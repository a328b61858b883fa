// Topic lookups, auto-creation, CreateTopics and DeleteTopics on top of the log, answering with
// Kafka error codes instead of exceptions.

import { LogError, type Log, type Partition } from '../log/index.js';
import { KafkaCode } from './protocol/error-codes.js';

/** A partition, or the Kafka error code saying why there is none. */
export type PartitionLookup = { partition: Partition; code: 0 } | { partition: null; code: number };

// Names the log itself or Kafka tooling reserve; a topic with these names would confuse both.
const RESERVED = new Set(['__consumer_offsets', '__transaction_state']);
const TOPIC_NAME = /^[a-zA-Z0-9._-]{1,249}$/;

/** True when `name` is a legal topic name for this broker. */
export function validTopicName(name: string | null): name is string {
  return name !== null && TOPIC_NAME.test(name) && name !== '.' && name !== '..' && !RESERVED.has(name);
}

/**
 * Topics as the Kafka APIs see them.
 *
 * @example
 * const topics = new TopicManager(log, { partitions: 3, autoCreate: true });
 * topics.count('orders', true); // 3, creating the topic on first use
 */
export class TopicManager {
  constructor(
    private readonly log: Log,
    private readonly defaults: { partitions: number; autoCreate: boolean },
    private readonly onDelete: (topic: string, partitions: number) => void = () => {},
  ) {}

  /** Partition count of `name` (code 0), creating it when `create` and auto-creation are on; else the Kafka error code. */
  count(name: string, create: boolean): { partitions: number; code: number } {
    if (this.log.hasTopic(name)) return { partitions: this.log.partitionCount(name), code: 0 };
    if (!validTopicName(name)) return { partitions: 0, code: KafkaCode.INVALID_TOPIC_EXCEPTION };
    if (!create || !this.defaults.autoCreate) {
      return { partitions: 0, code: KafkaCode.UNKNOWN_TOPIC_OR_PARTITION };
    }
    const code = this.create(name, -1).code;
    return code === 0 ? { partitions: this.log.partitionCount(name), code: 0 } : { partitions: 0, code };
  }

  /** The partition, when the topic and partition exist. */
  partition(topic: string, index: number): PartitionLookup {
    if (!this.log.hasTopic(topic) || !Number.isInteger(index) || index < 0) {
      return { partition: null, code: KafkaCode.UNKNOWN_TOPIC_OR_PARTITION };
    }
    if (index >= this.log.partitionCount(topic)) {
      return { partition: null, code: KafkaCode.UNKNOWN_TOPIC_OR_PARTITION };
    }
    try {
      return { partition: this.log.partition(topic, index), code: 0 };
    } catch (err) {
      if (
        err instanceof LogError &&
        err.code !== 'SLUICE_LOG_IO_ERROR' &&
        err.code !== 'SLUICE_LOG_CORRUPT'
      ) {
        return { partition: null, code: KafkaCode.UNKNOWN_TOPIC_OR_PARTITION };
      }
      return { partition: null, code: KafkaCode.KAFKA_STORAGE_ERROR };
    }
  }

  /** Creates a topic; `partitions` -1 means the broker default. */
  create(name: string, partitions: number, validateOnly = false): { code: number; message: string | null } {
    if (!validTopicName(name)) {
      return {
        code: KafkaCode.INVALID_TOPIC_EXCEPTION,
        message: `topic name ${JSON.stringify(name)} is invalid: use 1-249 of [a-zA-Z0-9._-]`,
      };
    }
    if (this.log.hasTopic(name)) {
      return { code: KafkaCode.TOPIC_ALREADY_EXISTS, message: `topic ${name} already exists` };
    }
    const n = partitions === -1 ? this.defaults.partitions : partitions;
    if (!Number.isInteger(n) || n < 1 || n > 100_000) {
      return {
        code: KafkaCode.INVALID_PARTITIONS,
        message: `number of partitions ${partitions} is invalid: use 1 to 100000, or -1 for the default`,
      };
    }
    if (validateOnly) return { code: 0, message: null };
    try {
      this.log.createTopic(name, { partitions: n });
      return { code: 0, message: null };
    } catch (err) {
      return { code: KafkaCode.KAFKA_STORAGE_ERROR, message: (err as Error).message };
    }
  }

  /** CreatePartitions: raises a topic's partition count to `count`. */
  addPartitions(name: string, count: number, validateOnly = false): { code: number; message: string | null } {
    if (!this.log.hasTopic(name)) {
      return { code: KafkaCode.UNKNOWN_TOPIC_OR_PARTITION, message: `topic ${name} does not exist` };
    }
    const existing = this.log.partitionCount(name);
    if (!Number.isInteger(count) || count <= existing || count > 100_000) {
      return {
        code: KafkaCode.INVALID_PARTITIONS,
        message: `topic ${name} has ${existing} partitions; ask for more than ${existing} (at most 100000): partitions can only be added`,
      };
    }
    if (validateOnly) return { code: 0, message: null };
    try {
      this.log.addPartitions(name, count);
      return { code: 0, message: null };
    } catch (err) {
      return { code: KafkaCode.KAFKA_STORAGE_ERROR, message: (err as Error).message };
    }
  }

  /** Deletes a topic and its records. */
  delete(name: string | null): { code: number; message: string | null } {
    if (name === null || !this.log.hasTopic(name)) {
      return { code: KafkaCode.UNKNOWN_TOPIC_OR_PARTITION, message: `topic ${String(name)} does not exist` };
    }
    try {
      const partitions = this.log.partitionCount(name);
      this.log.deleteTopic(name);
      this.onDelete(name, partitions);
      return { code: 0, message: null };
    } catch (err) {
      return { code: KafkaCode.KAFKA_STORAGE_ERROR, message: (err as Error).message };
    }
  }
}
