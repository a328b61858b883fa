"""Produces COUNT records "PREFIX-i" with kafka-python or confluent_kafka (idempotent), then
prints how many were acknowledged.

usage: produce_python.py kafka-python|confluent BOOTSTRAP TOPIC COUNT PREFIX
"""
import sys

client, bootstrap, topic, count, prefix = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
acked = 0
if client == 'kafka-python':
    from kafka import KafkaProducer
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks='all', api_version_auto_timeout_ms=30000)
    futures = [producer.send(topic, f"{prefix}-{i}".encode(), key=f"k{i % 7}".encode()) for i in range(count)]
    producer.flush()
    acked = sum(1 for f in futures if f.get(timeout=30) is not None)
else:
    from confluent_kafka import Producer
    producer = Producer({'bootstrap.servers': bootstrap, 'enable.idempotence': True, 'acks': 'all'})

    def done(err, _msg):
        global acked
        if err is None:
            acked += 1
        else:
            print(f"delivery failed: {err}", file=sys.stderr)

    for i in range(count):
        producer.produce(topic, f"{prefix}-{i}".encode(), key=f"k{i % 7}".encode(), on_delivery=done)
    producer.flush(30)
print(acked)
