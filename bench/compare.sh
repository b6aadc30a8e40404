#!/usr/bin/env bash
# The published comparison: the raw libcurl floor, libdcs and Patroni 3.0.2's Etcd3 (Debian's
# package) side by side, on a private single-node etcd and a private 3-member etcd, in alternating
# rounds, then docs/performance.md and docs/perf-*.png from the medians over the rounds.
#
#   bench/compare.sh            # full run: about 12 minutes on a quiet 2-core machine (<= 20 busy)
#   bench/compare.sh --quick    # pipeline check: 2-4 minutes (also COMPARE_QUICK=1)
#
# Sections (each contender in every round; a round is dcs_bench, which pairs the raw requests with
# libdcs iteration by iteration, and bench/compare_patroni.py; odd rounds run libdcs first, even
# rounds Patroni first, so that drift on the shared cores hits all three alike). It also saves every
# figure of the run in bench/results/compare-<date>.json.
#   single node: per-operation latency (get_cluster direct at 3 / 100 / 1000 members,
#                touch_member, attempt_to_acquire_leader, update_leader, one busy HA cycle),
#                HA-cycle CPU, cached get_cluster at 3 / 100 / 1000 members, watch() wake-up
#                latency (put sent -> watch() returned), HA-process memory (once each);
#   3 members:   the per-operation latencies again, through member 1 (bench/lib/etcd3node.sh);
#   failover:    SIGKILL / SIGSTOP of the etcd member in use -> first successful lease keepalive
#                (failover_bench and compare_patroni.py failover, alternating blocks; the member
#                signalled is a raft follower, then the raft leader, in every round).
#
# Environment: COMPARE_QUICK=1 (as --quick), COMPARE_ROUNDS (single-node rounds), COMPARE_SCALE
# (dcs_bench / Patroni iteration counts), COMPARE_CACHE_SCALE (cache section), COMPARE_WATCH_CHANGES,
# COMPARE_3NODE_ROUNDS, COMPARE_3NODE_SCALE, COMPARE_FAILOVER_BLOCKS and COMPARE_FAILOVER_ROUNDS
# (rounds per signal and raft role per block), COMPARE_NO_BUILD=1 (use build/release as it is), COMPARE_NOTE (a line
# for the report, e.g. what else ran), COMPARE_BANNER (a warning put at the top of the report),
# COMPARE_DOC (default docs/performance.md; plots go beside it), COMPARE_KEEP=1 (keep the run
# directory with every raw output).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

QUICK=${COMPARE_QUICK:-}
case "${1:-}" in
  "") ;;
  --quick) QUICK=1 ;;
  *)
    sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2
    exit 2
    ;;
esac
if [ -n "$QUICK" ]; then
  ROUNDS=${COMPARE_ROUNDS:-2} SCALE=${COMPARE_SCALE:-0.1} CACHE_SCALE=${COMPARE_CACHE_SCALE:-0.05}
  WATCH_CHANGES=${COMPARE_WATCH_CHANGES:-50} ROUNDS3=${COMPARE_3NODE_ROUNDS:-2} SCALE3=${COMPARE_3NODE_SCALE:-0.1}
  FO_BLOCKS=${COMPARE_FAILOVER_BLOCKS:-1} FO_ROUNDS=${COMPARE_FAILOVER_ROUNDS:-1} HA_CYCLES=200 SHIPPED=
else
  ROUNDS=${COMPARE_ROUNDS:-5} SCALE=${COMPARE_SCALE:-0.5} CACHE_SCALE=${COMPARE_CACHE_SCALE:-0.2}
  WATCH_CHANGES=${COMPARE_WATCH_CHANGES:-200} ROUNDS3=${COMPARE_3NODE_ROUNDS:-3} SCALE3=${COMPARE_3NODE_SCALE:-0.2}
  FO_BLOCKS=${COMPARE_FAILOVER_BLOCKS:-2} FO_ROUNDS=${COMPARE_FAILOVER_ROUNDS:-2} HA_CYCLES=1000 SHIPPED=1
fi
DOC=${COMPARE_DOC:-docs/performance.md}
BIN=$ROOT/build/release/bench
PY=/usr/bin/python3 # Debian's interpreter: the patroni package lives there

[ -r /usr/lib/python3/dist-packages/patroni/dcs/etcd3.py ] || {
  echo "compare: Patroni 3.0.2 is missing (scripts/setup.sh installs Debian's patroni package)" >&2
  exit 1
}
if [ -z "${COMPARE_NO_BUILD:-}" ]; then
  echo "compare: building the release benchmarks"
  cmake --preset release >/dev/null
  cmake --build --preset release -j2 --target dcs_bench dcs_bench_floor failover_bench >/dev/null
fi

RUN=$(mktemp -d /tmp/libdcs-compare.XXXXXX)
mkdir -p "$RUN/single" "$RUN/three" "$RUN/failover"
# shellcheck source=../scripts/lib/etcd.sh
. scripts/lib/etcd.sh
CLUSTER3=""
cleanup() {
  etcd_stop
  [ -n "$CLUSTER3" ] && bench/lib/etcd3node.sh stop "$CLUSTER3" >/dev/null 2>&1
  if [ -n "${COMPARE_KEEP:-}" ]; then echo "compare: run directory kept: $RUN"; else rm -rf "$RUN"; fi
}
trap cleanup EXIT
STARTED=$(date +%s)
say() { printf 'compare [%4ds]: %s\n' $(($(date +%s) - STARTED)) "$*"; }

# The machine and the software, for the report.
COMPARE_PARAMS="single node: $ROUNDS rounds, dcs_bench / Patroni scale $SCALE (1 = 1000 calls per operation), \
cache scale $CACHE_SCALE, Patroni watch $WATCH_CHANGES changes per size, Patroni HA cycles $HA_CYCLES per round; \
3 members: $ROUNDS3 rounds, scale $SCALE3; failover: $FO_BLOCKS block(s) x $FO_ROUNDS round(s) per signal and role" \
  $PY - "$RUN/env.json" "$QUICK" <<'PY'
import json, os, platform, subprocess, sys, time
def out(*cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True).stdout.strip()
    except OSError:
        return '?'
model, virtual = '?', False
for line in open('/proc/cpuinfo'):
    if line.startswith('model name') and model == '?':
        model = line.split(':', 1)[1].strip()
    if line.startswith('flags'):
        virtual = virtual or 'hypervisor' in line.split()
from patroni.version import __version__ as patroni
json.dump({'date': time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime()), 'cpu': model, 'cores': os.cpu_count(),
           'virtual': virtual,
           'kernel': platform.release(), 'etcd': out('etcd', '--version').splitlines()[0],
           'commit': out('git', 'describe', '--always', '--dirty'), 'patroni': patroni,
           'python': platform.python_version(), 'quick': bool(sys.argv[2]),
           'note': os.environ.get('COMPARE_NOTE', ''), 'banner': os.environ.get('COMPARE_BANNER', ''),
           'params': os.environ.get('COMPARE_PARAMS', ''),
           'loadavg_start': open('/proc/loadavg').read().strip()}, open(sys.argv[1], 'w'))
PY
cp "$RUN/env.json" "$RUN/env-start.json"

# Each section is a pair of functions, libdcs's side (dcs_bench pairs it with the raw requests) and
# Patroni's; in_order runs them in the round's order. $r is the round (or block) number.
in_order() { # ROUND LIBDCS_FUNCTION PATRONI_FUNCTION
  if [ $(($1 % 2)) -eq 1 ]; then timed "$2" && timed "$3"; else timed "$3" && timed "$2"; fi
}
timed() { # FUNCTION: runs it and logs its wall time (RUN/timings.txt: how long each part takes)
  local t0=$SECONDS
  "$1" || return $?
  echo "$1 round $r: $((SECONDS - t0)) s" >>"$RUN/timings.txt"
}
patroni() { $PY bench/compare_patroni.py "$@" >/dev/null 2>>"$RUN/stderr.log"; }
dcs_bench() { "$BIN/dcs_bench" "$@" 2>>"$RUN/stderr.log"; }

lib_ops1() { dcs_bench --endpoint "$ETCD_ENDPOINT" --section ops,getcluster,hacycle --scale "$SCALE" >"$RUN/single/dcs_r$r.txt"; }
pat_ops1() { patroni ops --hosts "$ETCD_ENDPOINT" --scale "$SCALE" --out "$RUN/single/pat_ops_r$r.json"; }
lib_cache() { dcs_bench --endpoint "$ETCD_ENDPOINT" --section cache --scale "$CACHE_SCALE" >"$RUN/single/cache_r$r.txt"; }
pat_cache() {
  patroni watch --hosts "$ETCD_ENDPOINT" --members 3,100,1000 --changes "$WATCH_CHANGES" \
    --out "$RUN/single/pat_watch_r$r.json" &&
    patroni hacycle --hosts "$ETCD_ENDPOINT" --cycles "$HA_CYCLES" --out "$RUN/single/pat_ha_r$r.json"
}
lib_ops3() { dcs_bench --endpoint "$EP3" --section ops,getcluster --scale "$SCALE3" >"$RUN/three/dcs_r$r.txt"; }
pat_ops3() { patroni ops --hosts "$EP3" --scale "$SCALE3" --out "$RUN/three/pat_ops_r$r.json"; }
# failover_bench exits 1 when a round did not recover within its bound: that round is reported as
# failed, the run goes on.
lib_failover() {
  "$BIN/failover_bench" --mode both --target follower,leader --rounds "$FO_ROUNDS" >"$RUN/failover/dcs_b$r.txt" \
    2>>"$RUN/stderr.log" || say "failover_bench reported a failed round (see the report)"
}
pat_failover() {
  patroni failover --hosts "$ENDPOINTS3" --cluster-dir "$CLUSTER3" --rounds "$FO_ROUNDS" --seed "$r" \
    --targets follower,leader \
    --out "$RUN/failover/pat_b$r.json"
}

# --- single node ---------------------------------------------------------------------------------
etcd_start "$RUN/etcd1"
say "single-node etcd on $ETCD_ENDPOINT: $ROUNDS rounds (scale $SCALE, cache scale $CACHE_SCALE)"
for r in $(seq "$ROUNDS"); do
  say "round $r/$ROUNDS: operations, get_cluster, HA-cycle CPU"
  in_order "$r" lib_ops1 pat_ops1
  say "round $r/$ROUNDS: watcher cache, watch() wake-up, Patroni HA-cycle CPU and memory"
  in_order "$r" lib_cache pat_cache
done
say "memory: libdcs and a bare libcurl process (fresh processes)"
dcs_bench --endpoint "$ETCD_ENDPOINT" --section memory --floor-exe "$BIN/dcs_bench_floor" >"$RUN/single/dcs_memory.txt"
if [ -n "$SHIPPED" ]; then
  say "Patroni as shipped (Nagle, about 40 ms per request with a body): operations, few iterations"
  patroni ops --hosts "$ETCD_ENDPOINT" --tcp shipped --scale 0.02 --out "$RUN/single/pat_shipped.json"
fi
etcd_stop

# --- three members -------------------------------------------------------------------------------
CLUSTER3="$RUN/etcd3"
ENDPOINTS3=$(bench/lib/etcd3node.sh start "$CLUSTER3")
EP3=${ENDPOINTS3%%,*}
say "3-member etcd $ENDPOINTS3 (clients talk to $EP3): $ROUNDS3 rounds (scale $SCALE3)"
curl -fs -X POST -d '{}' "$EP3/v3/maintenance/status" >"$RUN/three/member1-status.json" || true
for r in $(seq "$ROUNDS3"); do
  say "3 members, round $r/$ROUNDS3: operations, get_cluster"
  in_order "$r" lib_ops3 pat_ops3
done

# --- failover (3 members) ------------------------------------------------------------------------
say "failover: $FO_BLOCKS block(s) of $FO_ROUNDS round(s) per signal and contender"
for r in $(seq "$FO_BLOCKS"); do
  say "failover block $r/$FO_BLOCKS"
  in_order "$r" lib_failover pat_failover
done
bench/lib/etcd3node.sh stop "$CLUSTER3" >/dev/null
CLUSTER3=""

# --- report --------------------------------------------------------------------------------------
$PY - "$RUN/env.json" "$STARTED" <<'PY'
import json, sys, time
env = json.load(open(sys.argv[1]))
env['loadavg_end'] = open('/proc/loadavg').read().strip()
env['runtime_s'] = int(time.time()) - int(sys.argv[2])
json.dump(env, open(sys.argv[1], 'w'))
PY
say "writing $DOC and the plots beside it"
mkdir -p bench/results
SAVED=bench/results/compare-$(date +%Y-%m-%d-%H%M)${QUICK:+-quick}.json
$PY bench/compare_report.py --dir "$RUN" --doc "$DOC" --save "$SAVED"
say "every figure of the run: $SAVED (compare_report.py --from-json $SAVED renders the page again)"
say "done: $DOC"
