#!/usr/bin/env bash
# Starts the local services integration tests use, when they are installed but not running.
# A missing service is reported, not fatal here: tests that need it fail under SLUICE_REQUIRE_SERVICES=1.
set -u

up() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

start() { # start NAME PORT COMMAND...
  local name=$1 port=$2
  shift 2
  if up "$port"; then echo "$name: running on $port"; return; fi
  if ! command -v "$1" >/dev/null 2>&1; then echo "$name: not installed ($1 missing)"; return; fi
  echo "$name: starting"
  "$@" >/dev/null 2>&1 || true
  for _ in $(seq 1 30); do up "$port" && { echo "$name: up on $port"; return; }; sleep 1; done
  echo "$name: did not come up on $port"
}

start postgres 5432 bash -c 'pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start'
start redis 6379 redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log
start mosquitto 1883 mosquitto -d -c /etc/mosquitto/mosquitto.conf
start nats 4222 start-stop-daemon --start --oknodo --background --exec /usr/sbin/nats-server -- -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server -l /var/log/nats-server.log
exit 0
