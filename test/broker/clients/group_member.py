"""One kafka-python consumer group member. Prints JSON lines: {"assigned": [partitions]} when its
assignment changes and {"consumed": [[partition, offset, value], ...]} after each poll (offsets
are committed synchronously before that line). Leaves the group cleanly when stdin says "stop".

usage: group_member.py BOOTSTRAP TOPIC GROUP
"""
import json
import sys
import threading

from kafka import KafkaConsumer

bootstrap, topic, group = sys.argv[1], sys.argv[2], sys.argv[3]
stop = threading.Event()


def watch_stdin():
    for line in sys.stdin:
        if line.strip() == "stop":
            break
    stop.set()


threading.Thread(target=watch_stdin, daemon=True).start()
consumer = KafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False,
                         auto_offset_reset='earliest', session_timeout_ms=6000, heartbeat_interval_ms=300,
                         max_poll_interval_ms=15000, request_timeout_ms=20000,
                         api_version_auto_timeout_ms=30000)


def say(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


assigned = None
while not stop.is_set():
    batches = consumer.poll(timeout_ms=200)
    now = sorted(tp.partition for tp in consumer.assignment())
    if now != assigned:
        assigned = now
        say({"assigned": now})
    consumed = [[tp.partition, r.offset, r.value.decode()] for tp, rs in batches.items() for r in rs]
    if consumed:
        consumer.commit()
        say({"consumed": consumed})
consumer.close()
say({"closed": True})
