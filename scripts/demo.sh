#!/usr/bin/env bash
# The main job, in one command: set up, start a private etcd on free loopback ports, run the
# example against it, stop etcd. Nothing is left running afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh

# shellcheck source=lib/etcd.sh
. scripts/lib/etcd.sh
trap etcd_stop EXIT
echo "demo: starting a private etcd..."
etcd_start "$(mktemp -d /tmp/libdcs-demo.XXXXXX)"
echo "demo: etcd $(etcd --version | head -1 | awk '{print $3}') is listening on $ETCD_ENDPOINT (pid $ETCD_PID)"
build/release/examples/kv_tour --endpoints "$ETCD_ENDPOINT"
