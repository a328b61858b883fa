// FindCoordinator (key 10), versions 0-4, flexible from 3; v4 batches the keys. This broker
// coordinates every group (key_type 0) and every transactional id (key_type 1).
//
// FindCoordinator Request (Version: 4) => key_type [coordinator_keys] TAG_BUFFER
//   (v0-3: key key_type; key_type from v1)
// FindCoordinator Response (Version: 4) => throttle_time_ms [coordinators] TAG_BUFFER
//   coordinators => key node_id host port error_code error_message TAG_BUFFER
//   (v0-3: throttle_time_ms error_code error_message node_id host port)

import { NODE_ID } from '../options.js';
import { KafkaCode } from '../protocol/error-codes.js';
import { array, field } from '../protocol/schema.js';
import { defineApi } from './api.js';
import { advertisedAddress } from './metadata.js';

interface Request {
  key: string;
  keyType: number;
  coordinatorKeys: string[];
}
interface Coordinator {
  key: string;
  nodeId: number;
  host: string;
  port: number;
  errorCode: number;
  errorMessage: string | null;
}
type Response = Omit<Coordinator, 'key'> & { throttleTimeMs: number; coordinators: Coordinator[] };

const GROUP = 0;
const TRANSACTION = 1;

export const findCoordinatorApi = defineApi<Request, Response>({
  key: 10,
  name: 'FindCoordinator',
  versions: '0-4',
  flexible: '3+',
  request: [
    field('key', 'string', '0-3'),
    field('keyType', 'int8', '1+'),
    field('coordinatorKeys', '[]string', '4+'),
  ],
  response: [
    field('throttleTimeMs', 'int32', '1+'),
    field('errorCode', 'int16', '0-3'),
    field('errorMessage', 'string', '1-3', { nullable: '1-3', default: null }),
    field('nodeId', 'int32', '0-3'),
    field('host', 'string', '0-3'),
    field('port', 'int32', '0-3'),
    array('coordinators', '4+', [
      field('key', 'string'),
      field('nodeId', 'int32'),
      field('host', 'string'),
      field('port', 'int32'),
      field('errorCode', 'int16'),
      field('errorMessage', 'string', '4+', { nullable: '4+', default: null }),
    ]),
  ],
  handle(req, ctx) {
    const { host, port } = advertisedAddress(ctx);
    const answer = (key: string): Coordinator =>
      req.keyType === GROUP || req.keyType === TRANSACTION
        ? { key, nodeId: NODE_ID, host, port, errorCode: 0, errorMessage: null }
        : {
            key,
            nodeId: -1,
            host: '',
            port: -1,
            errorCode: KafkaCode.INVALID_REQUEST,
            errorMessage: `unknown coordinator key type ${req.keyType}: use 0 (group) or 1 (transaction)`,
          };
    const keys = ctx.apiVersion >= 4 ? req.coordinatorKeys : [req.key];
    const coordinators = keys.map(answer);
    const { key: _key, ...single } = coordinators[0] ?? answer('');
    return { throttleTimeMs: 0, ...single, coordinators };
  },
});
