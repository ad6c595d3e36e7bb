#!/usr/bin/env bash
# Configures (once per option set) and builds gridhub with CMake + Ninja into build/ (or $GRIDHUB_BUILD_DIR).
# Arguments starting with -D go to the configure step; others are build targets (default: all).
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${GRIDHUB_BUILD_DIR:-build}
defs=()
targets=()
for a in "$@"; do
  if [[ "$a" == -D* ]]; then defs+=("$a"); else targets+=(--target "$a"); fi
done
if [[ ! -f "$build_dir/build.ninja" || ${#defs[@]} -gt 0 ]]; then
  cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "${defs[@]}"
fi
cmake --build "$build_dir" -j "$(nproc)" "${targets[@]}"
