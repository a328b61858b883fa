// The embedded log: a directory of topics, each a set of partitions `<topic>-<n>/`, with topic
// metadata in `topics.json` and committed consumer offsets in `__consumer_offsets/`.

import { mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { lockDir } from './dir-lock.js';
import { LogError } from './errors.js';
import { fsyncDir, ioError } from './fs-util.js';
import { OffsetStore } from './offset-store.js';
import { Partition, type PartitionOptions } from './partition.js';
import { resolvePartitionOptions } from './partition-options.js';
import {
  readTopicConfigs,
  topicPartitionOptions,
  writeTopicConfigs,
  type TopicConfig,
} from './topic-configs.js';
import { checkTopicName, readTopics, writeTopics } from './topics-file.js';

/** Options of a {@link Log}; they apply to every partition. */
export type LogOptions = PartitionOptions;

const MAX_PARTITIONS = 100_000;

/**
 * A durable, partitioned, replayable log on local disk.
 *
 * @example
 * const log = Log.open('./data');
 * log.createTopic('payments', { partitions: 3 });
 * const p = log.partition('payments', 0);
 * p.append([{ key: Buffer.from('card-7'), value: Buffer.from('{"amount":40}') }]);
 * const { records } = p.read(0);
 * log.offsets.commit('scorer', 'payments', 0, records.length);
 * log.close();
 */
export class Log {
  private readonly open = new Map<string, Partition>();
  private offsetStore: OffsetStore | undefined;
  private closed = false;
  private configs: Map<string, TopicConfig> | undefined;

  private constructor(
    readonly dir: string,
    private readonly opts: LogOptions,
    private readonly topicMap: Map<string, number>,
    private readonly unlock: () => void,
  ) {}

  /** Opens the log in `dir` (created if missing) and reads its topics back. */
  static open(dir: string, opts: LogOptions = {}): Log {
    let unlock: () => void;
    try {
      mkdirSync(dir, { recursive: true });
      unlock = lockDir(dir);
    } catch (err) {
      // A full disk or a read-only mount at start: one clear line, not a stack trace.
      throw err instanceof LogError ? err : ioError(`opening the log directory ${dir}`, err);
    }
    try {
      for (const name of readdirSync(dir)) {
        // Partitions renamed for deletion before a crash: finish deleting them.
        if (name.endsWith('-delete')) rmSync(join(dir, name), { recursive: true, force: true });
      }
      return new Log(dir, opts, readTopics(dir), unlock);
    } catch (err) {
      unlock();
      throw err;
    }
  }

  /** Creates a topic; a no-op when it exists with the same partition count. */
  createTopic(name: string, config: { partitions: number }): void {
    this.checkOpen();
    checkTopicName(name);
    const partitions = config?.partitions;
    if (!Number.isSafeInteger(partitions) || partitions < 1 || partitions > MAX_PARTITIONS) {
      throw new LogError(
        'SLUICE_LOG_INVALID_ARGUMENT',
        `topic ${name}: partitions is ${partitions}; use an integer from 1 to ${MAX_PARTITIONS}`,
      );
    }
    const existing = this.topicMap.get(name);
    if (existing === partitions) return;
    if (existing !== undefined) {
      throw new LogError(
        'SLUICE_LOG_TOPIC_EXISTS',
        `topic ${name} already exists with ${existing} partitions, not ${partitions}; use ${existing}, or delete the topic first`,
      );
    }
    this.topicMap.set(name, partitions);
    try {
      writeTopics(this.dir, this.topicMap); // metadata first: a crash then leaves no orphan folders
    } catch (err) {
      this.topicMap.delete(name);
      throw err;
    }
  }

  /**
   * Raises the partition count of `name` to `partitions` (Kafka's CreatePartitions: partitions
   * are added, never removed). The new partitions start empty.
   */
  addPartitions(name: string, partitions: number): void {
    this.checkOpen();
    const existing = this.checkTopic(name);
    if (!Number.isSafeInteger(partitions) || partitions <= existing || partitions > MAX_PARTITIONS) {
      throw new LogError(
        'SLUICE_LOG_INVALID_ARGUMENT',
        `topic ${name} has ${existing} partitions; a new count must be an integer from ${existing + 1} to ${MAX_PARTITIONS}`,
      );
    }
    this.topicMap.set(name, partitions);
    try {
      writeTopics(this.dir, this.topicMap);
    } catch (err) {
      this.topicMap.set(name, existing);
      throw err;
    }
  }

  /** The options every topic gets unless it overrides them (what the log was opened with). */
  get options(): Readonly<LogOptions> {
    return this.opts;
  }

  /** The overrides of `topic` set with {@link setTopicConfig}; empty when it has none. */
  topicConfig(topic: string): TopicConfig {
    this.checkTopic(topic);
    return { ...this.topicConfigs().get(topic) };
  }

  /**
   * Replaces the segment and retention overrides of `topic` (durably), and applies them to its
   * open partitions at once. Invalid values throw SLUICE_LOG_INVALID_ARGUMENT and change nothing.
   *
   * @example
   * log.setTopicConfig('clicks', { retentionMs: 3_600_000, segmentBytes: 16 << 20 });
   */
  setTopicConfig(topic: string, config: TopicConfig): void {
    this.checkOpen();
    const count = this.checkTopic(topic);
    const options = this.checkTopicConfig(config);
    const configs = this.topicConfigs();
    const before = configs.get(topic);
    configs.set(topic, { ...config });
    try {
      writeTopicConfigs(this.dir, configs);
    } catch (err) {
      if (before === undefined) configs.delete(topic);
      else configs.set(topic, before);
      throw err;
    }
    for (let p = 0; p < count; p++) this.open.get(`${topic}-${p}`)?.reconfigure(options);
  }

  /** Throws SLUICE_LOG_INVALID_ARGUMENT (saying which value and what to use) unless `config` is valid. */
  checkTopicConfig(config: TopicConfig): LogOptions {
    for (const [k, v] of Object.entries(config)) {
      const limit = k === 'retentionMs' || k === 'retentionBytes';
      if (v !== undefined && (!Number.isSafeInteger(v) || (limit && v < -1))) {
        throw new LogError(
          'SLUICE_LOG_INVALID_ARGUMENT',
          `topic config ${k} is ${String(v)}; use an integer${limit ? ' from 0 up, or -1 for no limit' : ''}`,
        );
      }
    }
    const options = topicPartitionOptions(this.opts, config);
    resolvePartitionOptions(options); // throws for out-of-range values
    return options;
  }

  hasTopic(name: string): boolean {
    return this.topicMap.has(name);
  }

  /** Topic names, sorted. */
  topics(): string[] {
    return [...this.topicMap.keys()].sort();
  }

  /** Partition count of `topic`. */
  partitionCount(topic: string): number {
    return this.checkTopic(topic);
  }

  /** The partition `p` of `topic`, opened (and recovered) on first use and cached. */
  partition(topic: string, p: number): Partition {
    this.checkOpen();
    const count = this.checkTopic(topic);
    if (!Number.isInteger(p) || p < 0 || p >= count) {
      throw new LogError(
        'SLUICE_LOG_UNKNOWN_PARTITION',
        `topic ${topic} has partitions 0..${count - 1}; there is no partition ${p}`,
      );
    }
    const key = `${topic}-${p}`;
    let partition = this.open.get(key);
    if (partition === undefined) {
      partition = Partition.open(join(this.dir, key), this.topicOptions(topic));
      this.open.set(key, partition);
    }
    return partition;
  }

  /** Deletes a topic and all its records. Its open Partition objects are closed. */
  deleteTopic(name: string): void {
    this.checkOpen();
    const count = this.checkTopic(name);
    const suffix = `.${Date.now().toString(36)}-delete`;
    const doomed: string[] = [];
    for (let p = 0; p < count; p++) {
      const key = `${name}-${p}`;
      this.open.get(key)?.close();
      this.open.delete(key);
      // Renamed before the metadata changes, so a crash can never bring the records back.
      try {
        renameSync(join(this.dir, key), join(this.dir, key + suffix));
        doomed.push(key + suffix);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
    }
    fsyncDir(this.dir);
    this.topicMap.delete(name);
    writeTopics(this.dir, this.topicMap);
    if (this.topicConfigs().delete(name)) writeTopicConfigs(this.dir, this.topicConfigs());
    for (const d of doomed) rmSync(join(this.dir, d), { recursive: true, force: true });
  }

  /** Committed consumer offsets, stored in `<dir>/__consumer_offsets/`. */
  get offsets(): OffsetStore {
    this.checkOpen();
    this.offsetStore ??= OffsetStore.open(join(this.dir, '__consumer_offsets'), {
      onWarning: this.opts.onWarning,
    });
    return this.offsetStore;
  }

  /** fsyncs every open partition. */
  flush(): void {
    this.checkOpen();
    for (const p of this.open.values()) p.flush();
  }

  /** Flushes and closes every partition and releases the directory. Closing twice is a no-op. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    let first: unknown;
    for (const p of this.open.values()) {
      try {
        p.close();
      } catch (err) {
        first ??= err;
      }
    }
    this.open.clear();
    this.offsetStore?.close();
    this.unlock();
    if (first !== undefined) throw first;
  }

  private topicOptions(topic: string): LogOptions {
    return topicPartitionOptions(this.opts, this.topicConfigs().get(topic));
  }

  private topicConfigs(): Map<string, TopicConfig> {
    this.configs ??= readTopicConfigs(this.dir);
    return this.configs;
  }

  private checkTopic(topic: string): number {
    const count = this.topicMap.get(topic);
    if (count === undefined) {
      throw new LogError(
        'SLUICE_LOG_UNKNOWN_TOPIC',
        `topic ${JSON.stringify(topic)} does not exist in ${this.dir}; create it with createTopic(${JSON.stringify(topic)}, { partitions: n })`,
      );
    }
    return count;
  }

  private checkOpen(): void {
    if (this.closed)
      throw new LogError('SLUICE_LOG_CLOSED', `log ${this.dir} is closed; open it again with Log.open()`);
  }
}
