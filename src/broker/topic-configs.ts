// Topic configs as Kafka's admin APIs name them, mapped onto the log's per-topic options: the
// configs this broker really has (retention by time and size, segment size and age, the
// delete cleanup policy) can be described and changed; max.message.bytes is shown read-only.

import { LogError, type Log, type TopicConfig } from '../log/index.js';
import { KafkaCode } from './protocol/error-codes.js';

/** Kafka's ConfigSource values used here. */
export const ConfigSource = { DYNAMIC_TOPIC: 1, STATIC_BROKER: 4, DEFAULT: 5 } as const;
/** Kafka's ConfigType values used here. */
const ConfigType = { STRING: 2, INT: 3, LONG: 5, LIST: 7 } as const;
/** Never, as Kafka writes it for a time limit that is off. */
const LONG_MAX = '9223372036854775807';

interface Setting {
  /** The log's option, or null for a setting kept only as Kafka's name (read-only). */
  option: keyof TopicConfig | null;
  type: number;
  doc: string;
  /** The value when the topic does not override it. */
  fallback(log: Log): string;
}

const SETTINGS: Record<string, Setting> = {
  'retention.ms': {
    option: 'retentionMs',
    type: ConfigType.LONG,
    doc: 'Delete closed segments whose newest record is older than this; -1: keep forever.',
    fallback: (log) => String(log.options.retentionMs ?? -1),
  },
  'retention.bytes': {
    option: 'retentionBytes',
    type: ConfigType.LONG,
    doc: 'Delete the oldest closed segments while a partition is larger than this; -1: no limit.',
    fallback: (log) => String(log.options.retentionBytes ?? -1),
  },
  'segment.bytes': {
    option: 'segmentBytes',
    type: ConfigType.INT,
    doc: 'Roll to a new segment when the active one would exceed this size.',
    fallback: (log) => String(log.options.segmentBytes ?? 64 << 20),
  },
  'segment.ms': {
    option: 'segmentMs',
    type: ConfigType.LONG,
    doc: 'Roll to a new segment once the active one is this old.',
    fallback: (log) => (log.options.segmentMs === undefined ? LONG_MAX : String(log.options.segmentMs)),
  },
  'cleanup.policy': {
    option: null,
    type: ConfigType.LIST,
    doc: '"delete" (retention). "compact" is accepted, but this broker does not compact: such a topic keeps every record.',
    fallback: () => 'delete',
  },
  'max.message.bytes': {
    option: null,
    type: ConfigType.INT,
    doc: "The largest batch accepted (the log's maxBatchBytes, set when the broker starts).",
    fallback: (log) => String(log.options.maxBatchBytes ?? 16 << 20),
  },
};

/** One config as DescribeConfigs reports it. */
export interface DescribedConfig {
  name: string;
  value: string;
  readOnly: boolean;
  isDefault: boolean;
  configSource: number;
  configType: number;
  documentation: string;
}

/**
 * The configs of `topic` named in `keys` (null: all); unknown names are left out, as Kafka does.
 * A null topic gives the log-wide defaults.
 */
export function describeTopicConfigs(
  log: Log,
  topic: string | null,
  keys: string[] | null,
): DescribedConfig[] {
  const overrides: TopicConfig = topic === null ? {} : log.topicConfig(topic);
  const names = keys === null ? Object.keys(SETTINGS) : keys.filter((k) => k in SETTINGS);
  return names.map((name) => {
    const s = SETTINGS[name];
    const override = s.option === null ? undefined : overrides[s.option];
    return {
      name,
      value: override === undefined ? s.fallback(log) : String(override),
      readOnly: s.option === null && name !== 'cleanup.policy',
      isDefault: override === undefined,
      configSource: override === undefined ? ConfigSource.DEFAULT : ConfigSource.DYNAMIC_TOPIC,
      configType: s.type,
      documentation: s.doc,
    };
  });
}

/** One change of IncrementalAlterConfigs: operation 0 SET, 1 DELETE, 2 APPEND, 3 SUBTRACT. */
export interface ConfigChange {
  name: string;
  configOperation: number;
  value: string | null;
}

/**
 * Applies `changes` to `topic`'s overrides (all or nothing); code 0 or INVALID_CONFIG with why.
 * `replace` starts from no overrides (AlterConfigs: what is not named goes back to the default).
 */
export function alterTopicConfigs(
  log: Log,
  topic: string,
  changes: ConfigChange[],
  validateOnly: boolean,
  replace = false,
): { code: number; message: string | null } {
  const next = applyChanges(replace ? {} : log.topicConfig(topic), changes);
  if ('code' in next) return next;
  try {
    if (!validateOnly) log.setTopicConfig(topic, next);
    else log.checkTopicConfig(next);
    return { code: 0, message: null };
  } catch (err) {
    if (err instanceof LogError && err.code === 'SLUICE_LOG_INVALID_ARGUMENT') {
      return { code: KafkaCode.INVALID_CONFIG, message: err.message };
    }
    return { code: KafkaCode.KAFKA_STORAGE_ERROR, message: (err as Error).message };
  }
}

/**
 * The overrides CreateTopics' `configs` give a new topic; configs this broker does not have
 * are ignored (as before), bad values of the ones it has are INVALID_CONFIG.
 */
export function createTopicConfigs(
  log: Log,
  configs: { name: string; value: string | null }[],
): TopicConfig | { code: number; message: string } {
  const known = configs.filter((c) => c.name in SETTINGS);
  const config = applyChanges(
    {},
    known.map((c) => ({ name: c.name, configOperation: c.value === null ? 1 : 0, value: c.value })),
  );
  if ('code' in config) return config;
  try {
    log.checkTopicConfig(config);
    return config;
  } catch (err) {
    return { code: KafkaCode.INVALID_CONFIG, message: (err as Error).message };
  }
}

function applyChanges(
  base: TopicConfig,
  changes: ConfigChange[],
): TopicConfig | { code: number; message: string } {
  const next: TopicConfig = { ...base };
  const invalid = (message: string) => ({ code: KafkaCode.INVALID_CONFIG, message });
  for (const c of changes) {
    const s = SETTINGS[c.name];
    if (s === undefined) {
      return invalid(`unknown config ${c.name}; this broker has ${Object.keys(SETTINGS).join(', ')}`);
    }
    if (c.name === 'cleanup.policy') {
      // This broker never compacts. "delete" is retention, which it does. A topic that asks for
      // "compact" alone (Kafka Streams-style changelogs, Sluice's scale-out changelog) must not
      // lose records to retention either: it keeps every record, so its readers see at least
      // what a compacted topic would give them.
      const wanted = c.configOperation === 1 ? 'delete' : (c.value ?? '');
      const policies = wanted.split(',').map((p) => p.trim());
      if (c.configOperation === 3 || policies.some((p) => p !== 'delete' && p !== 'compact')) {
        return invalid('cleanup.policy must be "delete", "compact" or "compact,delete"');
      }
      if (!policies.includes('delete')) {
        next.retentionMs = -1;
        next.retentionBytes = -1;
      }
      continue;
    }
    if (s.option === null) return invalid(`${c.name} is read-only (set when the broker starts)`);
    if (c.configOperation === 1) {
      delete next[s.option];
      continue;
    }
    if (c.configOperation !== 0) return invalid(`${c.name} is not a list: use SET or DELETE`);
    const n = c.value === null || !/^-?\d+$/.test(c.value.trim()) ? NaN : Number(c.value);
    if (!Number.isSafeInteger(n))
      return invalid(`${c.name} must be an integer, not ${JSON.stringify(c.value)}`);
    next[s.option] = n;
  }
  return next;
}
