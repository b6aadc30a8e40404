#!/usr/bin/env bash
# The main job, in one command: a live failover you can watch.
#   set up and build -> private etcd on free loopback ports -> three ha_daemon members elect a
#   leader -> SIGKILL the leader, time the takeover -> dcsctl switchover -> clean up.
# Nothing is left running afterwards (daemons and etcd are stopped by PID, temp dirs removed).
# DCS_DEMO_TTL / DCS_DEMO_LOOP_WAIT change the timing; DCS_DEMO_BIN=DIR runs programs already
# built there without the set-up step. Defaults: ttl 5 s, loop_wait 1 s, chosen
# so the demo takes about a minute; Patroni's defaults are 30 s and 10 s).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
started=$(date +%s.%N)
elapsed() { awk -v s="$started" -v n="$(date +%s.%N)" 'BEGIN { printf "%6.1f s", n - s }'; }
say() { echo "[$(elapsed)] $*"; }

if [ -n "${DCS_DEMO_BIN:-}" ]; then
  BIN=$DCS_DEMO_BIN # already built programs (e.g. build/dev/examples): no set-up
else
  say "setting up (packages, release build)..."
  scripts/setup.sh >/dev/null
  BIN=$ROOT/build/release/examples
fi
TTL=${DCS_DEMO_TTL:-5}
LOOP_WAIT=${DCS_DEMO_LOOP_WAIT:-1}
RETRY_TIMEOUT=2
SCOPE=demo

# shellcheck source=lib/etcd.sh
. scripts/lib/etcd.sh
WORK=$(mktemp -d /tmp/libdcs-demo.XXXXXX)
declare -A PIDS=()
cleanup() {
  for name in "${!PIDS[@]}"; do kill -TERM "${PIDS[$name]}" 2>/dev/null || true; done
  for name in "${!PIDS[@]}"; do wait "${PIDS[$name]}" 2>/dev/null || true; done
  etcd_stop
  rm -rf "$WORK"
}
trap cleanup EXIT

say "starting a private etcd..."
etcd_start "$WORK/etcd"
HOSTS=${ETCD_ENDPOINT#http://}
say "etcd $(etcd --version | head -1 | awk '{print $3}') listens on $ETCD_ENDPOINT (pid $ETCD_PID)"

dcsctl() { "$BIN/dcsctl" --hosts "$HOSTS" --scope "$SCOPE" "$@"; }

start_member() {
  local name=$1 n=${1#node}
  "$BIN/ha_daemon" --hosts "$HOSTS" --scope "$SCOPE" --name "$name" --ttl "$TTL" --loop-wait "$LOOP_WAIT" \
    --retry-timeout "$RETRY_TIMEOUT" --conn-url "postgres://127.0.0.$n:5432/postgres" \
    --api-url "http://127.0.0.$n:8008/patroni" >>"$WORK/$name.events" 2>>"$WORK/$name.log" &
  PIDS[$name]=$!
}

acquired_count() { cat "$WORK"/*.events 2>/dev/null | grep -c '"event":"acquired"' || true; }

# Waits until dcsctl's view names a leader other than $1 (""/none: any leader); prints it.
wait_for_leader_other_than() {
  local old=$1 deadline=$(($(date +%s) + $2)) leader
  while [ "$(date +%s)" -lt "$deadline" ]; do
    leader=$(dcsctl list --format json 2>/dev/null |
      python3 -c 'import json,sys; print(json.load(sys.stdin).get("leader") or "")' 2>/dev/null || true)
    if [ -n "$leader" ] && [ "$leader" != "$old" ]; then
      echo "$leader"
      return 0
    fi
    sleep 0.05
  done
  return 1
}

say "starting three ha_daemon members (ttl ${TTL} s, loop_wait ${LOOP_WAIT} s)..."
for name in node1 node2 node3; do start_member "$name"; done
leader=$(wait_for_leader_other_than "" 60) || { say "no leader was elected"; tail "$WORK"/*.log; exit 1; }
say "$leader won the election; waiting for the replicas to register..."
for _ in $(seq 100); do
  [ "$(dcsctl list --format json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["members"]))')" = 3 ] && break
  sleep 0.1
done
dcsctl list

say "SIGKILL to the leader $leader (pid ${PIDS[$leader]}): its lease must expire before anyone takes over"
before=$(acquired_count)
killed_at=$(date +%s.%N)
kill -KILL "${PIDS[$leader]}"
wait "${PIDS[$leader]}" 2>/dev/null || true
unset "PIDS[$leader]"
new_leader=$(wait_for_leader_other_than "$leader" $((TTL + LOOP_WAIT + 30))) || { say "no takeover"; exit 1; }
took=$(awk -v a="$killed_at" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
say "$new_leader took over ${took} s after the kill (Patroni's bound: ttl + loop_wait = $((TTL + LOOP_WAIT)) s, plus etcd's lease expiry check)"
[ "$(acquired_count)" -gt "$before" ] || say "(note: the takeover was seen in etcd before its JSON event line)"
dcsctl list

say "restarting $leader as a replica"
start_member "$leader"
for _ in $(seq 100); do
  dcsctl list --format json | python3 -c '
import json, sys
c = json.load(sys.stdin)
sys.exit(0 if any(m["name"] == sys.argv[1] and m["state"] == "running" for m in c["members"]) else 1)' "$leader" && break
  sleep 0.1
done

say "dcsctl switchover: $new_leader hands over to $leader"
switch_at=$(date +%s.%N)
dcsctl switchover --leader "$new_leader" --candidate "$leader" --wait $((TTL * 4))
took=$(awk -v a="$switch_at" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
say "switchover done in ${took} s"
dcsctl list

say "what each member printed on stdout (one JSON line per role change):"
cat "$WORK"/*.events | sort
say "stopping the members (SIGTERM: a leader releases its key) and etcd"
