// DescribeConfigs (key 32), versions 0-4, flexible from 4. Topic configs (see
// ../topic-configs.ts) and, read-only, the same settings as broker-wide defaults.
//
// DescribeConfigs Request (Version: 4) => [resources] include_synonyms include_documentation TAG_BUFFER
//   resources => resource_type resource_name [configuration_keys] TAG_BUFFER   (keys: nullable)
// DescribeConfigs Response (Version: 4) => throttle_time_ms [results] TAG_BUFFER
//   results => error_code error_message resource_type resource_name [configs] TAG_BUFFER
//     configs => name value read_only config_source is_sensitive [synonyms] config_type
//         documentation TAG_BUFFER      (is_default: v0 only; config_source, synonyms: v1+; type, doc: v3+)
//       synonyms => name value source TAG_BUFFER

import { NODE_ID } from '../options.js';
import { KafkaCode } from '../protocol/error-codes.js';
import { array, field } from '../protocol/schema.js';
import { ConfigSource, describeTopicConfigs, type DescribedConfig } from '../topic-configs.js';
import { defineApi } from './api.js';

interface Request {
  resources: { resourceType: number; resourceName: string; configurationKeys: string[] | null }[];
  includeSynonyms: boolean;
  includeDocumentation: boolean;
}
type Config = Omit<DescribedConfig, 'documentation'> & {
  documentation: string | null;
  isSensitive: boolean;
  synonyms: { name: string; value: string; source: number }[];
};
interface Result {
  errorCode: number;
  errorMessage: string | null;
  resourceType: number;
  resourceName: string;
  configs: Config[];
}
interface Response {
  throttleTimeMs: number;
  results: Result[];
}

/** Kafka's resource types. */
export const ResourceType = { TOPIC: 2, BROKER: 4 } as const;

export const describeConfigsApi = defineApi<Request, Response>({
  key: 32,
  name: 'DescribeConfigs',
  versions: '0-4',
  flexible: '4+',
  request: [
    array('resources', '0+', [
      field('resourceType', 'int8'),
      field('resourceName', 'string'),
      field('configurationKeys', '[]string', '0+', { nullable: '0+' }),
    ]),
    field('includeSynonyms', 'bool', '1+'),
    field('includeDocumentation', 'bool', '3+'),
  ],
  response: [
    field('throttleTimeMs', 'int32'),
    array('results', '0+', [
      field('errorCode', 'int16'),
      field('errorMessage', 'string', '0+', { nullable: '0+', default: null }),
      field('resourceType', 'int8'),
      field('resourceName', 'string'),
      array('configs', '0+', [
        field('name', 'string'),
        field('value', 'string', '0+', { nullable: '0+' }),
        field('readOnly', 'bool'),
        field('isDefault', 'bool', '0'),
        field('configSource', 'int8', '1+', { default: -1 }),
        field('isSensitive', 'bool'),
        array('synonyms', '1+', [
          field('name', 'string'),
          field('value', 'string', '1+', { nullable: '0+' }),
          field('source', 'int8'),
        ]),
        field('configType', 'int8', '3+'),
        field('documentation', 'string', '3+', { nullable: '0+', default: null }),
      ]),
    ]),
  ],
  handle(req, ctx) {
    const { log } = ctx.broker;
    const results = req.resources.map((r): Result => {
      const fail = (errorCode: number, errorMessage: string): Result => ({
        ...r,
        errorCode,
        errorMessage,
        configs: [],
      });
      let described: DescribedConfig[];
      if (r.resourceType === ResourceType.TOPIC) {
        if (!log.hasTopic(r.resourceName)) {
          return fail(KafkaCode.UNKNOWN_TOPIC_OR_PARTITION, `topic ${r.resourceName} does not exist`);
        }
        described = describeTopicConfigs(log, r.resourceName, r.configurationKeys);
      } else if (r.resourceType === ResourceType.BROKER) {
        if (r.resourceName !== '' && r.resourceName !== String(NODE_ID)) {
          return fail(KafkaCode.INVALID_REQUEST, `this single broker is node ${NODE_ID}`);
        }
        // Broker-wide defaults under Kafka's broker names (log.retention.ms ...), read-only.
        const keys = r.configurationKeys?.map((k) =>
          k.replace(/^log\./, '').replace('roll.ms', 'segment.ms'),
        );
        described = describeTopicConfigs(log, null, keys ?? null).map((c) => ({
          ...c,
          name: brokerName(c.name),
          readOnly: true,
          isDefault: false,
          configSource: ConfigSource.STATIC_BROKER,
        }));
      } else {
        return fail(
          KafkaCode.INVALID_REQUEST,
          `resource type ${r.resourceType} has no configs here: use 2 (topic) or 4 (broker)`,
        );
      }
      const configs = described.map((c) => ({
        ...c,
        isSensitive: false,
        documentation: req.includeDocumentation ? c.documentation : null,
        synonyms: req.includeSynonyms ? [{ name: c.name, value: c.value, source: c.configSource }] : [],
      }));
      return {
        errorCode: 0,
        errorMessage: null,
        resourceType: r.resourceType,
        resourceName: r.resourceName,
        configs,
      };
    });
    return { throttleTimeMs: 0, results };
  },
});

/** Kafka's broker-level name of a topic config (segment.ms is log.roll.ms). */
function brokerName(topicName: string): string {
  return topicName === 'segment.ms'
    ? 'log.roll.ms'
    : topicName === 'max.message.bytes'
      ? 'message.max.bytes'
      : `log.${topicName}`;
}
