#!/usr/bin/env bash
# Sets up, builds (warnings are errors) and runs every test: unit, integration (real processes on
# loopback/ipc, including the kill -9 crash test) and the benchmark smoke run.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh
scripts/build.sh -DGRIDHUB_BUILD_TESTS=ON -DGRIDHUB_BUILD_BENCH=ON -DGRIDHUB_WERROR=ON
ctest --test-dir build --output-on-failure -j 2 --timeout 900
