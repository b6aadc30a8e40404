# Shell helpers to run a throw-away etcd on free loopback ports. Source it, then:
#   etcd_start DIR   -> sets ETCD_ENDPOINT (http://127.0.0.1:PORT) and ETCD_PID
#   etcd_stop        -> stops that etcd by PID and removes DIR
# Variables are named DCS_* / plain because etcd reads every ETCD_* environment variable as a flag.

free_port() {
  local port
  for _ in $(seq 200); do
    port=$((20000 + RANDOM % 30000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return 0
    fi
  done
  return 1
}

etcd_start() {
  DCS_ETCD_DIR=$1
  local client peer
  client=$(free_port)
  peer=$(free_port)
  while [ "$peer" = "$client" ]; do peer=$(free_port); done
  mkdir -p "$DCS_ETCD_DIR"
  # shellcheck disable=SC2046
  env $(compgen -e | grep '^ETCD_' | sed 's/^/-u /') etcd --name demo --data-dir "$DCS_ETCD_DIR/data" \
    --listen-client-urls "http://127.0.0.1:$client" --advertise-client-urls "http://127.0.0.1:$client" \
    --listen-peer-urls "http://127.0.0.1:$peer" --initial-advertise-peer-urls "http://127.0.0.1:$peer" \
    --initial-cluster "demo=http://127.0.0.1:$peer" --initial-cluster-state new \
    --initial-cluster-token "demo-$client" --logger zap --log-outputs stderr \
    >"$DCS_ETCD_DIR/etcd.log" 2>&1 </dev/null &
  ETCD_PID=$!
  ETCD_ENDPOINT="http://127.0.0.1:$client"
  for _ in $(seq 150); do
    if curl -fs -m 1 "$ETCD_ENDPOINT/version" >/dev/null 2>&1; then return 0; fi
    if ! kill -0 "$ETCD_PID" 2>/dev/null; then break; fi
    sleep 0.2
  done
  echo "etcd did not start; its log:" >&2
  tail -20 "$DCS_ETCD_DIR/etcd.log" >&2
  return 1
}

etcd_stop() {
  if [ -n "${ETCD_PID:-}" ] && kill -0 "$ETCD_PID" 2>/dev/null; then
    kill -TERM "$ETCD_PID" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$ETCD_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$ETCD_PID" 2>/dev/null || true
    wait "$ETCD_PID" 2>/dev/null || true
  fi
  ETCD_PID=""
  [ -n "${DCS_ETCD_DIR:-}" ] && rm -rf "$DCS_ETCD_DIR"
  return 0
}
