#include "gridhub/core/lifecycle.hpp"

#include <fmt/format.h>

#include "gridhub/common/time_math.hpp"
#include "gridhub/sla/sla_policy.hpp"

namespace gridhub::core {

namespace v1 = gridhub::v1;

namespace {

constexpr std::uint32_t kMaxExtendHours = 720;
constexpr std::size_t kMaxText = 4096;
constexpr std::size_t kMaxRequestId = 128;

bool open_for_work(v1::TicketStatus s) {
  return s == v1::TICKET_STATUS_ASSIGNED || s == v1::TICKET_STATUS_ACCEPTED || s == v1::TICKET_STATUS_NEW;
}

std::string_view status_name(v1::TicketStatus s) {
  switch (s) {
    case v1::TICKET_STATUS_NEW: return "new";
    case v1::TICKET_STATUS_ASSIGNED: return "assigned";
    case v1::TICKET_STATUS_ACCEPTED: return "accepted";
    case v1::TICKET_STATUS_RESOLVED: return "resolved";
    case v1::TICKET_STATUS_RETURNED: return "returned (waiting for the centre)";
    case v1::TICKET_STATUS_CLOSED: return "closed";
    default: return "unknown";
  }
}

/// Moves the ticket to a new assignee: history, clock, status.
/// The deadline is the assignment's own (decided with the policy at `now`), never recomputed here.
void reassign(v1::Ticket& t, const Assignment& a, std::int64_t now) {
  t.set_tier(a.tier);
  t.set_assignee_code(a.assignee);
  t.add_assignee_history(a.assignee);
  t.mutable_assigned_at()->set_unix_micros(now);
  if (a.due_us > 0) {
    t.mutable_sla_due()->set_unix_micros(a.due_us);
  } else {
    t.clear_sla_due();
  }
  t.set_status(a.tier == v1::TIER_CENTER ? v1::TICKET_STATUS_RETURNED : v1::TICKET_STATUS_ASSIGNED);
}

v1::StageDecision decision(const Assignment& a) {
  v1::StageDecision d;
  d.set_stage("lifecycle");
  d.set_plugin("gridhub");
  d.set_rule(a.rule);
  d.set_detail(a.detail);
  return d;
}

Assignment to_center(const LifecyclePolicy* policy, std::string rule, std::string detail) {
  return Assignment{v1::TIER_CENTER, policy != nullptr ? policy->center_code() : std::string(categories::kDefaultCenterCode), std::move(rule),
                    std::move(detail)};
}

}  // namespace

void stamp_assignment(v1::Ticket& t, std::int64_t now_us, const LifecyclePolicy* policy) {
  if (t.assignee_code().empty()) return;
  if (t.assignee_history_size() == 0) t.add_assignee_history(t.assignee_code());
  t.mutable_assigned_at()->set_unix_micros(now_us);
  if (policy == nullptr) {
    t.clear_sla_due();   // no [sla]: no clock (a deadline comes from the policy alone)
    return;
  }
  const std::int64_t due = t.tier() == v1::TIER_CENTER ? 0 : policy->due(t, t.tier(), now_us);
  if (due > 0) {
    t.mutable_sla_due()->set_unix_micros(due);
  } else {
    t.clear_sla_due();
  }
}

std::string validate_update(const v1::UpdateTicket& r) {
  if (r.request_id().empty()) return "update.request_id: empty (it makes a resent update harmless)";
  if (r.request_id().size() > kMaxRequestId) return fmt::format("update.request_id: longer than {} bytes", kMaxRequestId);
  if (r.ticket_id().empty()) return "update.ticket_id: empty";
  if (r.text().size() > kMaxText) return fmt::format("update.text: longer than {} bytes", kMaxText);
  switch (r.action()) {
    case v1::UPDATE_ACTION_ACCEPT:
      return {};
    case v1::UPDATE_ACTION_NOTE:
    case v1::UPDATE_ACTION_RESOLVE:
    case v1::UPDATE_ACTION_RETURN:
      return r.text().empty() ? "update.text: required (the note, the result or the reason)" : std::string{};
    case v1::UPDATE_ACTION_EXTEND:
      if (r.text().empty()) return "update.text: required (why more time is needed)";
      if (r.extend_hours() == 0 || r.extend_hours() > kMaxExtendHours) {
        return fmt::format("update.extend_hours: {} is not between 1 and {}", r.extend_hours(), kMaxExtendHours);
      }
      return {};
    case v1::UPDATE_ACTION_UNSPECIFIED:
    default:
      return "update.action: missing or unknown";
  }
}

log::ChangeItem make_update(const v1::UpdateTicket& request, std::shared_ptr<const Principal> who,
                            const Gatekeeper& gatekeeper, const LifecyclePolicy* policy) {
  log::ChangeItem item;
  item.ticket_id = request.ticket_id();
  item.idempotency_key = fmt::format("update/{}/{}", who->name, request.request_id());
  item.apply = [request, who = std::move(who), &gatekeeper, policy](const v1::Ticket& current, v1::LogRecord& record,
                                                                      std::string& reason) -> log::Refusal {
    if (!gatekeeper.may_update(*who, current)) {
      reason = fmt::format("{} is assigned to {}, not to {}", current.ticket_id(), current.assignee_code(), who->name);
      return log::Refusal::kNotEntitled;
    }
    const std::int64_t now = record.recorded_at().unix_micros();
    auto* u = record.mutable_ticket_update();
    v1::Ticket& t = *u->mutable_ticket();
    t = current;
    const auto status = current.status();
    switch (request.action()) {
      case v1::UPDATE_ACTION_ACCEPT:
        if (status != v1::TICKET_STATUS_ASSIGNED && status != v1::TICKET_STATUS_NEW) {
          reason = fmt::format("{} is {}: only an assigned ticket can be accepted", current.ticket_id(), status_name(status));
          return log::Refusal::kBadTransition;
        }
        t.set_status(v1::TICKET_STATUS_ACCEPTED);
        break;
      case v1::UPDATE_ACTION_NOTE:
        break;
      case v1::UPDATE_ACTION_RESOLVE:
        if (!open_for_work(status)) {
          reason = fmt::format("{} is {}: it cannot be resolved", current.ticket_id(), status_name(status));
          return log::Refusal::kBadTransition;
        }
        t.set_status(v1::TICKET_STATUS_RESOLVED);
        t.mutable_resolved_at()->set_unix_micros(now);
        t.set_resolution(request.text());
        t.clear_sla_due();
        break;
      case v1::UPDATE_ACTION_RETURN: {
        if (!open_for_work(status) || current.tier() == v1::TIER_CENTER) {
          reason = fmt::format("{} is {} at {}: it cannot be returned", current.ticket_id(), status_name(status),
                               current.assignee_code());
          return log::Refusal::kBadTransition;
        }
        t.set_return_count(current.return_count() + 1);
        const std::uint32_t max_returns = policy != nullptr ? policy->max_returns() : static_cast<std::uint32_t>(sla::kDefaultMaxReturns);
        std::optional<Assignment> next;
        if (t.return_count() >= max_returns) {
          next = to_center(policy, "returns_exhausted",
                           fmt::format("returned {} times (limit {}): manual dispatch by the 12345 centre",
                                       t.return_count(), max_returns));
        } else if (policy != nullptr) {
          next = policy->next_tier(current, now);
          if (next) {
            next->rule = "returned_up_one_tier";
            next->detail = fmt::format("{} returned it as not theirs: {} takes it", current.assignee_code(), next->assignee);
          }
        }
        if (!next) {
          next = to_center(policy, "returned_no_higher_tier",
                           fmt::format("{} returned it and no tier is above it: manual dispatch", current.assignee_code()));
        }
        reassign(t, *next, now);
        *u->add_decisions() = decision(*next);
        break;
      }
      case v1::UPDATE_ACTION_EXTEND:
        if (!open_for_work(status) || !current.has_sla_due() || current.sla_due().unix_micros() == 0) {
          reason = fmt::format("{} has no running SLA clock to extend", current.ticket_id());
          return log::Refusal::kBadTransition;
        }
        t.mutable_sla_due()->set_unix_micros(policy != nullptr
                                                 ? policy->extend(current.sla_due().unix_micros(), request.extend_hours())
                                                 : add_micros_saturated(current.sla_due().unix_micros(), hours_to_micros_saturated(request.extend_hours())));
        break;
      case v1::UPDATE_ACTION_UNSPECIFIED:
      default:
        reason = "update.action: missing or unknown";
        return log::Refusal::kInvalid;
    }
    u->set_action(request.action());
    u->set_actor(who->name);
    u->set_actor_role(who->role);
    u->set_text(request.text());
    u->set_extend_hours(request.extend_hours());
    u->set_suggested_assignee(request.suggested_assignee());
    u->set_request_id(request.request_id());
    return log::Refusal::kNone;
  };
  return item;
}

log::ChangeItem make_escalation(const std::string& ticket_id, std::int64_t due_us, const LifecyclePolicy& policy) {
  log::ChangeItem item;
  item.ticket_id = ticket_id;
  // One escalation per missed deadline: a breach seen twice (a restart, a re-armed timer) writes once.
  item.idempotency_key = fmt::format("escalation/{}/{}", ticket_id, due_us);
  item.apply = [due_us, &policy](const v1::Ticket& current, v1::LogRecord& record, std::string& reason) -> log::Refusal {
    if (!open_for_work(current.status()) || !current.has_sla_due() || current.sla_due().unix_micros() != due_us) {
      reason = fmt::format("{} is no longer due at {} (resolved, extended or moved on)", current.ticket_id(), due_us);
      return log::Refusal::kBadTransition;
    }
    const std::int64_t now = record.recorded_at().unix_micros();
    auto* e = record.mutable_escalation();
    v1::Ticket& t = *e->mutable_ticket();
    t = current;
    e->set_reason("sla_breach");
    e->set_from_tier(current.tier());
    e->set_from_assignee(current.assignee_code());
    *e->mutable_due() = current.sla_due();
    t.set_escalation_count(current.escalation_count() + 1);
    auto next = policy.next_tier(current, now);
    if (!next) {
      // The top tier missed its deadline: recorded once, the clock stops; the work stays where it is.
      Assignment stay{current.tier(), current.assignee_code(), "sla_breach_top_tier",
                      fmt::format("{} missed its deadline at the top tier: recorded for the centre's supervision",
                                  current.assignee_code())};
      t.clear_sla_due();
      *e->mutable_decision() = decision(stay);
      return log::Refusal::kNone;
    }
    // The policy's rule names the step (sla.grid_to_community, ...); the detail says who missed what.
    next->detail = fmt::format("{} missed its deadline: {}", current.assignee_code(), next->detail);
    reassign(t, *next, now);
    *e->mutable_decision() = decision(*next);
    return log::Refusal::kNone;
  };
  return item;
}

v1::UpdateError update_error(log::Refusal refusal) {
  switch (refusal) {
    case log::Refusal::kNone: return v1::UPDATE_ERROR_NONE;
    case log::Refusal::kInvalid: return v1::UPDATE_ERROR_INVALID;
    case log::Refusal::kNotFound: return v1::UPDATE_ERROR_NOT_FOUND;
    case log::Refusal::kNotEntitled: return v1::UPDATE_ERROR_NOT_ENTITLED;
    case log::Refusal::kBadTransition: return v1::UPDATE_ERROR_BAD_TRANSITION;
    case log::Refusal::kInconsistent: return v1::UPDATE_ERROR_INCONSISTENT;
  }
  return v1::UPDATE_ERROR_INVALID;
}

}  // namespace gridhub::core
