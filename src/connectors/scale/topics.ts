import { ConnectorError, unreachable } from '../errors.js';
import type { clientSecurity } from '../../kafka-client/index.js';

/** The topics Sluice creates for a scaled-out app (see docs/scale.md for their settings). */
export interface ScaleTopics {
  /** Records re-keyed by `.keyBy()`, partitioned like the input. */
  repartition: string;
  /** Every state change, compacted, partitioned like the input. */
  changelog: string;
  /** Records that failed, with their reasons in headers. */
  deadLetters: string;
}

/** Topic names follow Kafka Streams' habit: the application (group) id, then the role. */
export function scaleTopics(group: string): ScaleTopics {
  return {
    repartition: `${group}-repartition`,
    changelog: `${group}-changelog`,
    deadLetters: `${group}-dlq`,
  };
}

type Kafka = typeof import('@platformatic/kafka');
type Base = { clientId: string; bootstrapBrokers: string[] } & ReturnType<typeof clientSecurity>;

// Kafka's "topic already exists" error code: another worker created it first.
const TOPIC_ALREADY_EXISTS = 36;

/**
 * Creates the app's topics where missing, with as many partitions as the input (state and
 * re-keyed records must split the way the input does). Returns the input's partition count.
 */
export async function ensureTopics(
  kafka: Kafka,
  base: Base,
  input: string,
  topics: ScaleTopics,
  stateful: boolean,
): Promise<number> {
  const admin = new kafka.Admin(base);
  try {
    const meta = await admin.metadata({ topics: [input] }).catch((err: unknown) => {
      throw new ConnectorError(
        'SLUICE_SCALE_TOPICS',
        unreachable(err)
          ? `cannot reach the brokers ${base.bootstrapBrokers.join(',')}: is Kafka (or sluice broker) running there? (${(err as Error).message})`
          : `cannot read the input topic ${input} (${(err as Error).message}): create it first, with as many partitions as you want workers at most`,
      );
    });
    const partitions = meta.topics.get(input)?.partitionsCount ?? 0;
    if (partitions < 1)
      throw new ConnectorError('SLUICE_SCALE_TOPICS', `input topic ${input} has no partitions`);
    const wanted: [string, { name: string; value: string }[]][] = [[topics.deadLetters, []]];
    if (stateful) {
      wanted.push([topics.repartition, [{ name: 'cleanup.policy', value: 'delete' }]]);
      wanted.push([topics.changelog, [{ name: 'cleanup.policy', value: 'compact' }]]);
    }
    for (const [name, configs] of wanted) {
      try {
        await admin.createTopics({
          topics: [name],
          partitions: name === topics.deadLetters ? 1 : partitions,
          replicas: -1,
          configs,
        });
      } catch (err) {
        const codes = JSON.stringify((err as { errors?: unknown[] }).errors ?? (err as Error).message);
        if (!codes.includes(String(TOPIC_ALREADY_EXISTS)) && !/already exists/i.test(codes)) throw err;
      }
    }
    // State is partitioned like the input: topics left over with another count would scatter it.
    const partitioned = stateful ? [topics.repartition, topics.changelog] : [];
    const made =
      partitioned.length > 0
        ? (await admin.metadata({ topics: partitioned })).topics
        : new Map<string, { partitionsCount: number }>();
    for (const [name, info] of made) {
      if (info.partitionsCount !== partitions) {
        throw new ConnectorError(
          'SLUICE_SCALE_TOPICS',
          `${name} has ${info.partitionsCount} partitions but the input ${input} has ${partitions}: they must match (delete ${name} to start this app's state over, or use another --group)`,
        );
      }
    }
    return partitions;
  } finally {
    await admin.close();
  }
}
