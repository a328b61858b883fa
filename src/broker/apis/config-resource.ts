// What AlterConfigs and IncrementalAlterConfigs refuse before looking at the changes: only a
// topic that exists has settings to change (the broker's own are fixed at start).
import type { Log } from '../../log/index.js';
import { KafkaCode } from '../protocol/error-codes.js';
import { ResourceType } from './describe-configs.js';

/** The error (code and message) for a resource whose configs cannot be altered, else undefined. */
export function refuseConfigResource(
  log: Log,
  resourceType: number,
  resourceName: string,
): { code: number; message: string } | undefined {
  if (resourceType === ResourceType.BROKER)
    return {
      code: KafkaCode.INVALID_REQUEST,
      message: 'broker-wide settings are fixed when the broker starts; change a topic instead',
    };
  if (resourceType !== ResourceType.TOPIC)
    return {
      code: KafkaCode.INVALID_REQUEST,
      message: `resource type ${resourceType} has no configs here: use 2 (topic)`,
    };
  if (!log.hasTopic(resourceName))
    return { code: KafkaCode.UNKNOWN_TOPIC_OR_PARTITION, message: `topic ${resourceName} does not exist` };
  return undefined;
}
