// DescribeCluster (key 60), versions 0-1, flexible in all. This single broker, which is also
// the controller. v1 asks for brokers (1) or controllers (2); both are this node.
//
// DescribeCluster Request (Version: 1) => include_cluster_authorized_operations endpoint_type TAG_BUFFER
// DescribeCluster Response (Version: 1) => throttle_time_ms error_code error_message endpoint_type
//     cluster_id controller_id [brokers] cluster_authorized_operations TAG_BUFFER
//   brokers => broker_id host port rack TAG_BUFFER

import { CLUSTER_ID, NODE_ID } from '../options.js';
import { array, field } from '../protocol/schema.js';
import { defineApi } from './api.js';
import { advertisedAddress } from './metadata.js';

interface Request {
  includeClusterAuthorizedOperations: boolean;
  endpointType: number;
}
interface Response {
  throttleTimeMs: number;
  errorCode: number;
  errorMessage: string | null;
  endpointType: number;
  clusterId: string;
  controllerId: number;
  brokers: { brokerId: number; host: string; port: number; rack: string | null }[];
  clusterAuthorizedOperations: number;
}

export const describeClusterApi = defineApi<Request, Response>({
  key: 60,
  name: 'DescribeCluster',
  versions: '0-1',
  flexible: '0+',
  request: [
    field('includeClusterAuthorizedOperations', 'bool'),
    field('endpointType', 'int8', '1+', { default: 1 }),
  ],
  response: [
    field('throttleTimeMs', 'int32'),
    field('errorCode', 'int16'),
    field('errorMessage', 'string', '0+', { nullable: '0+', default: null }),
    field('endpointType', 'int8', '1+', { default: 1 }),
    field('clusterId', 'string'),
    field('controllerId', 'int32', '0+', { default: -1 }),
    array('brokers', '0+', [
      field('brokerId', 'int32'),
      field('host', 'string'),
      field('port', 'int32'),
      field('rack', 'string', '0+', { nullable: '0+', default: null }),
    ]),
    field('clusterAuthorizedOperations', 'int32', '0+', { default: -2147483648 }),
  ],
  handle(req, ctx) {
    const { host, port } = advertisedAddress(ctx);
    return {
      throttleTimeMs: 0,
      errorCode: 0,
      errorMessage: null,
      endpointType: req.endpointType,
      clusterId: CLUSTER_ID,
      controllerId: NODE_ID,
      brokers: [{ brokerId: NODE_ID, host, port, rack: null }],
      clusterAuthorizedOperations: -2147483648,
    };
  },
});
