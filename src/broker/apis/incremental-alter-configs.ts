// IncrementalAlterConfigs (key 44), versions 0-1, flexible from 1. Changes topic configs (see
// ../topic-configs.ts): SET or DELETE of retention.ms/bytes and segment.bytes/ms (applied at
// once to open partitions, kept across restarts); cleanup.policy stays "delete". Broker-wide
// settings are fixed at start.
//
// IncrementalAlterConfigs Request (Version: 1) => [resources] validate_only TAG_BUFFER
//   resources => resource_type resource_name [configs] TAG_BUFFER
//     configs => name config_operation value TAG_BUFFER
// IncrementalAlterConfigs Response (Version: 1) => throttle_time_ms [responses] TAG_BUFFER
//   responses => error_code error_message resource_type resource_name TAG_BUFFER

import { array, field } from '../protocol/schema.js';
import { alterTopicConfigs, type ConfigChange } from '../topic-configs.js';
import { defineApi } from './api.js';
import { refuseConfigResource } from './config-resource.js';

interface Request {
  resources: { resourceType: number; resourceName: string; configs: ConfigChange[] }[];
  validateOnly: boolean;
}
interface Result {
  errorCode: number;
  errorMessage: string | null;
  resourceType: number;
  resourceName: string;
}
interface Response {
  throttleTimeMs: number;
  responses: Result[];
}

export const incrementalAlterConfigsApi = defineApi<Request, Response>({
  key: 44,
  name: 'IncrementalAlterConfigs',
  versions: '0-1',
  flexible: '1+',
  request: [
    array('resources', '0+', [
      field('resourceType', 'int8'),
      field('resourceName', 'string'),
      array('configs', '0+', [
        field('name', 'string'),
        field('configOperation', 'int8'),
        field('value', 'string', '0+', { nullable: '0+' }),
      ]),
    ]),
    field('validateOnly', 'bool'),
  ],
  response: [
    field('throttleTimeMs', 'int32'),
    array('responses', '0+', [
      field('errorCode', 'int16'),
      field('errorMessage', 'string', '0+', { nullable: '0+', default: null }),
      field('resourceType', 'int8'),
      field('resourceName', 'string'),
    ]),
  ],
  handle(req, ctx) {
    const responses = req.resources.map((r): Result => {
      const answer = (errorCode: number, errorMessage: string | null): Result => ({
        errorCode,
        errorMessage,
        resourceType: r.resourceType,
        resourceName: r.resourceName,
      });
      const refused = refuseConfigResource(ctx.broker.log, r.resourceType, r.resourceName);
      if (refused) return answer(refused.code, refused.message);
      const out = alterTopicConfigs(ctx.broker.log, r.resourceName, r.configs, req.validateOnly);
      return answer(out.code, out.message);
    });
    return { throttleTimeMs: 0, responses };
  },
});
