"""Produces COUNT records "PREFIX-i" with kafka-python compressed with CODEC, prints how many
were acknowledged. kafka-python frames snappy the xerial way.

usage: produce_compressed.py BOOTSTRAP TOPIC COUNT PREFIX CODEC
"""
import sys
from kafka import KafkaProducer

bootstrap, topic, count, prefix, codec = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
producer = KafkaProducer(bootstrap_servers=bootstrap, acks='all', compression_type=codec,
                         linger_ms=50, api_version_auto_timeout_ms=30000)
futures = [producer.send(topic, f"{prefix}-{i}".encode(), key=f"k{i % 7}".encode()) for i in range(count)]
producer.flush()
print(sum(1 for f in futures if f.get(timeout=30) is not None))
