"""Transactions with confluent_kafka (librdkafka). Prints one JSON line per step.

usage:
  txn_confluent.py commit-abort BOOTSTRAP TOPIC TXNID   commit 5 records, abort 5, commit 5
  txn_confluent.py fence BOOTSTRAP TOPIC TXNID          a second producer with the same id fences the first
  txn_confluent.py ctp BOOTSTRAP IN OUT GROUP TXNID N   consume-transform-produce N records, offsets in the txns
  txn_confluent.py loop BOOTSTRAP TOPIC TXNID N         N transactions of 10 records; each held open 1 s after
                                                         its records are written ("open i"), so a broker kill
                                                         lands inside one; errors -> re-init and redo
  txn_confluent.py consume BOOTSTRAP TOPIC ISOLATION COUNT   values as JSON lines (read_committed/read_uncommitted)
"""
import json
import sys
import time

from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition


def out(**kw):
    print(json.dumps(kw), flush=True)


def producer(bootstrap, txn_id, timeout_ms=60000):
    p = Producer({
        'bootstrap.servers': bootstrap,
        'transactional.id': txn_id,
        'transaction.timeout.ms': timeout_ms,
        'linger.ms': 5,
        'reconnect.backoff.ms': 100,
        'reconnect.backoff.max.ms': 500,
        'retry.backoff.ms': 100,
    })
    p.init_transactions(30)
    return p


def send(p, topic, values):
    for v in values:
        p.produce(topic, v.encode(), key=b'k', partition=0)
    p.flush(30)


def commit_abort(bootstrap, topic, txn_id):
    p = producer(bootstrap, txn_id)
    p.begin_transaction()
    send(p, topic, [f'c1-{i}' for i in range(5)])
    p.commit_transaction(30)
    out(step='commit', n=5)
    p.begin_transaction()
    send(p, topic, [f'a-{i}' for i in range(5)])
    p.abort_transaction(30)
    out(step='abort', n=5)
    p.begin_transaction()
    send(p, topic, [f'c2-{i}' for i in range(5)])
    p.commit_transaction(30)
    out(step='commit', n=5)


def fence(bootstrap, topic, txn_id):
    first = producer(bootstrap, txn_id)
    first.begin_transaction()
    send(first, topic, [f'zombie-{i}' for i in range(3)])
    second = producer(bootstrap, txn_id)  # fences the first and aborts its open transaction
    out(step='second-init')
    try:
        first.produce(topic, b'zombie-late', partition=0)
        first.flush(10)
        first.commit_transaction(10)
        out(step='zombie-commit', result='committed')
    except KafkaException as e:
        err = e.args[0]
        out(step='zombie-commit', result='refused', fatal=err.fatal(), code=err.name(), text=err.str())
    second.begin_transaction()
    send(second, topic, [f'new-{i}' for i in range(3)])
    second.commit_transaction(30)
    out(step='second-commit', n=3)


def ctp(bootstrap, src, dst, group, txn_id, n):
    c = Consumer({
        'bootstrap.servers': bootstrap,
        'group.id': group,
        'auto.offset.reset': 'earliest',
        'enable.auto.commit': False,
        'isolation.level': 'read_committed',
    })
    c.subscribe([src])
    p = producer(bootstrap, txn_id)
    done = 0
    deadline = time.time() + 60
    while done < n and time.time() < deadline:
        msgs = c.consume(50, 1.0)
        msgs = [m for m in msgs if m.error() is None]
        if not msgs:
            continue
        p.begin_transaction()
        for m in msgs:
            p.produce(dst, m.value().upper(), key=m.key(), partition=0)
        p.flush(30)
        offsets = [TopicPartition(m.topic(), m.partition(), m.offset() + 1) for m in msgs[-1:]]
        p.send_offsets_to_transaction(offsets, c.consumer_group_metadata(), 30)
        p.commit_transaction(30)
        done += len(msgs)
    c.close()
    out(step='ctp', n=done)


def loop(bootstrap, topic, txn_id, n):
    p = producer(bootstrap, txn_id, 20000)
    i = 0
    while i < n:
        try:
            p.begin_transaction()
            send(p, topic, [f't{i}-{j}' for j in range(10)])
            out(step='open', txn=i)
            time.sleep(1.0)
            p.commit_transaction(30)
            out(step='committed', txn=i)
            i += 1
        except KafkaException as e:
            err = e.args[0]
            out(step='error', txn=i, fatal=err.fatal(), abortable=err.txn_requires_abort(), text=err.str())
            if err.txn_requires_abort() and not err.fatal():
                try:
                    p.abort_transaction(30)
                    out(step='aborted', txn=i)
                    continue
                except KafkaException as e2:
                    out(step='abort-failed', txn=i, text=e2.args[0].str())
            elif err.retriable() and not err.fatal():
                continue
            # Fenced, fatal or unsure: a new instance re-inits (aborting anything left open) and redoes txn i.
            p = producer(bootstrap, txn_id, 20000)
            out(step='reinit', txn=i)
    out(step='done', n=n)


def consume(bootstrap, topic, isolation, count):
    c = Consumer({
        'bootstrap.servers': bootstrap,
        'group.id': f'read-{topic}-{isolation}-{time.time()}',
        'auto.offset.reset': 'earliest',
        'enable.auto.commit': False,
        'isolation.level': isolation,
    })
    c.assign([TopicPartition(topic, 0, 0)])
    got = 0
    idle_until = time.time() + 8
    while time.time() < idle_until and got < count:
        m = c.poll(0.5)
        if m is None or m.error() is not None:
            continue
        print(json.dumps({'v': m.value().decode(), 'o': m.offset()}), flush=True)
        got += 1
        idle_until = time.time() + 3
    c.close()


cmd = sys.argv[1]
args = sys.argv[2:]
if cmd == 'commit-abort':
    commit_abort(*args)
elif cmd == 'fence':
    fence(*args)
elif cmd == 'ctp':
    ctp(*args[:5], int(args[5]))
elif cmd == 'loop':
    loop(args[0], args[1], args[2], int(args[3]))
elif cmd == 'consume':
    consume(args[0], args[1], args[2], int(args[3]))
else:
    sys.exit(f'unknown command {cmd}')
