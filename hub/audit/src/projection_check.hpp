#pragma once
// Private to verify: what the log says about each ticket (the records that created and last changed
// it), the `prior_seq` check on every change (stale_change), and the comparison of the `tickets`
// projection with the state the log derives (projection_mismatch). docs/audit.md, "The projection".

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>

#include "body_scan.hpp"
#include "gridhub/audit/verify.hpp"
#include "gridhub/common/result.hpp"
#include "gridhub/sqlite/sqlite.hpp"

namespace gridhub::audit {

class TicketTrail {
 public:
  struct Span {
    std::uint64_t first = 0;   // the record that created the ticket
    std::uint64_t last = 0;    // the record that last changed it
  };
  /// Records in seq order. Returns the problem in words when `f` is a change that does not build on
  /// its ticket's previous record; empty when fine.
  std::string see(std::uint64_t seq, const BodyFields& f);
  const std::unordered_map<std::string, Span>& tickets() const { return tickets_; }

 private:
  std::unordered_map<std::string, Span> tickets_;
};

/// Compares every row of `tickets` with the state the log derives (log::projection_step at the row's
/// last record) and the trail; fills `report` with the first projection_mismatch found.
Status check_projection(sqlite::Database& db, const TicketTrail& trail, VerifyReport& report);

}  // namespace gridhub::audit
