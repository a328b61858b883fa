// The admin cell of @platformatic/kafka in the interop matrix (interop-matrix.test.ts): the one
// client here whose admin sends IncrementalAlterConfigs and DeleteRecords from Node.

import { Admin } from '@platformatic/kafka';

/**
 * @platformatic/kafka's Admin against a topic and a live group: lists and describes the group,
 * describes the topic's configs, sets retention.ms (IncrementalAlterConfigs), adds a partition
 * and deletes the first record of partition 0. Returns what it saw.
 */
export async function platformaticAdmin(address: string, topic: string, group: string) {
  const admin = new Admin({ clientId: 'platformatic-admin', bootstrapBrokers: [address] });
  try {
    const groups = await admin.listGroups();
    const described = (await admin.describeGroups({ groups: [group] })).get(group);
    const configsOf = async () =>
      Object.fromEntries(
        (
          await admin.describeConfigs({ resources: [{ resourceType: 2, resourceName: topic }] })
        )[0].configs.map((c) => [c.name, c.value]),
      );
    const before = await configsOf();
    await admin.incrementalAlterConfigs({
      resources: [
        {
          resourceType: 2,
          resourceName: topic,
          configs: [{ name: 'retention.ms', configOperation: 0, value: '3600000' }],
        },
      ],
    });
    const after = await configsOf();
    await admin.createPartitions({ topics: [{ name: topic, count: 2 }] });
    await admin.deleteRecords({ topics: [{ name: topic, partitions: [{ partition: 0, offset: 1n }] }] });
    return {
      listed: groups.has(group),
      state: described?.state,
      members: described?.members.size,
      retentionBefore: before['retention.ms'],
      retentionAfter: after['retention.ms'],
    };
  } finally {
    await admin.close();
  }
}
