#!/usr/bin/env bash
# Web-form throughput on loopback: a hub and `gridhub-webform serve` in a temp dir, Debian's wrk
# POSTing urlencoded forms (the H5 page's fields) with unique submission ids (bench/http/form_post.lua),
# each a new event in the outbox, and — in the
# same run, against the same server — wrk GETting /healthz as the baseline (what the machine and
# Beast give with no outbox write). Prints both, the ratio, and the issue's target (>= 5,000 req/s,
# p99 < 20 ms). Missed targets exit 0; a run that fails to measure (a process dies, socket errors,
# non-2xx answers) exits 1.
#
#   bench/webform_bench.sh [BUILD_DIR]        (default: build)
#
# Environment: DURATION (s per run, default 10), CONNECTIONS (default 32), THREADS (wrk, default 2),
# REPS (default 2; baseline and form runs alternate), KEEP=1 keeps the temp dir.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${1:-$ROOT/build}"
DURATION="${DURATION:-10}"
CONNECTIONS="${CONNECTIONS:-32}"
THREADS="${THREADS:-2}"
REPS="${REPS:-2}"
command -v wrk >/dev/null || { echo "webform_bench: wrk is not installed (scripts/setup.sh)" >&2; exit 1; }
for b in gridhub gridhub-webform; do
  [[ -x "$BUILD/bin/$b" ]] || { echo "webform_bench: $BUILD/bin/$b missing (ninja -C $BUILD $b)" >&2; exit 1; }
done

DIR="$(mktemp -d "${TMPDIR:-/tmp}/gridhub-webform-bench-XXXXXX")"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  [[ "${KEEP:-0}" == 1 ]] && echo "kept $DIR" >&2 || rm -rf "$DIR"
}
trap cleanup EXIT

# Waits for a READY line on a process's stdout file; prints the line.
wait_ready() {
  local file="$1" pid="$2"
  for _ in $(seq 1 300); do
    if grep -q '^READY ' "$file"; then grep -m1 '^READY ' "$file"; return 0; fi
    kill -0 "$pid" 2>/dev/null || { echo "webform_bench: process $pid died; see $DIR" >&2; KEEP=1; exit 1; }
    sleep 0.1
  done
  echo "webform_bench: no READY line in $file" >&2; KEEP=1; exit 1
}

cat > "$DIR/hub.toml" <<TOML
[hub]
log_db = "gridhub.db"
log_level = "warn"
[ingest]
endpoints = ["ipc://ingest.sock"]
[stream]
endpoints = ["ipc://stream.sock"]
TOML
cat > "$DIR/webform.toml" <<TOML
[adapter]
id = "webform-bench"
hub = "ipc://ingest.sock"
outbox = "webform-outbox.db"
log_level = "warn"
[webform]
listen = "127.0.0.1:0"
photo_dir = "photos"
TOML

"$BUILD/bin/gridhub" -c "$DIR/hub.toml" > "$DIR/hub.out" 2> "$DIR/hub.log" &
pids+=($!)
wait_ready "$DIR/hub.out" "${pids[-1]}" > /dev/null
"$BUILD/bin/gridhub-webform" -c "$DIR/webform.toml" serve > "$DIR/webform.out" 2> "$DIR/webform.log" &
pids+=($!)
ADDR="$(wait_ready "$DIR/webform.out" "${pids[-1]}" | sed 's/^READY http=//')"

run() {   # $1 label, then wrk arguments after the URL
  local label="$1"; shift
  local out
  out="$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --timeout 5s "$@")"
  local line
  line="$(grep '^RESULT ' <<<"$out" || true)"
  [[ -n "$line" ]] || { echo "webform_bench: wrk gave no result for $label:"$'\n'"$out" >&2; KEEP=1; exit 1; }
  echo "$label $line"
}

echo "webform_bench: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s x $REPS reps" >&2
results=()
for rep in $(seq 1 "$REPS"); do
  results+=("$(run baseline "http://$ADDR/healthz" -s "$ROOT/bench/http/get.lua")")
  echo "rep $rep: ${results[-1]}" >&2
  results+=("$(run form "http://$ADDR/form" -s "$ROOT/bench/http/form_post.lua")")
  echo "rep $rep: ${results[-1]}" >&2
done

field() { sed -n "s/.* $2=\([^ ]*\).*/\1/p" <<<"$1"; }
best() {   # the rep with the highest rps for a label
  printf '%s\n' "${results[@]}" | grep "^$1 " | sort -t= -k4 -n | awk -v l="$1" '
    { split($0, a, " rps="); split(a[2], b, " "); if (b[1] + 0 >= max) { max = b[1] + 0; line = $0 } } END { print line }'
}
B="$(best baseline)"
C="$(best form)"
bad=0
for r in "${results[@]}"; do
  if [[ "$(field "$r" non2xx)" != 0 || "$(field "$r" sock_err)" != 0 ]]; then
    echo "webform_bench: errors in: $r" >&2; bad=1
  fi
done

printf '\n%-34s %10s %9s %9s %9s\n' "figure (best of $REPS)" "req/s" "p50 ms" "p99 ms" "max ms"
printf '%-34s %10s %9s %9s %9s\n' "baseline GET /healthz" "$(field "$B" rps)" "$(field "$B" p50_ms)" "$(field "$B" p99_ms)" "$(field "$B" max_ms)"
printf '%-34s %10s %9s %9s %9s\n' "POST /form (outbox, fsync)" "$(field "$C" rps)" "$(field "$C" p50_ms)" "$(field "$C" p99_ms)" "$(field "$C" max_ms)"
awk -v c="$(field "$C" rps)" -v b="$(field "$B" rps)" -v p="$(field "$C" p99_ms)" 'BEGIN {
  printf "form / baseline: %.2f\n", c / b;
  printf "target >= 5000 req/s: %s;  target p99 < 20 ms: %s\n", (c >= 5000 ? "met" : "MISSED"), (p < 20 ? "met" : "MISSED") }'
metrics="$(exec 3<>"/dev/tcp/${ADDR%:*}/${ADDR##*:}"; printf 'GET /metrics HTTP/1.0\r\n\r\n' >&3; cat <&3)"
echo "adapter: received $(sed -n 's/^gridhub_adapter_received_total //p' <<<"$metrics"), outbox pending $(sed -n 's/^gridhub_adapter_outbox_pending //p' <<<"$metrics") at the end (the hub drains it after the run)"
exit $bad
