#pragma once
// Private: reads the log read-only in seq order, one parsed LogRecord at a time, for the auditor's
// views (state, reroute, report). Memory is one record, whatever the log's size.

#include <cstdint>
#include <filesystem>
#include <limits>
#include <string>

#include <fmt/format.h>

#include "gridhub/common/progress.hpp"
#include "gridhub/common/result.hpp"
#include "gridhub/sqlite/sqlite.hpp"
#include "gridhub/v1/log.pb.h"

namespace gridhub::audit::detail {

/// recorded_at in [since, until]; both inclusive (callers turn an exclusive bound into until - 1).
struct ScanRange {
  std::int64_t since = std::numeric_limits<std::int64_t>::min();
  std::int64_t until = std::numeric_limits<std::int64_t>::max();
};

/// Calls `fn(seq, recorded_at, record)` for every record in range, in seq order. A body that does not
/// parse stops the scan with an error naming its seq: an auditor's figure must not silently skip one.
/// `progress` (nullptr: none) hears the records read against the log's head.
template <class Fn>
Result<std::uint64_t> scan_log(const std::filesystem::path& db_file, ScanRange range, Fn&& fn, Progress* progress = nullptr) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(db_file, ec)) {
    return Error(Errc::io_failed, fmt::format("{}: no such file", db_file.string()));
  }
  auto db = sqlite::Database::open(db_file, sqlite::OpenMode::kReadOnly);
  if (!db) return db.error();
  if (auto s = db->exec("PRAGMA query_only=1"); !s) return s.error();
  if (auto s = db->exec("PRAGMA mmap_size=1073741824"); !s) return s.error();   // no pread per page
  if (progress != nullptr) {
    auto head = db->query_int("SELECT coalesce(max(seq), 0) FROM log");
    if (!head) return head.error();
    progress->set_total(static_cast<std::uint64_t>(head.value()));
  }
  auto rows = db->prepare("SELECT seq, recorded_at, body FROM log WHERE recorded_at >= ? AND recorded_at <= ? ORDER BY seq");
  if (!rows) return rows.error();
  auto& st = rows.value();
  st.bind(1, range.since).bind(2, range.until);
  gridhub::v1::LogRecord rec;
  std::uint64_t n = 0;
  for (;;) {
    auto row = st.step();
    if (!row) return row.error();
    if (!row.value()) break;
    const auto seq = static_cast<std::uint64_t>(st.column_int(0));
    const auto body = st.column_blob(2);
    if (!rec.ParseFromArray(body.data(), static_cast<int>(body.size()))) {
      return Error(Errc::bad_value, fmt::format("{}: log record {}: body is not a LogRecord", db_file.string(), seq));
    }
    ++n;
    if (auto s = fn(seq, st.column_int(1), rec); !s) return s.error();
    if (progress != nullptr) progress->update(seq);
  }
  if (progress != nullptr) progress->finish(n);
  return n;
}

}  // namespace gridhub::audit::detail
