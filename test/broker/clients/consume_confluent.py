"""Reads every record of a topic with confluent_kafka (librdkafka) in a consumer group and
prints "partition offset value" lines.

usage: consume_confluent.py BOOTSTRAP TOPIC EXPECTED_COUNT GROUP
"""
import sys
import time

from confluent_kafka import Consumer

bootstrap, topic, expected, group = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
consumer = Consumer({'bootstrap.servers': bootstrap, 'group.id': group, 'auto.offset.reset': 'earliest',
                     'enable.auto.commit': False})
consumer.subscribe([topic])
seen = 0
deadline = time.time() + 90
out = []
while seen < expected and time.time() < deadline:
    for m in consumer.consume(num_messages=10000, timeout=0.5):
        if m.error():
            print(f"error {m.error()}", file=sys.stderr)
            continue
        out.append(f"{m.partition()} {m.offset()} {m.value().decode()}")
        seen += 1
sys.stdout.write("\n".join(out) + "\n")
consumer.close()
