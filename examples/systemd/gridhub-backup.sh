#!/bin/sh
# A nightly backup of the running hub's log with its signed checkpoints, verified, and retention
# (README "Backup and restore"). Installed as /usr/local/libexec/gridhub/gridhub-backup; run by
# gridhub-backup.service. Environment: GRIDHUB_CONFIG (/etc/gridhub/hub.toml), BACKUP_DIR
# (/var/backups/gridhub), KEEP_DAYS (6: keep backups younger than the adapters' retention_days, 7,
# so a restore from any kept backup gets every later event back from the adapters' outboxes).
set -eu
config=${GRIDHUB_CONFIG:-/etc/gridhub/hub.toml}
dir=${BACKUP_DIR:-/var/backups/gridhub}
keep_days=${KEEP_DAYS:-6}
out="$dir/gridhub-$(date -u +%Y%m%dT%H%M%SZ)"

gridhubctl=${GRIDHUBCTL:-/usr/local/bin/gridhubctl}
"$gridhubctl" backup --hub "$config" "$out"
# The copy must verify on its own before older backups are let go.
if [ -d "$out/checkpoints" ] && [ -f "$out/checkpoint.pub" ]; then
  "$gridhubctl" verify --db "$out/gridhub.db" --checkpoints "$out/checkpoints" --public-key "$out/checkpoint.pub"
else
  "$gridhubctl" verify --db "$out/gridhub.db"
fi
find "$dir" -mindepth 1 -maxdepth 1 -type d -name 'gridhub-*' -mtime +"$keep_days" -exec rm -rf {} +
