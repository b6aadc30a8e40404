#!/usr/bin/env bash
# Endpoint failover of the client: SIGKILL / SIGSTOP of the etcd member in use -> next successful
# lease keepalive, on a private 3-member etcd that failover_bench starts (and removes) itself on
# free loopback ports. Arguments go to failover_bench:
#   bench/failover.sh [--mode kill|stop|both] [--rounds N] [--target in-use|follower|leader|all] [--verbose]
# Patroni 3.0.2's figures for the same faults: bench/patroni_failover.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh >/dev/null
build/release/bench/failover_bench "$@"
