#!/usr/bin/env bash
# Soak test (not part of CI): three ha_daemon members with the HA loop at loop_wait 1 s against a
# healthy single-node etcd for --minutes (default 30). After a 30 s warm-up it records each
# daemon's RSS, open fds and threads, samples them every minute and compares the end with the
# start. Fails (exit 1) when
#   - RSS grew by more than 1 MiB + 5 % of the start value (allocator noise, no leak),
#   - the fd count grew by more than 2 (a connection being replaced at the sampling instant) or
#     the thread count changed at all,
#   - any daemon logged an ERROR line after the warm-up, left, or the leadership changed
#     (etcd stays healthy throughout, so none of these may happen).
#   scripts/soak.sh [--minutes N]
# DCS_SOAK_BIN=DIR uses programs already built there instead of build/release/examples.
set -euo pipefail
cd "$(dirname "$0")/.."
MINUTES=30
while [ $# -gt 0 ]; do
  case $1 in
    --minutes) MINUTES=$2; shift 2 ;;
    -h | --help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "soak: unknown argument $1" >&2; exit 2 ;;
  esac
done
BIN=${DCS_SOAK_BIN:-$PWD/build/release/examples}
if [ ! -x "$BIN/ha_daemon" ]; then
  echo "soak: building ha_daemon (release preset)..."
  cmake --preset release >/dev/null
  cmake --build --preset release -j "${DCS_JOBS:-2}" --target ha_daemon >/dev/null
fi
WARMUP=30

# shellcheck source=lib/etcd.sh
. scripts/lib/etcd.sh
WORK=$(mktemp -d /tmp/libdcs-soak.XXXXXX)
declare -A PIDS=()
cleanup() {
  for name in "${!PIDS[@]}"; do kill -TERM "${PIDS[$name]}" 2>/dev/null || true; done
  for name in "${!PIDS[@]}"; do wait "${PIDS[$name]}" 2>/dev/null || true; done
  etcd_stop
  if [ "${fail:-1}" -eq 0 ]; then rm -rf "$WORK"; else echo "soak: logs kept in $WORK"; fi
}
trap cleanup EXIT
etcd_start "$WORK/etcd"
HOSTS=${ETCD_ENDPOINT#http://}
for n in 1 2 3; do
  "$BIN/ha_daemon" --hosts "$HOSTS" --scope soak --name "node$n" --ttl 10 --loop-wait 1 --retry-timeout 3 \
    --conn-url "postgres://127.0.0.$n:5432/postgres" --api-url "http://127.0.0.$n:8008/patroni" \
    >"$WORK/node$n.events" 2>"$WORK/node$n.log" &
  PIDS[node$n]=$!
done
echo "soak: $MINUTES min, three daemons (loop_wait 1 s) on etcd $ETCD_ENDPOINT; logs in $WORK"

# sample NAME -> "rss_kb fds threads"
sample() {
  local pid=${PIDS[$1]}
  [ -d "/proc/$pid" ] || { echo "gone"; return; }
  echo "$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status") $(find "/proc/$pid/fd" -mindepth 1 -maxdepth 1 | wc -l)" \
    "$(awk '/^Threads:/ {print $2}' "/proc/$pid/status")"
}
errors() { grep -c ' ERROR ' "$WORK/$1.log" || true; }
acquired() { cat "$WORK"/*.events | grep -c '"event":"acquired"' || true; }

sleep "$WARMUP"
declare -A START=() ERR0=()
for name in node1 node2 node3; do START[$name]=$(sample "$name"); ERR0[$name]=$(errors "$name"); done
ACQ0=$(acquired)
[ "$ACQ0" -ge 1 ] || { echo "soak: no leader after the warm-up" >&2; exit 1; }
end=$(($(date +%s) + MINUTES * 60))
while [ "$(date +%s)" -lt "$end" ]; do
  sleep $((end - $(date +%s) < 60 ? end - $(date +%s) : 60))
  healthy=$(curl -fs -m 2 "$ETCD_ENDPOINT/health" | grep -c '"true"' || true)
  line="[$(date -u +%H:%M:%S)] etcd healthy=$healthy"
  for name in node1 node2 node3; do line+="  $name: $(sample "$name")"; done
  echo "$line  (rss_kb fds threads)"
done

fail=0
printf '%-6s %22s %22s %8s\n' member "start rss/fds/threads" "end rss/fds/threads" errors
for name in node1 node2 node3; do
  read -r rss0 fd0 th0 <<<"${START[$name]}"
  now=$(sample "$name")
  if [ "$now" = gone ]; then echo "soak: $name exited" >&2; fail=1; continue; fi
  read -r rss1 fd1 th1 <<<"$now"
  errs=$(($(errors "$name") - ERR0[$name]))
  printf '%-6s %22s %22s %8s\n' "$name" "$rss0/$fd0/$th0" "$rss1/$fd1/$th1" "$errs"
  limit=$((rss0 + 1024 + rss0 / 20))
  [ "$rss1" -le "$limit" ] || { echo "soak: $name RSS grew beyond $limit kB" >&2; fail=1; }
  [ "$fd1" -le $((fd0 + 2)) ] || { echo "soak: $name fd count grew" >&2; fail=1; }
  [ "$th1" -eq "$th0" ] || { echo "soak: $name thread count changed" >&2; fail=1; }
  [ "$errs" -eq 0 ] || { echo "soak: $name logged $errs ERROR lines; see $WORK/$name.log" >&2; fail=1; }
done
[ "$(acquired)" -eq "$ACQ0" ] || { echo "soak: the leadership changed while etcd was healthy" >&2; fail=1; }
[ "$fail" -ne 0 ] || echo "soak: flat and error-free over $MINUTES min"
exit "$fail"
