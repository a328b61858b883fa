// Joining a Kafka consumer group with @platformatic/kafka, as both kafkaSource and the scaled
// worker's back half do: the client runs the membership (join, heartbeats, rebalances) and
// reports assignments; records are fetched elsewhere (PartitionFetcher) from offsets the caller
// keeps.

import type { Consumer, ConsumerGroupJoinPayload } from '@platformatic/kafka';
import { clientSecurity, type KafkaSecurity } from '../kafka-client/index.js';
import { ConnectorError, unreachable } from './errors.js';
import { loadKafkaClient } from '../kafka-client/index.js';

export interface GroupMemberOptions extends KafkaSecurity {
  brokers: string[];
  groupId: string;
  clientId: string;
  /** The one topic this member subscribes to. */
  topic: string;
  /** Group session timeout (also the rebalance timeout). Default 10 s. */
  sessionTimeoutMs?: number;
  /** The client's default fetch wait. */
  maxWaitMs?: number;
  /** Each assignment of the group: `topic`'s partitions (sorted) and the generation. */
  onAssigned(partitions: number[], generation: number): void;
  /** The client's 'error': rejoining the group failed for good. Unheard, it would crash the process. */
  onFailure(err: unknown): void;
}

/**
 * Creates the consumer, creates `topic` where the broker allows it (as Kafka consumers do with
 * allow.auto.create.topics, so a pipeline may start before its first producer), and joins the
 * group; resolves once the first assignment was reported.
 *
 * @example
 * const consumer = await joinConsumerGroup({ brokers, groupId: 'g', clientId: 'c', topic: 't',
 *   onAssigned: (partitions) => reassign(partitions), onFailure: (e) => fail(e) });
 */
export async function joinConsumerGroup(opts: GroupMemberOptions): Promise<Consumer> {
  // Loaded on first use: the client costs ~0.5 s to import, which every CLI start would pay.
  const { Consumer } = await loadKafkaClient();
  const session = opts.sessionTimeoutMs ?? 10_000;
  const consumer = new Consumer({
    clientId: opts.clientId,
    groupId: opts.groupId,
    bootstrapBrokers: opts.brokers,
    sessionTimeout: session,
    rebalanceTimeout: session,
    heartbeatInterval: Math.min(3000, Math.floor(session / 3)),
    ...(opts.maxWaitMs !== undefined ? { maxWaitTime: opts.maxWaitMs } : {}),
    ...clientSecurity(opts),
  });
  const { topic } = opts;
  consumer.on('consumer:group:join', (e: ConsumerGroupJoinPayload) => {
    const partitions = e.assignments?.find((a) => a.topic === topic)?.partitions ?? [];
    opts.onAssigned(
      [...partitions].sort((a, b) => a - b),
      e.generationId ?? 0,
    );
  });
  consumer.on('error', (err: unknown) => opts.onFailure(err));
  consumer.topics.track(topic);
  try {
    await consumer.metadata({ topics: [topic], autocreateTopics: true }).catch((err: unknown) => {
      throw new ConnectorError(
        'SLUICE_SOURCE_UNAVAILABLE',
        unreachable(err)
          ? `cannot reach the brokers ${opts.brokers.join(',')}: is Kafka (or sluice broker) running there? (${(err as Error).message})`
          : `cannot read topic ${topic} (${(err as Error).message}): create it, or let the broker auto-create topics`,
        { cause: err },
      );
    });
    await consumer.joinGroup({ sessionTimeout: session, rebalanceTimeout: session });
  } catch (err) {
    await consumer.close(true);
    throw err;
  }
  return consumer;
}
