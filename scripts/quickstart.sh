#!/usr/bin/env bash
# The main job on the bundled example county: set up, build, start a hub on a local SQLite file,
# import Wugong County's 12345 hotline exports, WeChat messages and web forms through their adapters,
# show where the resulting tickets went.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh
scripts/build.sh gridhub gridhubctl gridhub-hotline gridhub-wechat gridhub-webform >/dev/null
bin=build/bin
state=var/wugong           # examples/wugong/hub.toml and hotline.toml keep their state here
mkdir -p "$state"

echo "== starting the hub (examples/wugong/hub.toml, log $state/gridhub.db)"
coproc HUB { exec "$bin/gridhub" -c examples/wugong/hub.toml 2>>"$state/hub.log"; }
hub_pid=$HUB_PID
trap 'kill -TERM $hub_pid 2>/dev/null || true' EXIT
# The hub prints one READY line once its endpoints are bound: wait for it rather than sleeping.
if ! read -r -t 30 ready <&"${HUB[0]}"; then
  echo "the hub did not start; see $state/hub.log:" >&2
  tail -n 20 "$state/hub.log" >&2
  exit 1
fi
echo "   $ready"

echo "== importing the 12345 work-order exports (CSV in GB18030, UTF-8 with BOM, quoted newlines; XLSX)"
"$bin/gridhub-hotline" -c examples/wugong/hotline.toml examples/wugong/hotline/*.csv examples/wugong/hotline/*.xlsx 2>>"$state/hotline.log"
echo "== importing the residents' WeChat group exports and Official Account messages"
"$bin/gridhub-wechat" -c examples/wugong/wechat.toml examples/wugong/wechat/*_utf8.csv \
  examples/wugong/wechat/grid_group_C.txt examples/wugong/wechat/oa/*.xml 2>>"$state/wechat.log"
echo "== importing the web-form submissions (form-builder webhooks, the street's H5 page)"
"$bin/gridhub-webform" -c examples/wugong/webform.toml examples/wugong/webform/jinshuju_push.jsonl \
  examples/wugong/webform/h5_form_posts.txt 2>>"$state/webform.log"
echo "   (rejected records are listed with file:line and field in $state/*.log)"

stream=$(sed -n 's/.* stream=\([^ ,]*\).*/\1/p' <<<"$ready")
ingest=$(sed -n 's/.*ingest=\([^ ,]*\).*/\1/p' <<<"$ready")
"$bin/gridhubctl" tail --hub "$stream" --idle-exit-ms 1500 > "$state/tickets.jsonl"
"$bin/gridhubctl" tickets --db "$state/gridhub.db" > "$state/tickets.txt"
echo "== $(wc -l < "$state/tickets.txt") tickets, routed by the pipeline (ticket, tier, assignee, category, grid/community, reports, text):"
head -n 12 "$state/tickets.txt" | sed 's/^/   /'
echo "   … all of them: $state/tickets.txt; with every stage's decision (why it went there): $state/tickets.jsonl"
echo "== where they went, by tier:"
awk '{print $2}' "$state/tickets.txt" | sort | uniq -c | sed 's/^/   /'

echo "== dead letters (every rejected record, with its reason):"
"$bin/gridhubctl" dead-letters --db "$state/gridhub.db" | sed "s/^/   /"
echo "== hub counters:"
"$bin/gridhubctl" status --hub "$ingest" | sed 's/^/   /'

kill -TERM "$hub_pid"
wait "$hub_pid" || true
trap - EXIT
echo "== hub stopped cleanly. Run it yourself: $bin/gridhub -c examples/wugong/hub.toml"
