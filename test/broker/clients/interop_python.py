"""The interop matrix's Python clients (kafka-python or confluent_kafka). Records go in and come
out as JSON lines {"p": partition, "o": offset, "k": key, "v": value, "h": [[name, value], ...]}.

usage: interop_python.py kafka-python|confluent produce BOOTSTRAP TOPIC CODEC < records.jsonl
       interop_python.py kafka-python|confluent consume BOOTSTRAP TOPIC COUNT
       interop_python.py confluent group BOOTSTRAP TOPIC GROUP   (prints "joined"; leaves on stdin "stop")
(kafka-python's group member is group_member.py.)
"""
import json
import sys
import time

client, command, bootstrap, topic = sys.argv[1:5]


def say(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def produce(codec):
    records = [json.loads(line) for line in sys.stdin if line.strip()]
    if client == 'kafka-python':
        from kafka import KafkaProducer
        producer = KafkaProducer(bootstrap_servers=bootstrap, acks='all', linger_ms=50,
                                 compression_type=None if codec == 'none' else codec,
                                 api_version_auto_timeout_ms=30000)
        futures = [producer.send(topic, r['v'].encode(), key=r['k'].encode(), partition=r['p'],
                                 headers=[(h[0], h[1].encode()) for h in r['h']]) for r in records]
        producer.flush()
        print(sum(1 for f in futures if f.get(timeout=30) is not None))
        return
    from confluent_kafka import Producer
    producer = Producer({'bootstrap.servers': bootstrap, 'acks': 'all', 'linger.ms': 50,
                         'compression.type': codec, 'enable.idempotence': True})
    acked = []

    def done(err, _msg):
        if err is not None:
            print(f"delivery failed: {err}", file=sys.stderr)
        else:
            acked.append(1)

    for r in records:
        producer.produce(topic, r['v'].encode(), key=r['k'].encode(), partition=r['p'],
                         headers=[(h[0], h[1].encode()) for h in r['h']], on_delivery=done)
    producer.flush(30)
    print(len(acked))


def record(p, o, k, v, headers):
    return {"p": p, "o": o, "k": k.decode(), "v": v.decode(),
            "h": [[name, value.decode()] for name, value in (headers or [])]}


def consume(count):
    deadline = time.time() + 60
    out = []
    if client == 'kafka-python':
        from kafka import KafkaConsumer, TopicPartition
        consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False,
                                 auto_offset_reset='earliest', request_timeout_ms=30000,
                                 api_version_auto_timeout_ms=30000)
        partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic))]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        while len(out) < count and time.time() < deadline:
            for tp, rs in consumer.poll(timeout_ms=500).items():
                out.extend(record(tp.partition, r.offset, r.key, r.value, r.headers) for r in rs)
    else:
        from confluent_kafka import Consumer
        consumer = Consumer({'bootstrap.servers': bootstrap, 'group.id': f"interop-read-{topic}",
                             'auto.offset.reset': 'earliest', 'enable.auto.commit': False})
        consumer.subscribe([topic])
        while len(out) < count and time.time() < deadline:
            for m in consumer.consume(num_messages=1000, timeout=0.5):
                if m.error():
                    print(f"error {m.error()}", file=sys.stderr)
                    continue
                out.append(record(m.partition(), m.offset(), m.key(), m.value(), m.headers()))
    consumer.close()
    for r in out:
        say(r)


def group(group_id):
    from confluent_kafka import Consumer
    joined = []
    consumer = Consumer({'bootstrap.servers': bootstrap, 'group.id': group_id, 'session.timeout.ms': 30000,
                         'heartbeat.interval.ms': 500, 'auto.offset.reset': 'earliest'})
    consumer.subscribe([topic], on_assign=lambda _c, parts: joined.append(parts))
    deadline = time.time() + 60
    while not joined and time.time() < deadline:
        consumer.poll(0.2)
    if not joined:
        sys.exit("not assigned within 60 s")
    say("joined")
    # A background thread would race librdkafka's callbacks; the test writes "stop" once it looked.
    sys.stdin.readline()
    consumer.close()  # sends LeaveGroup
    say("left")


if command == 'produce':
    produce(sys.argv[5])
elif command == 'consume':
    consume(int(sys.argv[5]))
elif command == 'group':
    group(sys.argv[5])
else:
    sys.exit(f"unknown command {command}")
