#include "gridhub/log/backup.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "gridhub/log/checkpoint.hpp"
#include "gridhub/log/log_identity.hpp"
#include "gridhub/sqlite/sqlite.hpp"

namespace gridhub::log {
namespace {

namespace fs = std::filesystem;

Error io_error(const fs::path& file, std::string_view what, int err) {
  return Error(Errc::io_failed, fmt::format("{}: {}: {}", file.string(), what, std::strerror(err)));
}

/// fsync of a file or folder: what was written into it, or the names in it, are on disk.
Status sync_path(const fs::path& p, bool directory) {
  const int fd = ::open(p.c_str(), (directory ? O_RDONLY | O_DIRECTORY : O_RDONLY) | O_CLOEXEC);
  if (fd < 0) return io_error(p, "cannot open to sync", errno);
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  if (rc != 0) return io_error(p, "fsync failed", err);
  return Ok{};
}

Status write_synced(const fs::path& file, std::string_view content, mode_t mode) {
  const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) return io_error(file, "cannot create", errno);
  std::size_t off = 0;
  while (off < content.size()) {
    const ssize_t n = ::write(fd, content.data() + off, content.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      ::close(fd);
      return io_error(file, "write failed", err);
    }
    off += static_cast<std::size_t>(n);
  }
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  if (rc != 0) return io_error(file, "fsync failed", err);
  return Ok{};
}

Result<std::string> read_whole(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return io_error(file, "cannot read", errno);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

Error storage(const fs::path& file, std::string_view what, sqlite3* db) {
  return Error(Errc::storage_failed, fmt::format("{}: {}: {}", file.string(), what, db ? sqlite3_errmsg(db) : "out of memory"));
}

/// A database with the log table; otherwise an error naming the file and what SQLite said.
Status check_is_log(sqlite::Database& db, const fs::path& file) {
  if (auto n = db.query_int("SELECT count(*) FROM log WHERE seq = 0"); !n) {
    return Error(Errc::storage_failed, fmt::format("{}: not a gridhub log database ({})", file.string(), n.error().detail));
  }
  return Ok{};
}

/// Copies one read snapshot of `src` into the new file `dst` page by page. The snapshot is held by an
/// explicit read transaction on the source for the whole copy: stepping without one would restart
/// the copy at every commit of the hub, and under steady ingest never finish.
Status copy_with_backup_api(const fs::path& src_file, const fs::path& dst_file, Progress* progress) {
  auto src = sqlite::Database::open(src_file, sqlite::OpenMode::kReadOnly);
  if (!src) return src.error();
  if (auto s = src.value().exec("BEGIN"); !s) return s;
  // The first read fixes the snapshot; a file that is no gridhub log fails here, before any copying.
  if (auto s = check_is_log(src.value(), src_file); !s) return s;

  sqlite3* dst = nullptr;
  if (sqlite3_open_v2(dst_file.c_str(), &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr) !=
      SQLITE_OK) {
    Error e = storage(dst_file, "cannot create", dst);
    sqlite3_close(dst);
    return e;
  }
  sqlite3_backup* b = sqlite3_backup_init(dst, "main", src.value().handle(), "main");
  if (b == nullptr) {
    Error e = storage(dst_file, "cannot start the backup", dst);
    sqlite3_close(dst);
    return e;
  }
  constexpr int kPagesPerStep = 1024;
  std::uint64_t shown = 0;
  int rc = SQLITE_OK;
  while (rc == SQLITE_OK) {
    rc = sqlite3_backup_step(b, kPagesPerStep);
    if (progress != nullptr) {
      const auto total = static_cast<std::uint64_t>(sqlite3_backup_pagecount(b));
      const auto done = total - static_cast<std::uint64_t>(sqlite3_backup_remaining(b));
      progress->set_total(total);
      while (shown < done) progress->update(++shown);   // Progress counts calls; one per page
    }
  }
  sqlite3_backup_finish(b);
  if (rc != SQLITE_DONE) {
    Error e = storage(dst_file, fmt::format("copying {} failed", src_file.string()), dst);
    sqlite3_close(dst);
    return e;
  }
  if (progress != nullptr) progress->finish(shown);
  if (sqlite3_close(dst) != SQLITE_OK) return Error(Errc::storage_failed, fmt::format("{}: close failed", dst_file.string()));
  return src.value().exec("COMMIT");
}

/// VACUUM INTO: one statement, one read snapshot, but every table and index is rebuilt.
Status copy_with_vacuum_into(const fs::path& src_file, const fs::path& dst_file) {
  auto src = sqlite::Database::open(src_file, sqlite::OpenMode::kReadOnly);
  if (!src) return src.error();
  if (auto s = check_is_log(src.value(), src_file); !s) return s;
  // VACUUM INTO attaches its output; our connections allow no attachments otherwise (lib/sqlite).
  sqlite3_limit(src.value().handle(), SQLITE_LIMIT_ATTACHED, 1);
  auto st = src.value().prepare("VACUUM INTO ?1");
  if (!st) return st.error();
  return st.value().bind(1, std::string_view(dst_file.native())).run();
}

struct Head {
  std::uint64_t seq = 0;
  ChainHash hash{};
};

/// The copy's newest record: read from the copy itself, so it is what the copy holds, whatever the
/// hub committed meanwhile.
Result<Head> read_head(const fs::path& copy) {
  auto db = sqlite::Database::open(copy, sqlite::OpenMode::kReadOnly);
  if (!db) return db.error();
  auto st = db.value().prepare("SELECT seq, hash FROM log ORDER BY seq DESC LIMIT 1");
  if (!st) return st.error();
  auto row = st.value().step();
  if (!row) return row.error();
  Head h;
  if (!row.value()) return h;
  h.seq = static_cast<std::uint64_t>(st.value().column_int(0));
  auto hash = chain_hash_from_blob(st.value().column_blob(1));
  if (!hash) return Error(Errc::bad_value, fmt::format("{}: record {}: field hash: not a chain hash", copy.string(), h.seq));
  h.hash = *hash;
  return h;
}

/// Copies the checkpoint files at or before `head_seq`, each parsed first (the copy must be usable by
/// verify); returns how many. Checkpoints after the head attest records the copy does not hold.
Result<std::uint64_t> copy_checkpoints(const fs::path& from, const fs::path& to, std::uint64_t head_seq) {
  std::error_code ec;
  if (!fs::is_directory(from, ec)) {
    return Error(Errc::io_failed, fmt::format("{}: checkpoint folder not found", from.string()));
  }
  fs::create_directory(to, ec);
  if (ec) return Error(Errc::io_failed, fmt::format("{}: cannot create: {}", to.string(), ec.message()));
  std::uint64_t copied = 0;
  for (const auto& file : list_checkpoint_files(from)) {
    auto text = read_whole(file);
    if (!text) return text.error();
    auto cp = parse_checkpoint(text.value());
    if (!cp) return Error(Errc::bad_value, fmt::format("{}: {}", file.string(), cp.error().detail));
    if (cp.value().seq > head_seq) continue;
    if (auto s = write_synced(to / file.filename(), text.value(), 0644); !s) return s.error();
    ++copied;
  }
  if (auto s = sync_path(to, true); !s) return s.error();
  return copied;
}

std::string manifest(const BackupReport& r, BackupMethod method, std::int64_t now_micros) {
  return fmt::format(
      "gridhub-backup v1\nhead_seq {}\nhead_hash {}\nlog_id {}\ntimeline {}\ntaken_at_us {}\nmethod {}\ncheckpoints {}\n"
      "bytes {}\n",
      r.head_seq, to_hex(r.head_hash), r.log_id.empty() ? "-" : r.log_id, r.timeline.empty() ? "-" : r.timeline,
      now_micros, backup_method_name(method), r.checkpoints, r.bytes);
}

Result<BackupReport> build(const BackupOptions& o, const fs::path& tmp) {
  const fs::path db = tmp / kBackupDbFile;
  if (o.method == BackupMethod::kBackupApi) {
    if (auto s = copy_with_backup_api(o.db, db, o.progress); !s) return s.error();
  } else {
    if (auto s = copy_with_vacuum_into(o.db, db); !s) return s.error();
  }
  // The copy keeps the live log's WAL mode in its header, so every reader of it (verify) would leave
  // -wal and -shm files beside it. In rollback-journal mode it stays one self-contained file; the hub
  // switches it back to WAL when it opens it after a restore.
  {
    auto copy = sqlite::Database::open(db, sqlite::OpenMode::kReadWrite);
    if (!copy) return copy.error();
    auto mode = copy.value().query_text("PRAGMA journal_mode=DELETE");
    if (!mode) return mode.error();
    if (mode.value() != "delete") {
      return Error(Errc::storage_failed, fmt::format("{}: journal mode stayed {}", db.string(), mode.value()));
    }
  }
  // Personal data's keys are in the copy: only the owner may read it.
  if (::chmod(db.c_str(), 0600) != 0) return io_error(db, "chmod failed", errno);
  if (auto s = sync_path(db, false); !s) return s.error();

  BackupReport r;
  auto head = read_head(db);
  if (!head) return head.error();
  r.head_seq = head.value().seq;
  r.head_hash = head.value().hash;
  auto id = read_log_identity(db);
  if (!id) return id.error();
  r.log_id = id.value().log_id;
  r.timeline = id.value().current();
  std::error_code ec;
  r.bytes = static_cast<std::uint64_t>(fs::file_size(db, ec));

  // Checkpoints are copied after the snapshot: every one at or before its head is written by now
  // (the hub signs only committed records), and none written later can be at or before it.
  if (o.checkpoint_dir) {
    auto n = copy_checkpoints(*o.checkpoint_dir, tmp / kBackupCheckpointsDir, r.head_seq);
    if (!n) return n.error();
    r.checkpoints = n.value();
  }
  if (o.public_key) {
    auto text = read_whole(*o.public_key);
    if (!text) return text.error();
    if (auto s = write_synced(tmp / kPublicKeyFile, text.value(), 0644); !s) return s.error();
  }
  if (auto s = write_synced(tmp / kBackupManifestFile, manifest(r, o.method, o.now_micros), 0644); !s) return s.error();
  if (auto s = sync_path(tmp, true); !s) return s.error();
  return r;
}

}  // namespace

std::string_view backup_method_name(BackupMethod m) {
  switch (m) {
    case BackupMethod::kBackupApi:
      return "sqlite-backup-api";
    case BackupMethod::kVacuumInto:
      return "vacuum-into";
  }
  return "unknown";
}

Result<BackupReport> take_backup(const BackupOptions& o) {
  std::error_code ec;
  if (!fs::is_regular_file(o.db, ec)) return Error(Errc::io_failed, fmt::format("{}: no such log database", o.db.string()));
  if (fs::exists(o.out, ec)) {
    return Error(Errc::io_failed, fmt::format("{}: already exists; a backup never replaces anything", o.out.string()));
  }
  const fs::path parent = o.out.has_parent_path() ? o.out.parent_path() : fs::path(".");
  if (!fs::is_directory(parent, ec)) return Error(Errc::io_failed, fmt::format("{}: no such folder", parent.string()));
  const fs::path tmp = parent / fmt::format(".{}.tmp-{}", o.out.filename().string(), ::getpid());
  fs::remove_all(tmp, ec);
  if (::mkdir(tmp.c_str(), 0700) != 0) return io_error(tmp, "cannot create", errno);

  auto r = build(o, tmp);
  if (r) {
    // RENAME_NOREPLACE: an OUT that appeared meanwhile is not replaced either.
    if (::renameat2(AT_FDCWD, tmp.c_str(), AT_FDCWD, o.out.c_str(), RENAME_NOREPLACE) != 0) {
      r = io_error(o.out, "cannot rename the finished backup into place", errno);
    } else if (auto s = sync_path(parent, true); !s) {
      r = s.error();   // in place, but perhaps not durably: say so rather than claim success
    }
  }
  if (!r) fs::remove_all(tmp, ec);
  return r;
}

}  // namespace gridhub::log
