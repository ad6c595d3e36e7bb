#pragma once
// The writer's ChainSource (gridhub/log/checkpoint.hpp): its own connection's view of the stored chain.

#include "gridhub/log/checkpoint.hpp"
#include "gridhub/sqlite/sqlite.hpp"

namespace gridhub::log::detail {

class SqliteChainSource final : public ChainSource {
 public:
  /// `commits_synced`: every commit is fsynced already (durability "full"), make_durable has nothing to do.
  SqliteChainSource(sqlite::Database& db, bool commits_synced) : db_(db), commits_synced_(commits_synced) {}
  Result<ChainLink> recompute(const ChainLink& from, std::uint64_t to_seq) noexcept override;
  Status make_durable() noexcept override;
  bool commits_durable() const noexcept override { return commits_synced_; }

 private:
  sqlite::Database& db_;
  bool commits_synced_;
};

}  // namespace gridhub::log::detail
