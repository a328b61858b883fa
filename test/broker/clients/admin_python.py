"""Runs the admin calls tools make with kafka-python's KafkaAdminClient or confluent_kafka's
AdminClient and prints what they return as one JSON object.

usage: admin_python.py kafka-python|confluent BOOTSTRAP TOPIC GROUP
"""
import json
import sys

client, bootstrap, topic, group = sys.argv[1:5]
out = {}
if client == 'kafka-python':
    from kafka.admin import ConfigResource, ConfigResourceType, KafkaAdminClient, NewPartitions

    admin = KafkaAdminClient(bootstrap_servers=bootstrap, api_version_auto_timeout_ms=30000)
    out['groups'] = sorted(admin.list_consumer_groups())
    described = admin.describe_consumer_groups([group])[0]
    out['describe'] = {'state': described.state, 'protocol_type': described.protocol_type,
                       'members': len(described.members)}
    offsets = admin.list_consumer_group_offsets(group)
    out['offsets'] = {f"{tp.topic}-{tp.partition}": om.offset for tp, om in offsets.items()}
    configs = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)])
    resources = configs[0].resources if isinstance(configs, list) else configs.resources
    out['configs'] = {c[0]: c[1] for c in resources[0][4]}
    result = admin.create_partitions({topic: NewPartitions(total_count=3)})
    out['create_partitions'] = [e[1] for e in result.topic_errors]
    out['partitions'] = len(admin.describe_topics([topic])[0]['partitions'])
    admin.close()
else:
    from confluent_kafka.admin import AdminClient, ConfigResource, NewPartitions

    admin = AdminClient({'bootstrap.servers': bootstrap})
    groups = admin.list_groups(timeout=30)
    out['groups'] = sorted(g.id for g in groups)
    mine = [g for g in groups if g.id == group]
    out['describe'] = {'state': mine[0].state, 'protocol_type': mine[0].protocol_type,
                       'members': len(mine[0].members)} if mine else None
    futures = admin.describe_configs([ConfigResource(ConfigResource.Type.TOPIC, topic)])
    for _, f in futures.items():
        out['configs'] = {name: entry.value for name, entry in f.result(timeout=30).items()}
    for _, f in admin.create_partitions([NewPartitions(topic, 4)]).items():
        f.result(timeout=30)
    out['create_partitions'] = 'ok'
    out['partitions'] = len(admin.list_topics(topic=topic, timeout=30).topics[topic].partitions)
print(json.dumps(out))
