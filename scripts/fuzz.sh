#!/usr/bin/env bash
# Builds the libFuzzer targets (the `fuzz` preset: clang, ASan + UBSan) and runs them.
#
#   scripts/fuzz.sh [--seconds N] [--jobs J] [--smoke] [--preset P] [target...]
#
# Default: every target for 600 s, two at a time. --smoke: 30 s each (what scripts/test.sh
# runs) with a fixed libFuzzer seed, so that a red CI run can be replayed; the long runs use
# fresh seeds and do the exploring. Each target starts from its committed seeds (tests/fuzz/corpus/<target>) plus what
# earlier runs found (build/fuzz/corpus/<target>, where new finds go); a crash, leak, timeout or
# sanitizer report is kept under build/fuzz/artifacts/<target>/ and fails the run. Replay one
# with: build/fuzz/tests/fuzz/<target> <artifact>. Logs: build/fuzz/logs/<target>.log.
# --preset asan-ubsan (scripts/test.sh): the targets of the asan-ubsan build (clang, which also
# builds them), so CI compiles the library once for tests and fuzzing; build/fuzz becomes
# build/asan-ubsan in the paths above. Default: the `fuzz` preset (targets only, -O1).
set -euo pipefail
cd "$(dirname "$0")/.."

ALL_TARGETS=(fuzz_error_body fuzz_watch_stream fuzz_cluster_values fuzz_config fuzz_get_cluster fuzz_yaml_config)
seconds=600
jobs=2
seed_args=()
preset=fuzz
targets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds=$2; shift 2 ;;
    --jobs) jobs=$2; shift 2 ;;
    --smoke) seconds=30; seed_args=(-seed=20261126); shift ;;
    --preset) preset=$2; shift 2 ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    -*) echo "fuzz.sh: unknown option $1" >&2; exit 2 ;;
    *) targets+=("$1"); shift ;;
  esac
done
[ ${#targets[@]} -gt 0 ] || targets=("${ALL_TARGETS[@]}")

# The shared compiler cache, when there is one.
if command -v ccache >/dev/null && [ -z "${CMAKE_CXX_COMPILER_LAUNCHER:-}" ]; then
  export CMAKE_CXX_COMPILER_LAUNCHER=ccache
fi
started=$(date +%s)
cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset" --target fuzzers -j "${DCS_JOBS:-$(nproc)}" -- --no-print-directory >/dev/null
echo "fuzz: targets built in $(( $(date +%s) - started )) s (build/$preset)"

out=build/$preset
mkdir -p "$out/logs"
run_one() {
  local target=$1
  local binary=$out/tests/fuzz/$target
  [ -x "$binary" ] || { echo "fuzz: no target $target" >&2; return 2; }
  mkdir -p "$out/corpus/$target" "$out/artifacts/$target"
  # -max_len: etcd answers on the HA loop's path are small; longer inputs only slow the search.
  # -timeout: one input may take at most 10 s (a hang is a bug too).
  "$binary" "$out/corpus/$target" "tests/fuzz/corpus/$target" \
    -max_total_time="$seconds" -max_len=4096 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    "${seed_args[@]}" -artifact_prefix="$out/artifacts/$target/" >"$out/logs/$target.log" 2>&1
}

summary() {
  local target=$1 rc=$2 log=$out/logs/$1.log
  local execs rate cov corpus
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
  corpus=$(find "$out/corpus/$target" "tests/fuzz/corpus/$target" -type f | wc -l)
  if [ "$rc" -eq 0 ]; then
    printf 'fuzz: %-20s ok      %8s runs  %6s exec/s  cov %5s  corpus files %s\n' \
      "$target" "${execs:-?}" "${rate:-?}" "${cov:-?}" "$corpus"
  else
    printf 'fuzz: %-20s FAILED  (exit %s)\n' "$target" "$rc"
    grep -E 'ERROR|runtime error|invariant|escaped|threw|Test unit written' "$log" | head -20 | sed 's/^/    /'
    echo "    log: $log"
  fi
}

echo "fuzz: ${#targets[@]} target(s), ${seconds} s each, ${jobs} at a time"
declare -A pid_of=()
failed=0
finish_one() {
  # Waits for any running target and reports it.
  local done_pid rc=0
  wait -n -p done_pid || rc=$?
  for t in "${!pid_of[@]}"; do
    if [ "${pid_of[$t]}" = "$done_pid" ]; then
      summary "$t" "$rc"
      unset "pid_of[$t]"
    fi
  done
  [ "$rc" -eq 0 ] || failed=1
}
for target in "${targets[@]}"; do
  while [ ${#pid_of[@]} -ge "$jobs" ]; do finish_one; done
  run_one "$target" &
  pid_of[$target]=$!
done
while [ ${#pid_of[@]} -gt 0 ]; do finish_one; done

echo "fuzz: finished in $(( $(date +%s) - started )) s"
if [ "$failed" -ne 0 ]; then
  echo "fuzz: failures above; artifacts in $out/artifacts/" >&2
  exit 1
fi
