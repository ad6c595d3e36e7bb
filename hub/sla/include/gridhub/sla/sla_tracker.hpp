#pragma once
/// The set of running SLA clocks: one per open ticket, ordered by due time.
///
/// Fed with ticket snapshots in log order (observe), it answers "which clocks have run out by now"
/// (due_at_or_before) and "when does the next one run out" (next_due, for arming a timer). A clock
/// belongs to one ticket version: a snapshot with a newer version replaces it, so a ticket that was
/// re-assigned, extended or resolved never fires for its old due time. Memory is one entry per open
/// ticket. After a restart the hub rebuilds the set from its projection (rebuild), so clocks survive.

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "gridhub/v1/ticket.pb.h"

namespace gridhub::sla {

struct DueClock {
  std::string ticket_id;
  std::int64_t due = 0;         // unix micros
  std::uint64_t version = 0;    // the ticket version the clock belongs to
  bool operator==(const DueClock&) const = default;
};

/// Statuses whose clock runs: ASSIGNED, ACCEPTED, RETURNED.
bool clock_runs(v1::TicketStatus status) noexcept;

class SlaTracker {
 public:
  /// Adds, moves or removes the ticket's clock. A snapshot older than the one already seen is
  /// ignored. A ticket without sla_due, or not in a running status, has no clock.
  void observe(const v1::Ticket& ticket);
  /// The same from the few fields the clock needs (the writer reports these after each commit).
  void observe(const std::string& ticket_id, v1::TicketStatus status, std::int64_t sla_due, std::uint64_t version,
               v1::Tier tier = v1::TIER_UNSPECIFIED);
  /// Clears and observes every ticket (the hub's projection at start-up).
  void rebuild(const std::vector<v1::Ticket>& tickets);

  /// Clocks with due <= now, oldest first. Each (ticket, version) fires once: it stays known (so a
  /// repeated snapshot of the same version does not re-arm it) until a newer version arrives.
  std::vector<DueClock> due_at_or_before(std::int64_t now);
  /// The earliest armed due time.
  std::optional<std::int64_t> next_due() const;

  std::size_t armed() const noexcept { return order_.size(); }
  std::size_t tracked() const noexcept { return by_ticket_.size(); }
  /// Clocks that ran out and whose ticket has not moved on since (no newer version yet): O(tracked).
  std::size_t fired() const noexcept;

  struct TierClocks {
    std::size_t running = 0;    // armed, not run out
    std::size_t breached = 0;   // run out, ticket not moved on since
  };
  /// The clocks by the tier their ticket was at when observed: O(tracked), for metrics.
  std::map<v1::Tier, TierClocks> by_tier() const;

 private:
  struct Entry {
    std::int64_t due;
    std::uint64_t version;
    bool fired;
    v1::Tier tier;
  };
  void disarm(const std::string& id, const Entry& e);

  std::unordered_map<std::string, Entry> by_ticket_;
  std::set<std::pair<std::int64_t, std::string>> order_;   // (due, ticket_id) of armed clocks
};

}  // namespace gridhub::sla
