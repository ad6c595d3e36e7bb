#pragma once
/// An online backup of a log database while its hub keeps committing (`gridhubctl backup`, README
/// "Backup and restore").
///
/// The copy is read, not asked for: the backup opens the database read-only beside the hub's writer and
/// copies one WAL read snapshot of it with SQLite's online backup API, so the hub never waits for it
/// (docs/audit.md, "Backups": why the backup API rather than `VACUUM INTO`). The result is a folder:
///
///   OUT/gridhub.db                  the log as it stood at one commit (its records, projection, keys),
///                                   in rollback-journal mode: one self-contained file (the hub
///                                   switches it back to WAL when it opens it after a restore)
///   OUT/checkpoints/checkpoint-*.txt the signed checkpoints at or before the copy's head (if given)
///   OUT/checkpoint.pub              the signer's public key (if given)
///   OUT/backup.txt                  what was copied: head seq and hash, log id, timeline, time, method
///
/// It is built under a temporary name beside OUT, every file and folder fsynced, then renamed to OUT
/// in one step: OUT either does not exist or is a complete backup. An existing OUT is never replaced.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "gridhub/common/progress.hpp"
#include "gridhub/common/result.hpp"
#include "gridhub/log/chain.hpp"

namespace gridhub::log {

inline constexpr std::string_view kBackupDbFile = "gridhub.db";
inline constexpr std::string_view kBackupCheckpointsDir = "checkpoints";
inline constexpr std::string_view kBackupManifestFile = "backup.txt";

enum class BackupMethod {
  kBackupApi,    // sqlite3_backup_*: copies pages as they are, in steps, under one read snapshot
  kVacuumInto,   // VACUUM INTO: rebuilds every table and index into a compact file (kept for comparison)
};

struct BackupOptions {
  std::filesystem::path db;                            // the live log database
  std::optional<std::filesystem::path> checkpoint_dir; // the hub's [audit] checkpoint_dir
  std::optional<std::filesystem::path> public_key;     // checkpoint.pub, copied beside the checkpoints
  std::filesystem::path out;                           // the backup folder to create; must not exist
  BackupMethod method = BackupMethod::kBackupApi;
  Progress* progress = nullptr;                        // pages copied (backup API only); nullptr: none
  std::int64_t now_micros = 0;                         // the time recorded in backup.txt
};

struct BackupReport {
  std::uint64_t head_seq = 0;          // the copy's newest record (0: an empty log)
  ChainHash head_hash{};
  std::string log_id;                  // the log's id and timeline at the copy (empty: never opened by a hub)
  std::string timeline;
  std::uint64_t checkpoints = 0;       // checkpoint files copied
  std::uint64_t bytes = 0;             // size of the copied database
};

/// Takes the backup. Errors name the file and what failed; nothing is left at OUT on error.
Result<BackupReport> take_backup(const BackupOptions& options);

std::string_view backup_method_name(BackupMethod m);

}  // namespace gridhub::log
