#pragma once
/// A log's identity and its line of restores, for the adapters' restore handshake
/// (docs/wire-protocol.md, "After a restore").
///
/// Every log has a random id, created with it; copies (backups) keep it. Each time the hub resumes
/// from a restored copy (`gridhub --accept-restored-log`), the records after the copy's head are gone
/// and the seqs after it are written again: the log starts a new *timeline*, a new random id whose
/// first seq is the copy's head + 1. Acks carry the timeline they were given in, so an adapter can
/// tell which of its acknowledged events the log no longer holds. Kept in the `timelines` table of
/// the log database (not chained: operational state, like `subscriptions`).

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "gridhub/common/result.hpp"

namespace gridhub::log {

struct Timeline {
  std::string id;               // 16 lower-case hex digits
  std::uint64_t first_seq = 1;  // the first seq written in it
};

struct LogIdentity {
  /// The log's id: its first timeline's.
  std::string log_id;
  /// Oldest first; the last is the one the writer extends. Empty for a log no hub opened yet.
  std::vector<Timeline> timelines;
  std::string current() const { return timelines.empty() ? std::string() : timelines.back().id; }
};

/// Read-only; an empty identity for a log written before timelines existed and not opened since.
Result<LogIdentity> read_log_identity(const std::filesystem::path& db_file);

}  // namespace gridhub::log
