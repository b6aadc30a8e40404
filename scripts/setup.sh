#!/usr/bin/env bash
# Idempotent set-up on a Debian machine: installs every package libdcs needs (apt-get update
# runs once, and only when something is missing), then configures and builds the release preset
# (library, examples, benchmarks). Safe to run again and again.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
  build-essential cmake pkg-config git curl ca-certificates clang-format
  # objdump: scripts/test.sh checks the installed soname
  binutils
  libcurl4-openssl-dev nlohmann-json3-dev libssl-dev libsimdjson-dev
  libgtest-dev libgmock-dev libbenchmark-dev libcpp-httplib-dev
  # examples/ha_daemon and examples/dcsctl read Patroni-style YAML configuration files.
  libyaml-cpp-dev
  etcd-server etcd-client
  # the `docs` target (Doxygen HTML of the public headers, warnings are errors)
  doxygen
  # tests/interop runs real Patroni 3.0.2 (Debian's package) against libdcs; its etcd v3 module
  # also needs python3-etcd (only an alternative in patroni's Depends), dnspython, dateutil and
  # urllib3.
  patroni python3-etcd python3-dnspython python3-dateutil python3-urllib3
  # bench/compare.sh draws its plots (docs/perf-*.png) with matplotlib.
  python3-matplotlib
  # the libFuzzer targets (scripts/fuzz.sh, the `fuzz` preset): clang and its fuzzer runtime
  clang libclang-rt-14-dev
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

JOBS=${DCS_JOBS:-$(nproc)}
# DCS_SETUP_BENCHMARKS=OFF (scripts/test.sh) leaves the benchmarks out of this build.
cmake --preset release -DDCS_BUILD_BENCHMARKS="${DCS_SETUP_BENCHMARKS:-ON}" >/dev/null
# DCS_SETUP_TARGETS="dcs ha_daemon" (scripts/test.sh) builds only those targets: CI needs the
# library (install check) and ha_daemon (torture), not the other examples. Default: everything.
targets=()
for t in ${DCS_SETUP_TARGETS:-}; do targets+=(--target "$t"); done
cmake --build --preset release -j "$JOBS" "${targets[@]}"
echo "setup: build/release is ready"
