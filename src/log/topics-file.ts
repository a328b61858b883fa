// `<dir>/topics.json`: the topics of a log and their partition counts, replaced atomically.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LogError } from './errors.js';
import { writeFileAtomic } from './fs-util.js';

interface TopicsFile {
  version: 1;
  topics: Record<string, { partitions: number }>;
}

const NAME = 'topics.json';
const TOPIC_NAME = /^[a-zA-Z0-9._-]{1,249}$/;

/** Throws SLUICE_LOG_INVALID_TOPIC_NAME unless `name` is a legal Kafka topic name. */
export function checkTopicName(name: string): void {
  if (typeof name !== 'string' || !TOPIC_NAME.test(name) || name === '.' || name === '..') {
    throw new LogError(
      'SLUICE_LOG_INVALID_TOPIC_NAME',
      `topic name ${JSON.stringify(name)} is invalid: use 1 to 249 characters from a-z A-Z 0-9 . _ - (not "." or "..")`,
    );
  }
}

/** Reads the topic → partition count map; empty when the file does not exist yet. */
export function readTopics(dir: string): Map<string, number> {
  const path = join(dir, NAME);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return new Map();
    throw err;
  }
  const fail = (why: string): LogError =>
    new LogError(
      'SLUICE_LOG_CORRUPT',
      `${path} is unreadable (${why}); restore it from a backup, or fix it by hand: ` +
        '{"version":1,"topics":{"<name>":{"partitions":<n>}}} (partition data stays in <name>-<n>/ folders)',
    );
  let parsed: TopicsFile;
  try {
    parsed = JSON.parse(text) as TopicsFile;
  } catch (err) {
    throw fail((err as Error).message);
  }
  if (parsed?.version !== 1 || typeof parsed.topics !== 'object' || parsed.topics === null) {
    throw fail('expected version 1 and a topics object');
  }
  const topics = new Map<string, number>();
  for (const [name, t] of Object.entries(parsed.topics)) {
    if (!TOPIC_NAME.test(name) || !Number.isSafeInteger(t?.partitions) || t.partitions < 1) {
      throw fail(`bad entry for topic ${JSON.stringify(name)}`);
    }
    topics.set(name, t.partitions);
  }
  return topics;
}

/** Writes the map atomically (temp file, fsync, rename, fsync of the directory). */
export function writeTopics(dir: string, topics: Map<string, number>): void {
  const file: TopicsFile = { version: 1, topics: {} };
  for (const [name, partitions] of [...topics].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    file.topics[name] = { partitions };
  }
  writeFileAtomic(join(dir, NAME), `${JSON.stringify(file, null, 2)}\n`);
}
