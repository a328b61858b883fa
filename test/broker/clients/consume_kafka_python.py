"""Reads every record of a topic with kafka-python (no group) and prints "partition offset value" lines.

usage: consume_kafka_python.py BOOTSTRAP TOPIC EXPECTED_COUNT
"""
import sys
import time

from kafka import KafkaConsumer, TopicPartition

bootstrap, topic, expected = sys.argv[1], sys.argv[2], int(sys.argv[3])
consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False,
                         auto_offset_reset='earliest', request_timeout_ms=30000,
                         api_version_auto_timeout_ms=30000)  # generous: CI machines are busy
partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic))]
consumer.assign(partitions)
consumer.seek_to_beginning(*partitions)
seen = 0
deadline = time.time() + 90
out = []
while seen < expected and time.time() < deadline:
    for tp, records in consumer.poll(timeout_ms=500, max_records=10000).items():
        for r in records:
            out.append(f"{tp.partition} {r.offset} {r.value.decode()}")
        seen += len(records)
sys.stdout.write("\n".join(out) + "\n")
consumer.close()
