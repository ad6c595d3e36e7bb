#pragma once
/// Streams the log read-only as JSON lines or CSV, for auditors and exports (docs/audit.md). Works on
/// a copy or beside a running hub (WAL readers never block the writer).

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "gridhub/common/progress.hpp"
#include "gridhub/common/result.hpp"

namespace gridhub::audit {

enum class ReplayFormat { kJsonl, kCsv };

struct ReplayOptions {
  std::uint64_t from_seq = 1;
  std::optional<std::int64_t> since_micros;   // recorded_at >= since
  std::optional<std::int64_t> until_micros;   // recorded_at < until
  ReplayFormat format = ReplayFormat::kJsonl;
  bool show_pii = false;
  /// Records written so far, for a terminal (gridhub/common/progress.hpp); nullptr: none.
  Progress* progress = nullptr;
};

/// Writes one line per record (after a header line for CSV) to `out`; returns the number of records.
Result<std::uint64_t> replay(const std::filesystem::path& db_file, const ReplayOptions& options, std::FILE* out);

/// "2024-05-06T08:30:00Z", "2024-05-06T16:30:00.5+08:00" or "2024-05-06" (midnight UTC) -> µs since the epoch.
Result<std::int64_t> parse_time(std::string_view text);
/// µs since the epoch -> RFC 3339 UTC with microseconds: "2024-05-06T08:30:00.000000Z".
std::string format_time(std::int64_t micros);
/// format_time appended to `out`, without a temporary.
void append_time(std::string& out, std::int64_t micros);

}  // namespace gridhub::audit
