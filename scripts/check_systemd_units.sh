#!/usr/bin/env bash
# Checks examples/systemd/*.service|timer with `systemd-analyze verify`: unknown keys, bad values,
# missing executables. The units name the installed paths (/usr/local/bin, /usr/local/libexec/gridhub);
# a temporary copy points them at a build's binaries instead. Exit 77 (skipped) without systemd-analyze.
# Usage: scripts/check_systemd_units.sh [BIN_DIR]   (default: build/bin)
set -euo pipefail
cd "$(dirname "$0")/.."
bin_dir=$(realpath "${1:-build/bin}")
command -v systemd-analyze >/dev/null || { echo "systemd-analyze not installed: skipped"; exit 77; }
for b in gridhub gridhubctl gridhub-hotline gridhub-webform gridhub-wechat; do
  [[ -x "$bin_dir/$b" ]] || { echo "$bin_dir/$b: not built" >&2; exit 1; }
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
src=$(realpath examples/systemd)
for u in examples/systemd/*.service examples/systemd/*.timer; do
  sed -e "s|/usr/local/bin/|$bin_dir/|g" -e "s|/usr/local/libexec/gridhub/gridhub-backup|$src/gridhub-backup.sh|g" \
    "$u" >"$tmp/$(basename "$u")"
done
# verify prints findings on stderr and exits non-zero on errors; warnings (unknown keys included) only
# print, so any line that names one of our units fails the check too.
out=$(cd "$tmp" && systemd-analyze verify --man=no ./*.service ./*.timer 2>&1) && rc=0 || rc=$?
ours=$(grep -E 'gridhub[a-z-]*\.(service|timer)' <<<"$out" || true)
if [[ $rc -ne 0 || -n "$ours" ]]; then
  echo "$out" >&2
  exit 1
fi
echo "systemd units verified: $(cd "$tmp" && ls)"
