#!/usr/bin/env bash
# The whole test suite, as CI runs it:
#   1. set-up (packages + release build), 2. clang-format check,
#   3. unit + integration tests under AddressSanitizer + UBSan,
#   4. the same under ThreadSanitizer,
#   5. a libFuzzer smoke run of every fuzz target (scripts/fuzz.sh --smoke, from the asan-ubsan
#      build, which is a clang build that also builds the fuzz targets),
#   6. the Doxygen API reference,
#   7. install into a temp prefix and build a consumer with find_package(libdcs CONFIG),
#   8. two minutes of the leader-safety torture (scripts/torture.sh).
# Any failure, sanitizer finding or formatting difference fails the run. The last lines list the
# seconds each step took. DCS_JOBS: build jobs (default nproc); DCS_CTEST_JOBS: tests run at once
# (default twice DCS_JOBS).
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS=${DCS_JOBS:-$(nproc)}
# ctest runs more binaries than there are cores: most of a test's time is spent waiting on etcd,
# child processes and sockets, not on the CPU.
CTEST_JOBS=${DCS_CTEST_JOBS:-$((JOBS * 2))}
started=$(date +%s)
timings=()
last_step=""
last_start=$started
end_step() {
  [ -z "$last_step" ] || timings+=("$(printf '%5d s  %s' $(( $(date +%s) - last_start )) "$last_step")")
}
step() {
  end_step
  last_step=$*
  last_start=$(date +%s)
  echo; echo "=== $* ($(( last_start - started )) s)"
}

step "set-up"
# CI needs from the release build only the library (install check; the docs compile nothing) and
# ha_daemon (torture): not the benchmarks (bench scripts re-enable them through the release
# preset) nor the other examples. setup.sh alone (demo.sh, newcomers) still builds everything.
DCS_SETUP_BENCHMARKS=OFF DCS_SETUP_TARGETS="dcs ha_daemon" scripts/setup.sh

step "clang-format check"
git ls-files '*.hpp' '*.cpp' | xargs clang-format --dry-run --Werror
echo "formatting is clean"

# Both sanitizer presets are clang builds: GoogleTest-heavy code at -O0 compiles in about half
# GCC's time (docs/ARCHITECTURE.md, "Build and tests").
for preset in asan-ubsan tsan; do
  step "tests under $preset"
  cmake --preset "$preset" >/dev/null
  cmake --build --preset "$preset" -j "$JOBS"
  ctest --preset "$preset" -j "$CTEST_JOBS"
done

step "fuzz smoke (libFuzzer + ASan + UBSan, 30 s per target)"
# The asan-ubsan build (clang) has built the fuzz targets already, from the same library objects
# as the tests: no third compile of the library (the `fuzz` preset) in CI.
DCS_JOBS=$JOBS scripts/fuzz.sh --smoke --preset asan-ubsan

step "API reference (Doxygen, warnings are errors)"
cmake --build --preset release --target docs
echo "docs: build/release/docs/html/index.html"

step "install + find_package consumer"
prefix=$(mktemp -d /tmp/libdcs-install.XXXXXX)
consumer=$(mktemp -d /tmp/libdcs-consumer.XXXXXX)
trap 'rm -rf "$prefix" "$consumer"' EXIT
cmake --install build/release --prefix "$prefix" >/dev/null
# The soname carries major.minor before 1.0 (the ABI may change with a minor), the major after
# (src/CMakeLists.txt); asked of the version the release build was configured with.
version=$(sed -n 's/^CMAKE_PROJECT_VERSION:STATIC=//p' build/release/CMakeCache.txt)
case $version in
  0.*) want=libdcs.so.${version%.*} ;;
  *) want=libdcs.so.${version%%.*} ;;
esac
soname=$(objdump -p "$prefix/lib/libdcs.so" 2>/dev/null | awk '$1 == "SONAME" {print $2}' || true)
if [ -z "$version" ] || [ "$soname" != "$want" ]; then
  echo "installed libdcs.so (version '$version') has soname '$soname', expected $want" >&2
  exit 1
fi
echo "soname: $soname"
cmake -S tests/consumer -B "$consumer" -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$consumer" -j "$JOBS" >/dev/null
LD_LIBRARY_PATH="$prefix/lib:${LD_LIBRARY_PATH:-}" "$consumer/consumer"
PKG_CONFIG_PATH="$prefix/lib/pkgconfig" pkg-config --exists --print-errors libdcs
echo "pkg-config: libdcs $(PKG_CONFIG_PATH="$prefix/lib/pkgconfig" pkg-config --modversion libdcs)"

step "leader-safety torture (2 minutes of faults against a 3-member etcd)"
scripts/torture.sh --duration 120

end_step
echo
echo "=== step timings"
printf '%s\n' "${timings[@]}"
echo "=== all checks passed ($(( $(date +%s) - started )) s)"
