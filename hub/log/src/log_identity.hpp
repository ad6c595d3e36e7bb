#pragma once
// The writer's side of gridhub/log/log_identity.hpp.

#include <cstdint>

#include "gridhub/log/log_identity.hpp"
#include "gridhub/sqlite/sqlite.hpp"

namespace gridhub::log::detail {

/// Creates the `timelines` table and the log's first timeline if it has none.
Status ensure_log_identity(sqlite::Database& db, std::int64_t now_micros);
/// Starts a new timeline at `first_seq` (a restored copy is resumed).
Result<Timeline> fork_timeline(sqlite::Database& db, std::uint64_t first_seq, std::int64_t now_micros);
Result<LogIdentity> load_log_identity(sqlite::Database& db);

}  // namespace gridhub::log::detail
