#!/usr/bin/env bash
# Patroni 3.0.2's side of bench/failover.sh: runs the `failover` section of the Patroni baseline
# harness (../shared/bench/patroni-baseline next to the repository, read-only, used as it is) against a private
# 3-node etcd started by its etcd.sh: SIGKILL / SIGSTOP of the node Patroni talks to (raft leader
# and follower) -> first successful get_cluster / update_leader.
#   bench/patroni_failover.sh [patroni_dcs_bench.py options, e.g. --failover-reps 5]
# Installs Debian's patroni package when it is missing. Results: $PB_OUT (default
# /tmp/pb-results-failover) as JSON and markdown; the markdown table is also printed.
set -euo pipefail

BASELINE=${PB_BASELINE:-$(cd "$(dirname "$0")/../.." && pwd)/shared/bench/patroni-baseline}
OUT=${PB_OUT:-/tmp/pb-results-failover}
if [ ! -x "$BASELINE/patroni_dcs_bench.py" ] || [ ! -x "$BASELINE/etcd.sh" ]; then
  echo "patroni_failover: no Patroni baseline in $BASELINE" >&2
  exit 1
fi

missing=()
for p in patroni etcd-server etcd-client; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "patroni_failover: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

dir=$(mktemp -d /tmp/pb-fo-etcd3.XXXXXX)
cleanup() {
  "$BASELINE/etcd.sh" stop "$dir" >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap cleanup EXIT

# etcd.sh wants fixed ports (node i: BASE+i for clients, BASE+100+i for peers) and refuses ports
# in use: a few random bases in 20000-29000.
started=
for _ in 1 2 3 4 5; do
  base=$((20000 + (RANDOM % 90) * 100))
  if "$BASELINE/etcd.sh" start "$dir" 3 "$base" >/dev/null 2>"$dir/start.err"; then
    started=1
    break
  fi
  "$BASELINE/etcd.sh" stop "$dir" >/dev/null 2>&1 || true
done
[ -n "$started" ] || {
  echo "patroni_failover: could not start a 3-node etcd:" >&2
  cat "$dir/start.err" >&2
  exit 1
}
echo "patroni_failover: 3-node etcd at $("$BASELINE/etcd.sh" endpoints "$dir")"

# From the baseline directory, as its README runs it; --etcd-dir points at our cluster so that a
# stale /tmp/pb-etcd1 of someone else is never looked at.
cd "$BASELINE"
./patroni_dcs_bench.py failover --cluster3-dir "$dir" --etcd-dir "$dir" \
  --hosts "$("$BASELINE/etcd.sh" endpoints "$dir" | cut -d, -f1)" --out-dir "$OUT" "$@"
