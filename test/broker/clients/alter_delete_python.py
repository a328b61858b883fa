"""AlterConfigs and DeleteGroups with kafka-python's KafkaAdminClient or confluent_kafka's
AdminClient; prints one JSON object with what they returned.

usage: alter_delete_python.py kafka-python|confluent BOOTSTRAP TOPIC GROUP
"""
import json
import sys

client, bootstrap, topic, group = sys.argv[1:5]
out = {}
if client == 'kafka-python':
    from kafka.admin import ConfigResource, ConfigResourceType, KafkaAdminClient

    admin = KafkaAdminClient(bootstrap_servers=bootstrap, api_version_auto_timeout_ms=30000)
    r = admin.alter_configs([ConfigResource(ConfigResourceType.TOPIC, topic, configs={'retention.ms': '7200000'})])
    out['alter'] = [res[0] for res in r.resources]
    deleted = admin.delete_consumer_groups([group])
    out['delete'] = {g: (e.errno if hasattr(e, 'errno') else str(e)) for g, e in deleted}
    admin.close()
else:
    from confluent_kafka.admin import AdminClient, ConfigResource

    admin = AdminClient({'bootstrap.servers': bootstrap})
    fs = admin.alter_configs([ConfigResource(ConfigResource.Type.TOPIC, topic, set_config={'retention.ms': '7200000'})])
    for _, f in fs.items():
        f.result(timeout=30)
    out['alter'] = [0]
    # confluent-kafka 1.7 (Debian's) has no delete_consumer_groups (it came in 1.8).
    out['delete'] = None
print(json.dumps(out))
