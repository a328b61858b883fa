// `<dir>/topic-configs.json`: per-topic overrides of the log's segment and retention options
// (set with Kafka's IncrementalAlterConfigs), replaced atomically. A topic without an entry
// uses the options the log was opened with.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LogError } from './errors.js';
import { writeFileAtomic } from './fs-util.js';
import type { PartitionOptions } from './partition-options.js';

/** Per-topic overrides. For the retention limits, -1 means "no limit" (overriding a log-wide one). */
export interface TopicConfig {
  segmentBytes?: number;
  segmentMs?: number;
  retentionMs?: number;
  retentionBytes?: number;
}

export const TOPIC_CONFIG_KEYS = ['segmentBytes', 'segmentMs', 'retentionMs', 'retentionBytes'] as const;

const NAME = 'topic-configs.json';

/** Reads every topic's overrides; empty when the file does not exist. */
export function readTopicConfigs(dir: string): Map<string, TopicConfig> {
  const path = join(dir, NAME);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return new Map();
    throw err;
  }
  const fail = (why: string) =>
    new LogError(
      'SLUICE_LOG_CORRUPT',
      `${path} is unreadable (${why}); restore it, fix it by hand ({"version":1,"topics":{"<name>":{"retentionMs":<n>}}}) or delete it to drop every topic's overrides`,
    );
  let parsed: { version?: unknown; topics?: unknown };
  try {
    parsed = JSON.parse(text) as typeof parsed;
  } catch (err) {
    throw fail((err as Error).message);
  }
  if (parsed.version !== 1 || typeof parsed.topics !== 'object' || parsed.topics === null) {
    throw fail('expected version 1 and a topics object');
  }
  const out = new Map<string, TopicConfig>();
  for (const [topic, config] of Object.entries(parsed.topics as Record<string, Record<string, unknown>>)) {
    const entry: TopicConfig = {};
    for (const [k, v] of Object.entries(config ?? {})) {
      if (!(TOPIC_CONFIG_KEYS as readonly string[]).includes(k) || !Number.isSafeInteger(v)) {
        throw fail(`bad entry ${JSON.stringify(k)} for topic ${JSON.stringify(topic)}`);
      }
      entry[k as keyof TopicConfig] = v as number;
    }
    out.set(topic, entry);
  }
  return out;
}

/** Writes every topic's overrides atomically. */
export function writeTopicConfigs(dir: string, configs: Map<string, TopicConfig>): void {
  const topics: Record<string, TopicConfig> = {};
  for (const [name, config] of [...configs].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (Object.keys(config).length > 0) topics[name] = config;
  }
  writeFileAtomic(join(dir, NAME), `${JSON.stringify({ version: 1, topics }, null, 2)}\n`);
}

/** The partition options of a topic: the log's, with the topic's overrides on top. */
export function topicPartitionOptions(
  base: PartitionOptions,
  config: TopicConfig | undefined,
): PartitionOptions {
  if (config === undefined) return base;
  const out: PartitionOptions = { ...base };
  if (config.segmentBytes !== undefined) out.segmentBytes = config.segmentBytes;
  if (config.segmentMs !== undefined) out.segmentMs = config.segmentMs;
  if (config.retentionMs !== undefined)
    out.retentionMs = config.retentionMs < 0 ? undefined : config.retentionMs;
  if (config.retentionBytes !== undefined)
    out.retentionBytes = config.retentionBytes < 0 ? undefined : config.retentionBytes;
  return out;
}
