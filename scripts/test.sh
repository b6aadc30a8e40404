#!/usr/bin/env bash
# The whole test suite, as CI runs it:
#   1. set-up (packages + release build), 2. clang-format check,
#   3. unit + integration tests under AddressSanitizer + UBSan,
#   4. the same under ThreadSanitizer,
#   5. a libFuzzer smoke run of every fuzz target (scripts/fuzz.sh --smoke),
#   6. the Doxygen API reference,
#   7. install into a temp prefix and build a consumer with find_package(libdcs CONFIG),
#   8. two minutes of the leader-safety torture (scripts/torture.sh).
# Any failure, sanitizer finding or formatting difference fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS=${DCS_JOBS:-$(nproc)}
started=$(date +%s)
step() { echo; echo "=== $* ($(( $(date +%s) - started )) s)"; }

step "set-up"
# The benchmarks are not needed here (bench scripts re-enable them through the release preset).
DCS_SETUP_BENCHMARKS=OFF scripts/setup.sh

step "clang-format check"
git ls-files '*.hpp' '*.cpp' | xargs clang-format --dry-run --Werror
echo "formatting is clean"

for preset in asan-ubsan tsan; do
  step "tests under $preset"
  cmake --preset "$preset" >/dev/null
  cmake --build --preset "$preset" -j "$JOBS"
  ctest --preset "$preset" -j "$JOBS"
done

step "fuzz smoke (libFuzzer + ASan + UBSan, 30 s per target)"
DCS_JOBS=$JOBS scripts/fuzz.sh --smoke

step "API reference (Doxygen, warnings are errors)"
cmake --build --preset release --target docs
echo "docs: build/release/docs/html/index.html"

step "install + find_package consumer"
prefix=$(mktemp -d /tmp/libdcs-install.XXXXXX)
consumer=$(mktemp -d /tmp/libdcs-consumer.XXXXXX)
trap 'rm -rf "$prefix" "$consumer"' EXIT
cmake --install build/release --prefix "$prefix" >/dev/null
cmake -S tests/consumer -B "$consumer" -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$consumer" -j "$JOBS" >/dev/null
LD_LIBRARY_PATH="$prefix/lib:${LD_LIBRARY_PATH:-}" "$consumer/consumer"
PKG_CONFIG_PATH="$prefix/lib/pkgconfig" pkg-config --exists --print-errors libdcs
echo "pkg-config: libdcs $(PKG_CONFIG_PATH="$prefix/lib/pkgconfig" pkg-config --modversion libdcs)"

step "leader-safety torture (2 minutes of faults against a 3-member etcd)"
scripts/torture.sh --duration 120

step "all checks passed"
