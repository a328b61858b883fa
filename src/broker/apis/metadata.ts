// Metadata (key 3), versions 0-9, flexible from 9. One broker leads every partition. Unknown
// topics are created when the client allows it (v4+ allow_auto_topic_creation; before v4 the
// broker decides) and auto-creation is on. v10+ needs topic ids and is not advertised.
//
// Metadata Request (Version: 9) => [topics] allow_auto_topic_creation
//     include_cluster_authorized_operations include_topic_authorized_operations TAG_BUFFER
//   topics => name TAG_BUFFER        (null array = all topics, v1+; v0: empty array = all)
// Metadata Response (Version: 9) => throttle_time_ms [brokers] cluster_id controller_id [topics]
//     cluster_authorized_operations TAG_BUFFER
//   brokers => node_id host port rack TAG_BUFFER
//   topics => error_code name is_internal [partitions] topic_authorized_operations TAG_BUFFER
//     partitions => error_code partition_index leader_id leader_epoch [replica_nodes]
//         [isr_nodes] [offline_replicas] TAG_BUFFER

import { CLUSTER_ID, NODE_ID } from '../options.js';
import { array, field } from '../protocol/schema.js';
import { defineApi, type RequestContext } from './api.js';

interface Request {
  topics: { name: string | null }[] | null;
  allowAutoTopicCreation: boolean;
}

interface PartitionMeta {
  errorCode: number;
  partitionIndex: number;
  leaderId: number;
  leaderEpoch: number;
  replicaNodes: number[];
  isrNodes: number[];
  offlineReplicas: number[];
}
interface TopicMeta {
  errorCode: number;
  name: string;
  isInternal: boolean;
  partitions: PartitionMeta[];
}
interface Response {
  throttleTimeMs: number;
  brokers: { nodeId: number; host: string; port: number; rack: string | null }[];
  clusterId: string | null;
  controllerId: number;
  topics: TopicMeta[];
}

/** The host and port clients should use for this broker: configured, else the one they reached. */
export function advertisedAddress(ctx: RequestContext): { host: string; port: number } {
  const { opts } = ctx.broker;
  const local = ctx.conn.localAddress.replace(/^::ffff:/, '');
  return { host: opts.advertisedHost ?? local, port: opts.advertisedPort ?? ctx.conn.localPort };
}

function topicMeta(name: string, create: boolean, ctx: RequestContext): TopicMeta {
  const { partitions, code } = ctx.broker.topics.count(name, create);
  const list: PartitionMeta[] = [];
  for (let i = 0; i < partitions; i++) {
    list.push({
      errorCode: 0,
      partitionIndex: i,
      leaderId: NODE_ID,
      leaderEpoch: 0,
      replicaNodes: [NODE_ID],
      isrNodes: [NODE_ID],
      offlineReplicas: [],
    });
  }
  return { errorCode: code, name, isInternal: false, partitions: list };
}

export const metadataApi = defineApi<Request, Response>({
  key: 3,
  name: 'Metadata',
  versions: '0-9',
  flexible: '9+',
  request: [
    array(
      'topics',
      '0+',
      [field('topicId', 'uuid', '10+'), field('name', 'string', '0+', { nullable: '10+' })],
      {
        nullable: '1+',
      },
    ),
    field('allowAutoTopicCreation', 'bool', '4+', { default: true }),
    field('includeClusterAuthorizedOperations', 'bool', '8-10'),
    field('includeTopicAuthorizedOperations', 'bool', '8+'),
  ],
  response: [
    field('throttleTimeMs', 'int32', '3+'),
    array('brokers', '0+', [
      field('nodeId', 'int32'),
      field('host', 'string'),
      field('port', 'int32'),
      field('rack', 'string', '1+', { nullable: '1+', default: null }),
    ]),
    field('clusterId', 'string', '2+', { nullable: '2+', default: null }),
    field('controllerId', 'int32', '1+', { default: -1 }),
    array('topics', '0+', [
      field('errorCode', 'int16'),
      field('name', 'string', '0+', { nullable: '12+' }),
      field('topicId', 'uuid', '10+'),
      field('isInternal', 'bool', '1+'),
      array('partitions', '0+', [
        field('errorCode', 'int16'),
        field('partitionIndex', 'int32'),
        field('leaderId', 'int32'),
        field('leaderEpoch', 'int32', '7+', { default: -1 }),
        field('replicaNodes', '[]int32'),
        field('isrNodes', '[]int32'),
        field('offlineReplicas', '[]int32', '5+'),
      ]),
      field('topicAuthorizedOperations', 'int32', '8+', { default: -2147483648 }),
    ]),
    field('clusterAuthorizedOperations', 'int32', '8-10', { default: -2147483648 }),
  ],
  handle(req, ctx) {
    const { host, port } = advertisedAddress(ctx);
    const all = req.topics === null || (ctx.apiVersion === 0 && req.topics.length === 0);
    const create = ctx.apiVersion < 4 || req.allowAutoTopicCreation;
    const names = all ? ctx.broker.log.topics() : (req.topics ?? []).map((t) => t.name ?? '');
    return {
      throttleTimeMs: 0,
      brokers: [{ nodeId: NODE_ID, host, port, rack: null }],
      clusterId: CLUSTER_ID,
      controllerId: NODE_ID,
      topics: [...new Set(names)].map((name) => topicMeta(name, !all && create, ctx)),
    };
  },
});
