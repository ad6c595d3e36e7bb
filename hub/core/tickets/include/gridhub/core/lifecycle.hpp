#pragma once
/// The ticket lifecycle after intake: subscribers' reports (accept, note, resolve, return, extend) and SLA
/// escalations become log records through the writer (log::ChangeItem), each decided against the ticket's
/// state at its place in the log. See docs/lifecycle.md.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "gridhub/core/gatekeeper.hpp"
#include "gridhub/log/event_log.hpp"
#include "gridhub/v1/log.pb.h"
#include "gridhub/v1/wire.pb.h"

namespace gridhub::core {

/// Where a ticket goes next, and why (logged as a StageDecision).
struct Assignment {
  gridhub::v1::Tier tier = gridhub::v1::TIER_UNSPECIFIED;
  std::string assignee;
  std::string rule;
  std::string detail;
  std::int64_t due_us = 0;   // the new tier's deadline (LifecyclePolicy::due at the moment of the move); 0 = none
};

/// The county's lifecycle rules: SLA clocks and who is next up the tiers.
class LifecyclePolicy {
 public:
  virtual ~LifecyclePolicy() = default;
  /// The deadline for `ticket` (its category) handled at `tier`, clock started at `start_us`; 0 = no clock.
  /// The one source of due times: intake, returns and escalations all take theirs from here.
  virtual std::int64_t due(const gridhub::v1::Ticket& ticket, gridhub::v1::Tier tier, std::int64_t start_us) const = 0;
  /// `due_us` moved on by `hours` working hours.
  virtual std::int64_t extend(std::int64_t due_us, std::uint32_t hours) const = 0;
  /// The next tier up for `ticket` (grid -> community -> county department), moved at `now_us` (the
  /// record's time): its `due_us` is due(ticket, new tier, now_us). nullopt at the top.
  virtual std::optional<Assignment> next_tier(const gridhub::v1::Ticket& ticket, std::int64_t now_us) const = 0;
  /// The 12345 centre's assignee code (manual dispatch).
  virtual const std::string& center_code() const = 0;
  /// Returns after which a ticket goes to the centre.
  virtual std::uint32_t max_returns() const = 0;
};

/// Intake: the router's assignment starts the history and the clock (writer thread, in log order). The
/// deadline is policy->due at `now_us`; without a policy the ticket has none (routers give no deadlines).
void stamp_assignment(gridhub::v1::Ticket& ticket, std::int64_t now_us, const LifecyclePolicy* policy);

/// Checks what can be checked without the ticket; empty when fine, else the field at fault.
std::string validate_update(const gridhub::v1::UpdateTicket& request);

/// A subscriber's report as a change item. `gatekeeper` and `policy` must outlive the writer.
log::ChangeItem make_update(const gridhub::v1::UpdateTicket& request, std::shared_ptr<const Principal> who,
                            const Gatekeeper& gatekeeper, const LifecyclePolicy* policy);

/// The ticket missed its deadline `due_us`: escalates one tier, unless by its turn in the log the ticket
/// is no longer due then (resolved, extended, moved on: nothing is written, refused as kBadTransition).
/// Idempotent per (ticket, deadline).
log::ChangeItem make_escalation(const std::string& ticket_id, std::int64_t due_us, const LifecyclePolicy& policy);

/// The wire error for a writer refusal.
gridhub::v1::UpdateError update_error(log::Refusal refusal);

}  // namespace gridhub::core
