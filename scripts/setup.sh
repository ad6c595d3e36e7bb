#!/usr/bin/env bash
# Installs the Debian 12 packages gridhub builds and tests with — only those missing.
# Safe to rerun: a machine that has everything makes no apt call at all.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config
  libboost1.81-dev            # Asio (and Beast/JSON for the HTTP adapters); 1.81 chosen over 1.74, see docs/architecture.md
  libzmq3-dev cppzmq-dev
  libprotobuf-dev protobuf-compiler
  libsqlite3-dev sqlite3
  libsodium-dev libssl-dev    # Ed25519 checkpoint signatures; SHA-256 for the log's hash chain
  libgtest-dev libgmock-dev
  libcli11-dev libspdlog-dev libfmt-dev libtomlplusplus-dev
  libicu-dev
  libopencc-dev               # Traditional -> Simplified normalization
  libpugixml-dev              # WeChat XML, XLSX sheets
  libzip-dev                  # XLSX containers
  libfriso-dev friso-dict     # dictionary word segmentation: classifier_ngram word features
  libboost-json1.81-dev       # form-builder webhooks, field maps
  nats-server libnats-dev     # the JetStream log backend (and its tests), and the peer gridhub-bench measures against
  wrk                         # HTTP load for bench/http_bench.sh (HTTP adapters)
  clang libclang-rt-14-dev    # libFuzzer targets (tests/fuzz, scripts/fuzz.sh)
  python3-zmq python3-protobuf                 # examples/python's department subscriber and its test
  python3-prometheus-client                    # a real Prometheus text parser checks the hub's /metrics (tests/integration/admin_test.cpp)
  chromium fonts-wqy-zenhei                    # renders the published HTML report headless (tests/integration/report_test.cpp)
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if ((${#missing[@]} == 0)); then
  echo "setup: all ${#packages[@]} packages present"
  exit 0
fi

echo "setup: installing ${missing[*]}"
sudo_cmd=()
if [[ $(id -u) -ne 0 ]]; then sudo_cmd=(sudo); fi
export DEBIAN_FRONTEND=noninteractive
# One update per run, and only when something is missing.
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
