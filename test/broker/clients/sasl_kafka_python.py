"""Produces one record with kafka-python over SASL (SaslHandshake v0, bare SASL frames) and prints
"ok", or "failed: <error class>".

usage: sasl_kafka_python.py BOOTSTRAP USER PASSWORD [TIMEOUT_MS [MECHANISM [CAFILE]]]
MECHANISM: PLAIN (default), SCRAM-SHA-256 or SCRAM-SHA-512; with CAFILE the connection is TLS.
"""
import sys

from kafka import KafkaProducer

bootstrap, user, password = sys.argv[1], sys.argv[2], sys.argv[3]
timeout_ms = int(sys.argv[4]) if len(sys.argv) > 4 else 30000
mechanism = sys.argv[5] if len(sys.argv) > 5 else 'PLAIN'
cafile = sys.argv[6] if len(sys.argv) > 6 else None
try:
    producer = KafkaProducer(bootstrap_servers=bootstrap,
                             security_protocol='SASL_SSL' if cafile else 'SASL_PLAINTEXT',
                             ssl_cafile=cafile, sasl_mechanism=mechanism,
                             sasl_plain_username=user, sasl_plain_password=password, request_timeout_ms=timeout_ms,
                             api_version_auto_timeout_ms=timeout_ms, max_block_ms=timeout_ms)
    producer.send('secured', b'hello').get(timeout=10)
    producer.close()
    print("ok")
except Exception as e:  # noqa: BLE001 - the test only needs to know it failed
    print(f"failed: {type(e).__name__}")
