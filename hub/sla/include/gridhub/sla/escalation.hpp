#pragma once
/// What happens when a ticket's SLA clock runs out: the one-tier escalation decision.
///
/// The chain is grid -> community (assignee: the ticket's community code) -> county (assignee: the
/// category's county department). A breach at county tier (or at the centre) goes no further: it is
/// reported once and the ticket keeps its assignee. A pure function of its inputs, so replaying the
/// log reproduces every decision.

#include <cstdint>
#include <optional>
#include <string>

#include "gridhub/sla/sla_policy.hpp"
#include "gridhub/sla/work_calendar.hpp"
#include "gridhub/v1/ticket.pb.h"

namespace gridhub::sla {

struct EscalationPlan {
  bool escalate = false;                 // false: breach reported, nothing re-assigned
  v1::Tier to_tier = v1::TIER_UNSPECIFIED;
  std::string to_assignee;
  std::optional<std::int64_t> new_due;   // SlaPolicy::due at `now`; nullopt: the new tier has no clock
  std::string rule;                      // stable name, e.g. "sla.grid_to_community"
  std::string detail;                    // the decision in words, for the log and auditors
};

/// `now` is the moment of the re-assignment (the hub's injected clock, as stamped on the record that
/// carries the decision): the new tier's clock starts there, and `detail` names the resulting due time.
EscalationPlan plan_escalation(const v1::Ticket& ticket, std::int64_t now, const WorkCalendar& calendar,
                               const SlaPolicy& policy);

}  // namespace gridhub::sla
