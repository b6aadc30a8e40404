#!/usr/bin/env bash
# libdcs's DCS operations beside the raw requests they send and beside Patroni 3.0.2's Etcd3 (and
# both watcher caches: cached get_cluster, put -> watch() latency), all
# against one private etcd (free loopback ports) in one run; writes bench/results/<date>.md (and
# .json) with the side-by-side tables.
#
#   bench/dcs.sh                      # full run (about 5-8 minutes)
#   DCS_BENCH_SCALE=0.2 PB_SCALE=0.2 PB_SHIPPED_SCALE=0.1 PB_WATCH_SCALE=0.5 bench/dcs.sh  # quick run
#
# Environment: DCS_BENCH_SCALE (libdcs iteration counts, default 1), PB_SCALE (Patroni with
# TCP_NODELAY, default 1; 0 skips every Patroni section, as does a missing PATRONI_BASELINE), PB_SHIPPED_SCALE (Patroni as shipped, ops only; 0 skips; default 0.25),
# PB_WATCH_SCALE (Patroni's watch section: 200 x scale leader changes; default 5 = 1000),
# DCS_BENCH_NO_BUILD=1 (use the existing build/release binaries), DCS_BENCH_NOTE (a line put
# into the report, e.g. what else was running).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
SCALE=${DCS_BENCH_SCALE:-1}
PB_SCALE=${PB_SCALE:-1}
PB_SHIPPED_SCALE=${PB_SHIPPED_SCALE:-0.25}
PB_WATCH_SCALE=${PB_WATCH_SCALE:-5}
BASELINE=${PATRONI_BASELINE:-/work/shared/bench/patroni-baseline/patroni_dcs_bench.py}
BIN=$ROOT/build/release/bench

if [ -z "${DCS_BENCH_NO_BUILD:-}" ]; then
  cmake --preset release >/dev/null
  cmake --build --preset release -j2 --target dcs_bench dcs_bench_floor >/dev/null
fi

RUN=$(mktemp -d /tmp/libdcs-dcs-bench.XXXXXX)
# shellcheck source=../scripts/lib/etcd.sh
. scripts/lib/etcd.sh
cleanup() {
  etcd_stop
  rm -rf "$RUN"
}
trap cleanup EXIT
etcd_start "$RUN/etcd"
echo "dcs.sh: etcd on $ETCD_ENDPOINT (pid $ETCD_PID); run dir $RUN"

# The Patroni harness reads an etcd.sh-style directory to find the etcd PID (for etcd's own CPU).
mkdir -p "$RUN/pb-etcd"
echo "NODES=1" >"$RUN/pb-etcd/cluster.env"
echo "$ETCD_PID" >"$RUN/pb-etcd/n1.pid"

python3 - "$RUN/env.json" <<PY
import json, os, platform, subprocess, sys, time
commit = subprocess.run(['git', '-C', '$ROOT', 'describe', '--always', '--dirty'], capture_output=True, text=True).stdout.strip()
etcd = subprocess.run(['etcd', '--version'], capture_output=True, text=True).stdout.splitlines()[0]
json.dump({'date': time.strftime('%Y-%m-%d %H:%M %Z'), 'commit': commit, 'etcd': etcd, 'cpus': os.cpu_count(),
           'kernel': platform.release(), 'note': os.environ.get('DCS_BENCH_NOTE', '')}, open(sys.argv[1], 'w'))
PY

echo "dcs.sh: libdcs sections ops, getcluster, hacycle (scale $SCALE)"
"$BIN/dcs_bench" --endpoint "$ETCD_ENDPOINT" --section ops,getcluster,hacycle --scale "$SCALE" | tee "$RUN/dcs_main.txt"
echo "dcs.sh: libdcs watcher cache section (scale $SCALE)"
"$BIN/dcs_bench" --endpoint "$ETCD_ENDPOINT" --section cache --scale "$SCALE" | tee "$RUN/dcs_cache.txt"
echo "dcs.sh: libdcs memory section (fresh process)"
"$BIN/dcs_bench" --endpoint "$ETCD_ENDPOINT" --section memory --floor-exe "$BIN/dcs_bench_floor" | tee "$RUN/dcs_memory.txt"

if [ ! -r "$BASELINE" ]; then
  # The baseline harness lives outside the repository (../shared); without it only libdcs's side
  # is measured here. bench/compare.sh drives Patroni with its own in-repo script.
  echo "dcs.sh: no Patroni baseline at $BASELINE (set PATRONI_BASELINE): Patroni's columns stay empty;" \
    "bench/compare.sh measures Patroni without it"
  PB_SCALE=0 PB_SHIPPED_SCALE=0
fi
if [ "$PB_SCALE" != "0" ]; then
  echo "dcs.sh: Patroni 3.0.2 with TCP_NODELAY: ops, getcluster, haloop (scale $PB_SCALE)"
  /usr/bin/python3 "$BASELINE" ops,getcluster,haloop --hosts "$ETCD_ENDPOINT" --tcp-mode nodelay --scale "$PB_SCALE" \
    --etcd-dir "$RUN/pb-etcd" --cluster3-dir "$RUN/no-cluster3" --idle-s 2 --out-dir "$RUN/pb-nodelay" \
    --build-dir "$RUN/pb-build" >/dev/null
  # Its watch section makes 200 x scale leader changes: scale 5 gives the 1000 of libdcs's side.
  echo "dcs.sh: Patroni 3.0.2 with TCP_NODELAY: watch (scale $PB_WATCH_SCALE)"
  /usr/bin/python3 "$BASELINE" watch --hosts "$ETCD_ENDPOINT" --tcp-mode nodelay --scale "$PB_WATCH_SCALE" \
    --etcd-dir "$RUN/pb-etcd" --cluster3-dir "$RUN/no-cluster3" --out-dir "$RUN/pb-watch" \
    --build-dir "$RUN/pb-build" >/dev/null
  echo "dcs.sh: Patroni 3.0.2 memory after 1000 busy cycles"
  python3 bench/patroni_mem.py --hosts "$ETCD_ENDPOINT" --iterations 1000 --baseline "$BASELINE" \
    >"$RUN/patroni_mem.json"
fi
if [ "$PB_SHIPPED_SCALE" != "0" ]; then
  echo "dcs.sh: Patroni 3.0.2 as shipped (Nagle): ops (scale $PB_SHIPPED_SCALE)"
  /usr/bin/python3 "$BASELINE" ops --hosts "$ETCD_ENDPOINT" --tcp-mode shipped --scale "$PB_SHIPPED_SCALE" \
    --etcd-dir "$RUN/pb-etcd" --cluster3-dir "$RUN/no-cluster3" --out-dir "$RUN/pb-shipped" \
    --build-dir "$RUN/pb-build" >/dev/null
fi

mkdir -p bench/results
OUT=bench/results/$(date +%Y-%m-%d-%H%M).md
python3 bench/dcs_report.py --dir "$RUN" --out "$OUT" >/dev/null
echo
cat "$OUT"
echo "dcs.sh: wrote $OUT (and ${OUT%.md}.json)"
