#!/usr/bin/env bash
# A throw-away 3-member etcd on free loopback ports, for bench/compare.sh and the Patroni driver
# (bench/compare_patroni.py restarts the members it kills through this script).
#
#   etcd3node.sh start DIR        start members n1..n3 (data, logs, pids and ports under DIR)
#   etcd3node.sh endpoints DIR    http://127.0.0.1:P1,http://127.0.0.1:P2,http://127.0.0.1:P3
#   etcd3node.sh pid DIR I        PID of member I (1..3)
#   etcd3node.sh restart DIR I    start member I again on its data dir (after a SIGKILL)
#   etcd3node.sh wait DIR         until every member answers and they agree on one raft leader
#   etcd3node.sh stop DIR         stop every member by its PID and remove DIR
#
# Each member's PID is in DIR/nI.pid, its client port in DIR/nI.client; cluster.env holds the
# endpoint list. Runs etcd with every ETCD_* variable removed (etcd reads them as flags).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../../scripts/lib/etcd.sh
. "$HERE/../../scripts/lib/etcd.sh" # free_port

launch() { # DIR I: start member I with the ports and initial cluster already chosen
  local dir=$1 i=$2 client peer
  client=$(cat "$dir/n$i.client")
  peer=$(cat "$dir/n$i.peer")
  # shellcheck disable=SC2046
  env $(compgen -e | grep '^ETCD_' | sed 's/^/-u /') etcd --name "n$i" --data-dir "$dir/n$i.data" \
    --listen-client-urls "http://127.0.0.1:$client" --advertise-client-urls "http://127.0.0.1:$client" \
    --listen-peer-urls "http://127.0.0.1:$peer" --initial-advertise-peer-urls "http://127.0.0.1:$peer" \
    --initial-cluster "$(cat "$dir/initial-cluster")" --initial-cluster-state new \
    --initial-cluster-token "bench3-$(cat "$dir/n1.client")" --logger zap --log-outputs stderr \
    >>"$dir/n$i.log" 2>&1 </dev/null &
  echo $! >"$dir/n$i.pid"
}

endpoints() {
  local dir=$1
  echo "http://127.0.0.1:$(cat "$dir/n1.client"),http://127.0.0.1:$(cat "$dir/n2.client"),http://127.0.0.1:$(cat "$dir/n3.client")"
}

# Every member answers /v3/maintenance/status and all name the same raft leader.
healthy() {
  local dir=$1 i leaders=""
  for i in 1 2 3; do
    local out
    out=$(curl -fs -m 1 -X POST -d '{}' "http://127.0.0.1:$(cat "$dir/n$i.client")/v3/maintenance/status" 2>/dev/null) ||
      return 1
    leaders+=$(echo "$out" | sed -n 's/.*"leader":"\([0-9]*\)".*/\1/p')" "
  done
  [ "$(echo "$leaders" | tr ' ' '\n' | grep -c .)" = 3 ] && [ "$(echo "$leaders" | tr ' ' '\n' | grep . | sort -u | wc -l)" = 1 ]
}

wait_healthy() {
  local dir=$1
  for _ in $(seq 300); do
    healthy "$dir" && return 0
    sleep 0.1
  done
  echo "etcd3node: the 3-member etcd in $dir did not become healthy; member logs:" >&2
  tail -n 5 "$dir"/n*.log >&2
  return 1
}

stop_member() {
  local pid
  pid=$(cat "$1/n$2.pid" 2>/dev/null) || return 0
  kill -CONT "$pid" 2>/dev/null || true
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
}

cmd=${1:-}
dir=${2:-}
if [ -z "$cmd" ] || [ -z "$dir" ]; then
  echo "usage: $0 start|endpoints|pid|restart|wait|stop DIR [I]" >&2
  exit 2
fi
case $cmd in
  start)
    mkdir -p "$dir"
    used=" "
    cluster=""
    for i in 1 2 3; do
      for role in client peer; do
        port=$(free_port)
        while [[ $used == *" $port "* ]]; do port=$(free_port); done
        used+="$port "
        echo "$port" >"$dir/n$i.$role"
      done
      cluster+="${cluster:+,}n$i=http://127.0.0.1:$(cat "$dir/n$i.peer")"
    done
    echo "$cluster" >"$dir/initial-cluster"
    for i in 1 2 3; do launch "$dir" "$i"; done
    echo "ENDPOINTS=$(endpoints "$dir")" >"$dir/cluster.env"
    wait_healthy "$dir"
    endpoints "$dir"
    ;;
  endpoints) endpoints "$dir" ;;
  pid) cat "$dir/n${3:?member}.pid" ;;
  restart)
    i=${3:?member}
    stop_member "$dir" "$i"
    launch "$dir" "$i"
    ;;
  wait) wait_healthy "$dir" ;;
  stop)
    for i in 1 2 3; do stop_member "$dir" "$i"; done
    rm -rf "$dir"
    ;;
  *)
    echo "etcd3node: unknown command $cmd" >&2
    exit 2
    ;;
esac
