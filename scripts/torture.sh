#!/usr/bin/env bash
# Leader-safety torture test: a 3-member etcd and five ha_daemon members on free loopback ports,
# random faults from a seeded RNG (SIGKILL / SIGSTOP / restart of etcd members, quorum loss
# included; SIGKILL / SIGSTOP / restart of daemons; "clock pauses": the leader frozen for 0.3 to
# 2.5 x ttl, as a VM or GC pause would; switchover requests from the leader to another member),
# every fault healed, then a quiet period. A checker
# (scripts/lib/torture_check.py) then proves from etcd's own history and the daemons' JSON lines:
# no two overlapping leaders within the ttl bound, every leadership seen by its holder, one leader
# soon after the last heal, no acknowledged write lost. Last line: faults=F elections=E violations=V.
#
#   scripts/torture.sh [--duration SECONDS] [--seed N] [--run-dir DIR] [--keep] [--verbose]
#   scripts/torture.sh --self-test      # the checker's own tests (crafted logs), no etcd
#
# Defaults: 600 s (CI: --duration 120), a random seed (printed; --seed N replays its fault
# schedule), ttl 6 s, loop_wait 1 s, retry_timeout 2 s. The run directory (printed) keeps the seed,
# the fault log, etcd's history, the daemons' lines and summary.txt; etcd's data and the daemons'
# logs are deleted after a clean run unless --keep. Exit status 1 on any violation.
# DCS_TORTURE_BIN=DIR uses the ha_daemon already built there instead of build/release/examples.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${1:-}" = "--self-test" ]; then
  exec python3 scripts/lib/torture_check_test.py
fi

BIN=${DCS_TORTURE_BIN:-$PWD/build/release/examples}
if [ -z "${DCS_TORTURE_BIN:-}" ]; then
  # Always brought up to date (a no-op when it is): a daemon left over from an older tree would
  # run against the rebuilt libdcs.so, and a changed class layout then corrupts the heap (seen
  # as "double free or corruption" at every daemon's exit).
  [ -f build/release/CMakeCache.txt ] || cmake --preset release >/dev/null
  cmake --build --preset release -j "${DCS_JOBS:-2}" --target ha_daemon >/dev/null
fi
command -v etcd >/dev/null || { echo "torture: etcd is not installed (scripts/setup.sh)" >&2; exit 2; }
exec python3 scripts/lib/torture_run.py --bin "$BIN/ha_daemon" "$@"
