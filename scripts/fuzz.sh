#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz/) in build-fuzz/ with clang, seeds their corpora from
# examples/wugong/ and runs each for SECONDS (default 20), one after another.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]     e.g. scripts/fuzz.sh 60 hotline_xlsx wechat_oa
#
# Prints one line per target (runs, coverage) and exits non-zero if any target found a crash,
# leak, sanitizer report, timeout or failed property check; the line names the reproducer
# (replay it with: build-fuzz/bin/<target>_fuzz <reproducer>). Safe to rerun: corpora under
# build-fuzz/corpus/<target>/ keep growing across runs. No network needed.
#
# Environment: JOBS (build parallelism, default 1), BUILD_DIR (default build-fuzz),
# FUZZ_RUNS=N (instead of SECONDS: exactly N inputs per target with a fixed seed, so a CI run is
# reproducible — what passed here passes there),
# GRIDHUB_FUZZ_WIRE_CHECK=0 (skip the "adapter Event parses back" property, tests/fuzz/fuzz_support.hpp).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SECS="${1:-20}"
shift || true
[[ "$SECS" =~ ^[0-9]+$ ]] || { echo "usage: $0 [SECONDS] [TARGET...]" >&2; exit 2; }
BUILD="${BUILD_DIR:-$ROOT/build-fuzz}"
JOBS="${JOBS:-1}"
FIX="$ROOT/examples/wugong"
SEEDS="$ROOT/tests/fuzz/seeds"
DICTS="$ROOT/tests/fuzz/dicts"
CORPUS="$BUILD/corpus"
LOGS="$BUILD/fuzz-logs"
ARTIFACTS="$BUILD/fuzz-artifacts"

ALL_TARGETS=(hotline_csv hotline_xlsx wechat_memotrace_csv wechat_memotrace_txt wechat_pywxdump_csv wechat_oa wechat_callback
             webform_jinshuju webform_urlencoded webform_multipart text_decode text_csv_reader text_datetime hub_frame)
TARGETS=("$@")
[[ ${#TARGETS[@]} -gt 0 ]] || TARGETS=("${ALL_TARGETS[@]}")
for t in "${TARGETS[@]}"; do
  [[ " ${ALL_TARGETS[*]} " == *" $t "* ]] || { echo "unknown target $t (known: ${ALL_TARGETS[*]})" >&2; exit 2; }
done

started=$(date +%s)

# --- configure (once) and build ---
if ! grep -qs '^GRIDHUB_FUZZ:BOOL=ON' "$BUILD/CMakeCache.txt" || [[ ! -f "$BUILD/build.ninja" ]]; then
  CC=clang CXX=clang++ cmake -S "$ROOT" -B "$BUILD" -G Ninja -DGRIDHUB_FUZZ=ON -DGRIDHUB_BUILD_TESTS=OFF \
    -DGRIDHUB_BUILD_BENCH=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo
fi
cmake --build "$BUILD" -j "$JOBS" --target gridhub_fuzz

# --- seed corpora (fixed file names, so reruns overwrite rather than duplicate) ---
mkdir -p "$LOGS" "$ARTIFACTS"
for t in "${ALL_TARGETS[@]}"; do mkdir -p "$CORPUS/$t"; done

# One record per file: $1 source file, $2 target, $3 file-name prefix. Blank lines are skipped.
split_lines() {
  awk -v dir="$CORPUS/$2" -v pre="$3" '{ sub(/\r$/, "") }
    length($0) > 0 { f = sprintf("%s/%s_%04d.txt", dir, pre, NR); printf "%s", $0 > f; close(f) }' "$1"
}
# A file with a leading selector byte ($1: octal escape for printf), for targets that read one.
with_selector() { { printf "$1"; cat "$2"; } > "$3"; }

cp -f "$FIX"/hotline/*.csv "$CORPUS/hotline_csv/"
cp -f "$FIX"/hotline/*.xlsx "$CORPUS/hotline_xlsx/"
cp -f "$SEEDS"/hotline_xlsx/* "$CORPUS/hotline_xlsx/"
cp -f "$FIX"/wechat/*_utf8.csv "$CORPUS/wechat_memotrace_csv/"
cp -f "$FIX"/wechat/*.txt "$CORPUS/wechat_memotrace_txt/"
cp -f "$FIX"/wechat/*@chatroom_*.csv "$CORPUS/wechat_pywxdump_csv/"
cp -f "$FIX"/wechat/oa/*.xml "$CORPUS/wechat_oa/"
# wechat_callback: byte 0 picks the mode (see wechat_callback_fuzz.cpp): 0 signed plaintext body,
# 3 the same message through encryption; plus Tencent's captured Encrypt and echostr values.
cp -f "$SEEDS"/wechat_callback/* "$CORPUS/wechat_callback/"
for f in "$FIX"/wechat/oa/*.xml; do
  b="$(basename "$f" .xml)"
  with_selector '\000' "$f" "$CORPUS/wechat_callback/plain_$b.bin"
  with_selector '\003' "$f" "$CORPUS/wechat_callback/aes_$b.bin"
done
split_lines "$FIX/webform/jinshuju_push.jsonl" webform_jinshuju push
split_lines "$FIX/webform/h5_form_posts.txt" webform_urlencoded post
# webform_multipart: first line the Content-Type, then the body (webform_multipart_fuzz.cpp).
cp -f "$SEEDS"/webform_multipart/* "$CORPUS/webform_multipart/"
cp -f "$FIX"/wechat/*.csv "$FIX"/MANIFEST.csv "$FIX"/labels.csv "$CORPUS/text_csv_reader/"
cp -f "$FIX"/hotline/export_20240506-20240516.csv "$CORPUS/text_csv_reader/hotline_gb18030.csv"
cp -f "$SEEDS"/text_datetime/* "$CORPUS/text_datetime/"
# text_decode: byte 0 picks the encoding (0 auto, 1 utf-8, 2 gb18030; see text_decode_fuzz.cpp).
for f in "$FIX"/hotline/*.csv; do
  b="$(basename "$f" .csv)"
  with_selector '\000' "$f" "$CORPUS/text_decode/auto_$b.bin"
  with_selector '\002' "$f" "$CORPUS/text_decode/gb18030_$b.bin"
done
with_selector '\000' "$FIX/wechat/grid_group_C.txt" "$CORPUS/text_decode/auto_grid_group_C.bin"
with_selector '\001' "$FIX/wechat/owners_group_A_utf8.csv" "$CORPUS/text_decode/utf8_owners_group_A.bin"
# hub_frame's AdapterToHub frames and hotline_xlsx's unpacked workbooks come from the generator.
"$BUILD/bin/gridhub-fuzz-seedgen" "$CORPUS" > /dev/null

dict_for() {
  case "$1" in
    wechat_memotrace_csv|wechat_memotrace_txt) echo "$DICTS/wechat_memotrace.dict" ;;
    wechat_callback) echo "$DICTS/wechat_oa.dict" ;;
    text_decode|text_csv_reader) echo "$DICTS/hotline_csv.dict" ;;
    *) [[ -f "$DICTS/$1.dict" ]] && echo "$DICTS/$1.dict" || true ;;
  esac
}

# --- run ---
# UBSan is built non-recoverable (-fno-sanitize-recover); these options make the reports useful.
# Past findings (tests/fuzz/crashes/<target>-*) run first in every session: regressions fail fast.
for t in "${ALL_TARGETS[@]}"; do
  for f in "$ROOT/tests/fuzz/crashes/$t-"*; do
    [[ -e "$f" ]] && cp "$f" "$CORPUS/$t/regression-$(basename "$f")"
  done
done

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:symbolize=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
failed=0
printf '%-22s %10s %8s %7s %7s  %s\n' target runs exec/s cov ft result
for t in "${TARGETS[@]}"; do
  log="$LOGS/$t.log"
  dict="$(dict_for "$t")"
  rm -f "$ARTIFACTS/$t-"*
  set +e
  if [[ -n "${FUZZ_RUNS:-}" ]]; then budget=(-runs="$FUZZ_RUNS" -seed=1); else budget=(-max_total_time="$SECS"); fi
  "$BUILD/bin/${t}_fuzz" "${budget[@]}" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
    -artifact_prefix="$ARTIFACTS/$t-" ${dict:+-dict="$dict"} "$CORPUS/$t" > "$log" 2>&1
  rc=$?
  set -e
  runs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)"
  eps="$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)"
  status_line="$(grep -E '^#[0-9]+.*cov: ' "$log" | tail -1 || true)"
  cov="$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$status_line")"
  ft="$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$status_line")"
  if [[ $rc -eq 0 ]]; then
    result=ok
  else
    failed=1
    repro="$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -1)"
    what="$(grep -m1 -E '==gridhub-fuzz==|^SUMMARY: |ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:' "$log" \
            | sed 's/^ *//' || true)"
    result="FINDING (exit $rc): ${what:-see log} -- reproducer: ${repro:-none} -- log: $log"
  fi
  printf '%-22s %10s %8s %7s %7s  %s\n' "$t" "${runs:-?}" "${eps:-?}" "${cov:-?}" "${ft:-?}" "$result"
done
budget_label="${SECS}s"
[[ -n "${FUZZ_RUNS:-}" ]] && budget_label="${FUZZ_RUNS} runs (seed 1)"
echo "fuzz.sh: ${#TARGETS[@]} targets x ${budget_label}, $(( $(date +%s) - started ))s in all (logs: $LOGS)"
exit $failed
