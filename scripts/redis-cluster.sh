#!/usr/bin/env bash
# A local Redis Cluster for trying Tasklane on one (issue #11): 6 redis-server processes on
# 127.0.0.1 — 3 masters, 3 replicas — made with `redis-cli --cluster create`. The tests
# (test/support/redisCluster.ts) and the bench start their clusters with this script, so there is
# one way to make one.
#
#   scripts/redis-cluster.sh start <dir> <first-port>   # ports first…first+5 (bus ports +10000)
#   scripts/redis-cluster.sh stop <dir>                 # stops the nodes started in <dir>
#
# `start` prints `REDIS_CLUSTER_NODES=127.0.0.1:<first>,…` last: export it for the API and worker
# (and leave REDIS_URL unset). Each node keeps its config, pid file and log in <dir>/<port>/.
# No persistence: a restarted node comes back empty. Environment:
#   REDIS_CLUSTER_NODE_TIMEOUT_MS  cluster-node-timeout: how long a silent master stays a master
#                                  before its replica takes over (default 5000; the tests use 1000)
#   REDIS_CLUSTER_WAIT_SECONDS     how long `start` waits for the nodes and for cluster_state:ok (default 60)
set -euo pipefail

readonly NODES=6
node_timeout="${REDIS_CLUSTER_NODE_TIMEOUT_MS:-5000}"
wait_seconds="${REDIS_CLUSTER_WAIT_SECONDS:-60}"

usage() {
  echo "usage: $0 start <dir> <first-port> | stop <dir>" >&2
  exit 2
}

# Waits until `$1` succeeds, checking every 0.2 s, for at most $wait_seconds; says what it waited for.
wait_until() {
  local what="$1"
  shift
  local deadline=$((SECONDS + wait_seconds))
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS >= deadline)); then
      echo "redis-cluster: gave up after ${wait_seconds} s waiting for ${what}" >&2
      return 1
    fi
    sleep 0.2
  done
}

answers_ping() { [[ "$(redis-cli -h 127.0.0.1 -p "$1" ping 2>/dev/null)" == PONG ]]; }
cluster_ok() { redis-cli -h 127.0.0.1 -p "$1" cluster info 2>/dev/null | grep -q '^cluster_state:ok'; }
# Every node sees 3 replicas, and this node, if a replica, has synced with its master: only then
# can a replica take over a killed master.
replicas_ready() {
  [[ "$(redis-cli -h 127.0.0.1 -p "$1" cluster nodes 2>/dev/null | grep -cE '[ ,]slave ')" == 3 ]] || return 1
  local replication
  replication="$(redis-cli -h 127.0.0.1 -p "$1" info replication 2>/dev/null)"
  grep -q '^role:master' <<<"$replication" || grep -q '^master_link_status:up' <<<"$replication"
}

start() {
  local dir="$1" first="$2"
  [[ "$first" =~ ^[0-9]+$ ]] && ((first >= 1024 && first + NODES - 1 + 10000 <= 65535)) ||
    { echo "redis-cluster: first port must be 1024-$((65535 - 10000 - NODES + 1)) (bus ports are port+10000)" >&2; exit 2; }
  command -v redis-server >/dev/null && command -v redis-cli >/dev/null ||
    { echo "redis-cluster: needs redis-server and redis-cli on PATH (Debian/Ubuntu: apt-get install redis-server)" >&2; exit 1; }
  mkdir -p "$dir"
  dir="$(cd "$dir" && pwd)"
  local seeds=() port
  for ((i = 0; i < NODES; i++)); do
    port=$((first + i))
    seeds+=("127.0.0.1:${port}")
    mkdir -p "${dir}/${port}"
    rm -f "${dir}/${port}/nodes.conf"
    cat >"${dir}/${port}/redis.conf" <<EOF
port ${port}
bind 127.0.0.1
dir ${dir}/${port}
daemonize yes
pidfile ${dir}/${port}/redis.pid
logfile ${dir}/${port}/redis.log
loglevel warning
save ""
appendonly no
cluster-enabled yes
cluster-config-file nodes.conf
cluster-node-timeout ${node_timeout}
# A replica always takes over from a failed master, however long it was cut off (the test kills
# masters while they take writes; a stale replica is better than a slot without a master here).
cluster-replica-validity-factor 0
EOF
    redis-server "${dir}/${port}/redis.conf"
  done
  for ((i = 0; i < NODES; i++)); do wait_until "node $((first + i)) to answer PING" answers_ping $((first + i)); done
  redis-cli --cluster create "${seeds[@]}" --cluster-replicas 1 --cluster-yes >"${dir}/create.log" 2>&1 ||
    { cat "${dir}/create.log" >&2; exit 1; }
  for ((i = 0; i < NODES; i++)); do
    wait_until "node $((first + i)) to report cluster_state:ok" cluster_ok $((first + i))
    wait_until "node $((first + i)) to see 3 synced replicas" replicas_ready $((first + i))
  done
  local IFS=,
  echo "REDIS_CLUSTER_NODES=${seeds[*]}"
}

stop() {
  local dir="$1" pidfile pid pids=()
  shopt -s nullglob
  # Read every pid first: a node removes its pid file when it exits.
  for pidfile in "$dir"/*/redis.pid; do pids+=("$(cat "$pidfile")"); done
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do
    for ((tries = 0; tries < 50; tries++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  rm -f "$dir"/*/redis.pid
}

case "${1:-}" in
  start) [[ $# -eq 3 ]] || usage; start "$2" "$3" ;;
  stop) [[ $# -eq 2 ]] || usage; stop "$2" ;;
  *) usage ;;
esac
