#pragma once
/// The operations page's in-memory picture of the county: every open ticket (new, assigned,
/// accepted, returned — the hub's own "open") with only what the page shows — grid, community,
/// assignee, category, tier, SLA due time — built by applying the log's records in seq order.
/// Nothing personal is kept: no reporter, no text, no address.
///
/// Threading: one owner (the service's io thread). Not thread-safe.

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>

#include "gridhub/common/result.hpp"
#include "gridhub/ops/world.hpp"

namespace gridhub::ops {

struct OpenTicket {
  std::string grid;
  std::string community;
  std::string assignee;
  std::string category;
  int tier = 0;                // gridhub.v1.Tier
  std::int64_t due_us = 0;     // 0: no SLA clock
};

/// A record of a kind this process does not know (a hotspot record, body field 14, among them).
struct OtherRecord {
  std::uint64_t seq = 0;
  std::string ticket_id;
  std::int64_t recorded_at_us = 0;
  int body_field = 0;          // the LogRecord body field number (0: none)
};

class Picture {
 public:
  explicit Picture(const World& world) : world_(world) {}

  /// One stored LogRecord, in seq order. Never throws: bytes that do not parse are counted.
  void apply(std::uint64_t seq, std::string_view record);
  /// The log's head as the hub last told it (stream or admin endpoint).
  void note_head(std::uint64_t head);
  /// Dead letters the hub holds (its admin endpoint), when known.
  void note_dead_letters(std::uint64_t count);
  void note_connected(bool connected);

  std::uint64_t last_seq() const { return last_seq_; }
  std::size_t open_tickets() const { return open_.size(); }
  /// Bumped by every change the page would show.
  std::uint64_t version() const { return version_; }

  /// What a restart resumes from: the open tickets, the other records and the seq they reach, as
  /// JSON (docs/ops-page.md, "How it starts and resumes").
  std::string save_state() const;
  /// Replaces the picture with a saved one; an error (naming what is wrong) leaves it empty.
  Status restore_state(std::string_view text);

  /// The page's whole state as one JSON object (docs/ops-page.md lists its fields): counts per
  /// grid, community, assignee and tier, breached clocks at `now_us`, the `nearest` tickets due soonest.
  std::string summary_json(std::int64_t now_us, std::size_t nearest = 15) const;

 private:
  void clear();
  /// Adds (+1) or removes (-1) one open ticket's share of the counts and the deadline index.
  void count(const std::string& id, const OpenTicket& t, int sign);

  const World& world_;
  std::unordered_map<std::string, OpenTicket> open_;   // by ticket id
  // Kept as records arrive, so a summary costs the breached tickets and the names, not every open
  // ticket: open counts per grid, community, assignee and tier, and the running clocks by due time.
  std::unordered_map<std::string, std::int64_t> by_grid_, by_community_, by_assignee_;
  std::map<int, std::int64_t> by_tier_;
  std::set<std::pair<std::int64_t, std::string>> by_due_;
  std::deque<OtherRecord> others_;                      // the latest few, newest last
  std::uint64_t other_count_ = 0;
  std::uint64_t unreadable_ = 0;
  std::uint64_t last_seq_ = 0;
  std::uint64_t head_seq_ = 0;
  std::optional<std::uint64_t> dead_letters_;
  bool connected_ = false;
  std::uint64_t version_ = 0;
};

}  // namespace gridhub::ops
