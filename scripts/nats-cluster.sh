#!/usr/bin/env bash
# A local three-node NATS JetStream cluster on loopback, for the JetStream log backend's tests and the
# example county (docs/jetstream.md):
#
#   scripts/nats-cluster.sh start DIR [BASEPORT]   # nodes n1..n3, JetStream file storage under DIR/nN
#   scripts/nats-cluster.sh stop DIR               # stops the nodes started in DIR
#
# Node i (1..3) serves clients on BASEPORT+i-1 and routes on BASEPORT+100+i-1 (BASEPORT default 14222).
# `start` prints one line, the client URLs comma separated (what [log] servers takes), once every node
# is ready and the cluster has elected its JetStream metadata leader. Both commands are idempotent:
# `start` on a running cluster prints its URLs again, and starts again only the nodes that are down (on
# their ports and stores); `stop` on a stopped one does nothing.
# NATS_SERVER names the binary (default: nats-server on PATH, then /usr/sbin/nats-server).
set -euo pipefail

usage() {
  echo "usage: $0 start DIR [BASEPORT] | stop DIR" >&2
  exit 2
}
[[ $# -ge 2 ]] || usage
cmd=$1
dir=$2
base=${3:-14222}
[[ $base =~ ^[0-9]+$ ]] || { echo "$0: BASEPORT must be a number, got '$base'" >&2; exit 2; }

alive() { [[ -f $1 ]] && kill -0 "$(cat "$1")" 2>/dev/null; }

stop_cluster() {
  local i pids=()
  for i in 1 2 3; do
    if alive "$dir/n$i/pid"; then
      pids+=("$(cat "$dir/n$i/pid")")
      kill -INT "${pids[-1]}" 2>/dev/null || true   # all at once: each flushes its store meanwhile
    fi
    rm -f "$dir/n$i/pid"
  done
  # Wait for the nodes to exit; SIGKILL after 10 s.
  for _ in $(seq 1 100); do
    local left=0 pid
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && left=1; done
    [[ $left -eq 0 ]] && return 0
    sleep 0.1
  done
  for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
}

urls() {
  local i out=""
  for i in 1 2 3; do out+="${out:+,}nats://127.0.0.1:$(cat "$dir/n$i/client_port")"; done
  echo "$out"
}

start_cluster() {
  local server=${NATS_SERVER:-}
  if [[ -z $server ]]; then
    server=$(command -v nats-server || true)
    [[ -n $server ]] || { [[ -x /usr/sbin/nats-server ]] && server=/usr/sbin/nats-server; }
  fi
  [[ -n $server && -x $server ]] || { echo "$0: nats-server not found (apt-get install nats-server)" >&2; exit 1; }
  mkdir -p "$dir"
  local running=0 i
  for i in 1 2 3; do alive "$dir/n$i/pid" && running=$((running + 1)); done
  if [[ $running -eq 3 ]]; then urls; return 0; fi
  # A node that is down (killed by a test) is started again on the ports and store it had.
  [[ -f $dir/n1/client_port ]] && base=$(cat "$dir/n1/client_port")
  local routes=""
  for i in 1 2 3; do routes+="${routes:+, }\"nats://127.0.0.1:$((base + 100 + i - 1))\""; done
  for i in 1 2 3; do
    local node=$dir/n$i
    alive "$node/pid" && continue
    mkdir -p "$node/store"
    echo "$((base + i - 1))" > "$node/client_port"
    cat > "$node/nats.conf" <<EOF
server_name: n$i
listen: 127.0.0.1:$((base + i - 1))
jetstream { store_dir: "$node/store" }
cluster {
  name: gridhub
  listen: 127.0.0.1:$((base + 100 + i - 1))
  routes: [ $routes ]
}
EOF
    : > "$node/nats.log"
    "$server" -c "$node/nats.conf" >>"$node/nats.log" 2>&1 &
    echo $! > "$node/pid"
  done
  # Ready: every node logs "Server is ready", and one of them the elected metadata leader, before a
  # replicated stream can be created. Polls the logs (the nodes write them), 30 s at most.
  for _ in $(seq 1 300); do
    local ready=0 leader=0
    for i in 1 2 3; do
      if ! alive "$dir/n$i/pid"; then
        echo "$0: node n$i exited; its log:" >&2
        tail -n 20 "$dir/n$i/nats.log" >&2
        stop_cluster
        exit 1
      fi
      grep -q "Server is ready" "$dir/n$i/nats.log" && ready=$((ready + 1))
      grep -q "metadata leader" "$dir/n$i/nats.log" && leader=1
    done
    if [[ $ready -eq 3 && $leader -eq 1 ]]; then urls; return 0; fi
    sleep 0.1
  done
  echo "$0: the cluster did not become ready in 30 s; logs in $dir/n*/nats.log" >&2
  stop_cluster
  exit 1
}

case $cmd in
  start) start_cluster ;;
  stop) stop_cluster ;;
  *) usage ;;
esac
