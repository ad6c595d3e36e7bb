#pragma once
// Private to verify: what the log says about each ticket (the records that created and last changed
// it), the `prior_seq` check on every change (stale_change), and the comparison of the `tickets`
// projection with the state the log derives (projection_mismatch). docs/audit.md, "The projection".

#include <cstdint>
#include <string>
#include <string_view>
#include <optional>
#include <unordered_map>
#include <vector>

#include "body_scan.hpp"
#include "gridhub/audit/verify.hpp"
#include "gridhub/common/result.hpp"
#include "gridhub/sqlite/sqlite.hpp"

namespace gridhub::audit {

class TicketTrail {
 public:
  struct Span {
    std::uint64_t first = 0;   // the record that created the ticket (0: no such ticket)
    std::uint64_t last = 0;    // the record that last changed it
    bool in_projection = false;   // check_projection found its row
  };
  /// Records in seq order. Returns the problem in words when `f` is a change that does not build on
  /// its ticket's previous record; empty when fine.
  std::string see(std::uint64_t seq, const BodyFields& f);
  /// The ticket's span; nullptr if no record names it.
  const Span* find(std::string_view ticket_id) const;
  /// find(), and the ticket marked as having its row in the projection. Threads may call it at once
  /// for different tickets (each writes only its ticket's mark).
  const Span* find_in_projection(std::string_view ticket_id);
  /// Tickets find_in_projection has marked (each once, however often asked).
  std::size_t in_projection() const;
  /// An id near the middle of the tickets in id order, to split work on; empty when there is no
  /// point splitting (fewer than two tickets, or none spelled as the hub spells them).
  std::string middle_id() const;
  /// Tickets seen.
  std::size_t size() const { return count_; }
  /// `fn(ticket_id, span)` for every ticket seen, in no particular order.
  template <class Fn>
  void for_each(Fn&& fn) const {
    for (std::size_t n = 0; n < by_number_.size(); ++n) {
      if (by_number_[n].first != 0) fn(id_for_number(n), by_number_[n]);
    }
    for (const auto& [id, span] : other_) fn(std::string_view(id), span);
  }

 private:
  /// The hub names a ticket `T` + the seq of its first record, zero-padded to eight digits
  /// (ticket_id_for_seq): such an id is kept in a flat vector indexed by that number, which costs a
  /// few instructions per record where a hash map of strings cost a sixth of verify. Exactly that
  /// spelling and a number no later than the record naming it, so two ids never share a slot and the
  /// vector never outgrows the log; any other id goes to the map.
  static std::optional<std::size_t> number_of(std::string_view id, std::uint64_t seq);
  static std::string id_for_number(std::size_t n);
  Span* slot(std::string_view id, std::uint64_t seq, bool& fresh);
  /// find() for a const or a mutable trail.
  template <class Trail>
  static auto lookup(Trail& self, std::string_view id) -> decltype(&self.by_number_[0]);

  std::vector<Span> by_number_;
  std::unordered_map<std::string, Span> other_;
  std::size_t count_ = 0;
  std::size_t top_ = 0;   // the highest number in by_number_
};

/// Compares every row of `tickets` with the state the log derives (log::projection_step at the row's
/// last record) and the trail; fills `report` with the first projection_mismatch found.
Status check_projection(sqlite::Database& db, TicketTrail& trail, VerifyReport& report);

}  // namespace gridhub::audit
