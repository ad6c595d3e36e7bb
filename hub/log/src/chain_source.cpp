#include "chain_source.hpp"

#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace gridhub::log::detail {

Result<ChainLink> SqliteChainSource::recompute(const ChainLink& from, std::uint64_t to_seq) noexcept {
  try {
    if (from.seq > 0) {
      auto st = db_.prepare("SELECT hash FROM log WHERE seq = ?");
      if (!st) return st.error();
      st->bind(1, static_cast<std::int64_t>(from.seq));
      auto row = st->step();
      if (!row) return row.error();
      if (!row.value()) return Error(Errc::bad_value, fmt::format("record {} is missing", from.seq));
      auto stored = chain_hash_from_blob(st->column_blob(0));
      if (!stored || *stored != from.hash) {
        return Error(Errc::bad_value, fmt::format("record {}: its stored hash is not the attested one (records up to "
                                                  "it were changed and the chain recomputed)", from.seq));
      }
    }
    auto st = db_.prepare("SELECT seq, recorded_at, body, hash FROM log WHERE seq > ? AND seq <= ? ORDER BY seq");
    if (!st) return st.error();
    st->bind(1, static_cast<std::int64_t>(from.seq)).bind(2, static_cast<std::int64_t>(to_seq));
    ChainHasher hasher;
    ChainLink at = from;
    for (;;) {
      auto row = st->step();
      if (!row) return row.error();
      if (!row.value()) break;
      const auto seq = static_cast<std::uint64_t>(st->column_int(0));
      if (seq != at.seq + 1) return Error(Errc::bad_value, fmt::format("record {} is missing", at.seq + 1));
      ChainHash h{};
      if (!hasher.next(at.hash, seq, st->column_int(1), st->column_blob(2), h)) {
        return Error(Errc::storage_failed, fmt::format("record {}: SHA-256 failed", seq));
      }
      auto stored = chain_hash_from_blob(st->column_blob(3));
      if (!stored || *stored != h) {
        return Error(Errc::bad_value, fmt::format("record {}: its stored hash differs from the recomputed chain (the "
                                                  "record, or one before it, was changed)", seq));
      }
      at = ChainLink{seq, h};
    }
    if (at.seq != to_seq) return Error(Errc::bad_value, fmt::format("record {} is missing", at.seq + 1));
    return at;
  } catch (const std::exception& e) {
    return Error(Errc::storage_failed, fmt::format("recomputing the chain: {}", e.what()));
  }
}

Status SqliteChainSource::make_durable() noexcept {
  if (commits_synced_) return Ok{};
  // synchronous=NORMAL: a commit is in the WAL file, not yet on disk. fsync of the WAL makes every
  // commit so far durable (what a wal checkpoint would do first, without depending on readers).
  const char* wal = sqlite3_filename_wal(sqlite3_db_filename(db_.handle(), "main"));
  if (wal == nullptr || *wal == '\0') return Ok{};
  const int fd = ::open(wal, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return Ok{};   // nothing committed since the last checkpoint into the database
    return Error(Errc::io_failed, fmt::format("{}: cannot open to fsync: {}", wal, std::strerror(errno)));
  }
  const int rc = ::fsync(fd);
  const int e = errno;
  ::close(fd);
  if (rc != 0) return Error(Errc::io_failed, fmt::format("{}: fsync failed: {}", wal, std::strerror(e)));
  return Ok{};
}

}  // namespace gridhub::log::detail
