"""Produces COUNT records "PREFIX-i" with confluent_kafka (librdkafka), idempotence on, a few
hundred a second, so that a broker restart falls in the middle. Prints "ack VALUE" for every
acknowledged record, "error TEXT" for every error the client reports (fatal ones as "fatal
TEXT"), and "done" after the final flush.

usage: idempotent_producer.py BOOTSTRAP TOPIC COUNT PREFIX
"""
import sys
import time

from confluent_kafka import Producer

bootstrap, topic, count, prefix = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]


def on_error(err):
    kind = "fatal" if err.fatal() else "error"
    print(f"{kind} {err}", flush=True)


producer = Producer({
    'bootstrap.servers': bootstrap,
    'enable.idempotence': True,
    'acks': 'all',
    'linger.ms': 5,
    'message.timeout.ms': 120000,
    'retry.backoff.ms': 100,
    'reconnect.backoff.ms': 100,
    'reconnect.backoff.max.ms': 500,
    'error_cb': on_error,
})


def done(err, msg):
    if err is None:
        print(f"ack {msg.value().decode()}", flush=True)
    else:
        print(f"error delivery of {msg.value().decode()}: {err}", flush=True)


for i in range(count):
    producer.produce(topic, f"{prefix}-{i}".encode(), key=f"k{i % 5}".encode(), on_delivery=done)
    producer.poll(0)
    if i % 20 == 19:
        time.sleep(0.02)
left = producer.flush(150)
print(f"done {left}", flush=True)
