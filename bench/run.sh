#!/usr/bin/env bash
# Runs the client benchmark against a private etcd started on free loopback ports.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh >/dev/null
# shellcheck source=../scripts/lib/etcd.sh
. scripts/lib/etcd.sh
trap etcd_stop EXIT
etcd_start "$(mktemp -d /tmp/libdcs-bench.XXXXXX)"
echo "bench: etcd on $ETCD_ENDPOINT"
build/release/bench/client_bench --endpoint "$ETCD_ENDPOINT" "$@"
