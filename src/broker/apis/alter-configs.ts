// AlterConfigs (key 33), versions 0-2, flexible from 2: the non-incremental form that
// kafka-python 2.0, confluent-kafka 1.x and sarama send. A topic's configs become exactly the
// ones given (the others go back to their defaults), with IncrementalAlterConfigs' rules (see
// ../topic-configs.ts). Broker-wide settings are fixed at start.
//
// AlterConfigs Request (Version: 2) => [resources] validate_only TAG_BUFFER
//   resources => resource_type resource_name [configs] TAG_BUFFER
//     configs => name value TAG_BUFFER
// AlterConfigs Response (Version: 2) => throttle_time_ms [responses] TAG_BUFFER
//   responses => error_code error_message resource_type resource_name TAG_BUFFER

import { array, field } from '../protocol/schema.js';
import { alterTopicConfigs } from '../topic-configs.js';
import { defineApi } from './api.js';
import { refuseConfigResource } from './config-resource.js';

interface Request {
  resources: {
    resourceType: number;
    resourceName: string;
    configs: { name: string; value: string | null }[];
  }[];
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

export const alterConfigsApi = defineApi<Request, Response>({
  key: 33,
  name: 'AlterConfigs',
  versions: '0-2',
  flexible: '2+',
  request: [
    array('resources', '0+', [
      field('resourceType', 'int8'),
      field('resourceName', 'string'),
      array('configs', '0+', [field('name', 'string'), field('value', 'string', '0+', { nullable: '0+' })]),
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
      // A null value is a reset to the default: left out of the new overrides.
      const changes = r.configs
        .filter((c) => c.value !== null)
        .map((c) => ({ name: c.name, configOperation: 0, value: c.value }));
      const out = alterTopicConfigs(ctx.broker.log, r.resourceName, changes, req.validateOnly, true);
      return answer(out.code, out.message);
    });
    return { throttleTimeMs: 0, responses };
  },
});
