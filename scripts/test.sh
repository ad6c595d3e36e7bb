#!/usr/bin/env bash
# Sets up, builds (warnings are errors) and runs every test: unit, integration (real processes on
# loopback/ipc, including the kill -9 crash test) and the benchmark smoke run — once in a normal
# build and once more (unit + integration) built with AddressSanitizer and UBSan — and fuzzes every
# parser for a fixed number of inputs.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh
scripts/build.sh -DGRIDHUB_BUILD_TESTS=ON -DGRIDHUB_BUILD_BENCH=ON -DGRIDHUB_WERROR=ON

echo "== sanitizer build (ASan + UBSan): unit and integration tests"
GRIDHUB_BUILD_DIR=build-asan scripts/build.sh -DGRIDHUB_BUILD_TESTS=ON -DGRIDHUB_BUILD_BENCH=OFF \
  -DGRIDHUB_WERROR=ON -DGRIDHUB_SANITIZE=ON
UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 ASAN_OPTIONS=detect_leaks=1 \
  ctest --test-dir build-asan --output-on-failure -j 2 --timeout 900

echo "== fuzzing every parser briefly (libFuzzer + ASan/UBSan, fixed seed; past findings replayed first)"
JOBS="$(nproc)" FUZZ_RUNS="${GRIDHUB_FUZZ_RUNS:-10000}" bash scripts/fuzz.sh

echo "== crash test (its figure)"
ctest --test-dir build -R CrashTest --output-on-failure -V --timeout 900 | grep -E "crash test:|tests passed|FAILED"

echo "== all tests (normal build)"
ctest --test-dir build --output-on-failure -j 2 --timeout 900
