// CreateTopics (key 19), versions 2-7, flexible from 5. Single node: replication factor 1 (or
// -1 for the default), manual assignments only onto broker 0. The topic configs this broker has
// (see ../topic-configs.ts) are applied, others ignored. Topic ids are not kept: v7 answers the zero id.
//
// CreateTopics Request (Version: 7) => [topics] timeout_ms validate_only TAG_BUFFER
//   topics => name num_partitions replication_factor [assignments] [configs] TAG_BUFFER
//     assignments => partition_index [broker_ids] TAG_BUFFER
//     configs => name value TAG_BUFFER
// CreateTopics Response (Version: 7) => throttle_time_ms [topics] TAG_BUFFER
//   topics => name topic_id error_code error_message num_partitions replication_factor
//       [configs] TAG_BUFFER               (num_partitions, replication_factor, configs: v5+)

import { NODE_ID } from '../options.js';
import { KafkaCode } from '../protocol/error-codes.js';
import { array, field } from '../protocol/schema.js';
import { createTopicConfigs } from '../topic-configs.js';
import { defineApi } from './api.js';

interface CreatableTopic {
  name: string;
  numPartitions: number;
  replicationFactor: number;
  assignments: { partitionIndex: number; brokerIds: number[] }[];
  configs: { name: string; value: string | null }[];
}
interface Request {
  topics: CreatableTopic[];
  timeoutMs: number;
  validateOnly: boolean;
}
interface TopicResult {
  name: string;
  errorCode: number;
  errorMessage: string | null;
  numPartitions: number;
  replicationFactor: number;
  configs: [];
}
interface Response {
  throttleTimeMs: number;
  topics: TopicResult[];
}

/** Partition count implied by a topic's request, or an error. */
function partitionsOf(t: CreatableTopic): { n: number } | { code: number; message: string } {
  if (t.replicationFactor !== -1 && t.replicationFactor !== 1) {
    return {
      code: KafkaCode.INVALID_REPLICATION_FACTOR,
      message: `replication factor ${t.replicationFactor} is impossible on a single broker: use 1 or -1`,
    };
  }
  if (t.assignments.length === 0) return { n: t.numPartitions };
  const ok =
    t.numPartitions === -1 &&
    t.assignments.every(
      (a, i) => a.partitionIndex === i && a.brokerIds.length === 1 && a.brokerIds[0] === NODE_ID,
    );
  if (!ok) {
    return {
      code: KafkaCode.INVALID_REPLICA_ASSIGNMENT,
      message: `assignments must list partitions 0..n-1 in order, each on broker ${NODE_ID} alone, with num_partitions -1`,
    };
  }
  return { n: t.assignments.length };
}

export const createTopicsApi = defineApi<Request, Response>({
  key: 19,
  name: 'CreateTopics',
  versions: '2-7',
  flexible: '5+',
  request: [
    array('topics', '0+', [
      field('name', 'string'),
      field('numPartitions', 'int32'),
      field('replicationFactor', 'int16'),
      array('assignments', '0+', [field('partitionIndex', 'int32'), field('brokerIds', '[]int32')]),
      array('configs', '0+', [field('name', 'string'), field('value', 'string', '0+', { nullable: '0+' })]),
    ]),
    field('timeoutMs', 'int32', '0+', { default: 60000 }),
    field('validateOnly', 'bool', '1+'),
  ],
  response: [
    field('throttleTimeMs', 'int32', '2+'),
    array('topics', '0+', [
      field('name', 'string'),
      field('topicId', 'uuid', '7+'),
      field('errorCode', 'int16'),
      field('errorMessage', 'string', '1+', { nullable: '0+', default: null }),
      field('numPartitions', 'int32', '5+', { default: -1 }),
      field('replicationFactor', 'int16', '5+', { default: -1 }),
      array(
        'configs',
        '5+',
        [
          field('name', 'string'),
          field('value', 'string', '5+', { nullable: '5+' }),
          field('readOnly', 'bool'),
          field('configSource', 'int8', '5+', { default: -1 }),
          field('isSensitive', 'bool'),
        ],
        { nullable: '5+' },
      ),
    ]),
  ],
  handle(req, ctx) {
    const seen = new Map<string, number>();
    for (const t of req.topics) seen.set(t.name, (seen.get(t.name) ?? 0) + 1);
    const topics = req.topics.map((t): TopicResult => {
      const fail = (code: number, message: string | null): TopicResult => ({
        name: t.name,
        errorCode: code,
        errorMessage: message,
        numPartitions: -1,
        replicationFactor: -1,
        configs: [],
      });
      if (seen.get(t.name)! > 1) return fail(KafkaCode.INVALID_REQUEST, `topic ${t.name} is listed twice`);
      const parts = partitionsOf(t);
      if ('code' in parts) return fail(parts.code, parts.message);
      const config = createTopicConfigs(ctx.broker.log, t.configs);
      if ('code' in config) return fail(config.code, config.message);
      const r = ctx.broker.topics.create(t.name, parts.n, req.validateOnly);
      if (r.code !== 0) return fail(r.code, r.message);
      if (!req.validateOnly && Object.keys(config).length > 0) {
        try {
          ctx.broker.log.setTopicConfig(t.name, config);
        } catch (err) {
          return fail(KafkaCode.KAFKA_STORAGE_ERROR, (err as Error).message);
        }
      }
      return {
        name: t.name,
        errorCode: 0,
        errorMessage: null,
        numPartitions: parts.n === -1 ? ctx.broker.opts.partitions : parts.n,
        replicationFactor: 1,
        configs: [],
      };
    });
    return { throttleTimeMs: 0, topics };
  },
});
