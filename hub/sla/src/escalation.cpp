#include "gridhub/sla/escalation.hpp"

#include <fmt/format.h>

#include <chrono>

namespace gridhub::sla {

namespace {

const char* tier_name(v1::Tier t) {
  switch (t) {
    case v1::TIER_GRID: return "grid";
    case v1::TIER_COMMUNITY: return "community";
    case v1::TIER_COUNTY: return "county";
    case v1::TIER_CENTER: return "center";
    case v1::TIER_UNSPECIFIED:
    case v1::Tier_INT_MIN_SENTINEL_DO_NOT_USE_:
    case v1::Tier_INT_MAX_SENTINEL_DO_NOT_USE_:
      return "unspecified";
  }
  return "unspecified";
}

// "2030-01-09 10:30 +08:00": a due time as the county reads it (the calendar's local offset).
std::string local_time(std::int64_t unix_micros, int offset_minutes) {
  using namespace std::chrono;
  const auto local = sys_time<microseconds>(microseconds(unix_micros)) + minutes(offset_minutes);
  const auto day = floor<days>(local);
  const year_month_day ymd(day);
  const hh_mm_ss hms(floor<minutes>(local - day));
  const int off = offset_minutes < 0 ? -offset_minutes : offset_minutes;
  return fmt::format("{:04}-{:02}-{:02} {:02}:{:02} {}{:02}:{:02}", static_cast<int>(ymd.year()),
                     static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()), hms.hours().count(),
                     hms.minutes().count(), offset_minutes < 0 ? '-' : '+', off / 60, off % 60);
}

EscalationPlan to(v1::Tier tier, std::string assignee, const v1::Ticket& t, std::int64_t now,
                  const WorkCalendar& cal, const SlaPolicy& policy, std::string rule, std::string why) {
  EscalationPlan p;
  p.escalate = true;
  p.to_tier = tier;
  p.to_assignee = std::move(assignee);
  p.rule = std::move(rule);
  p.new_due = policy.due(cal, t.category_code(), tier, now);   // the one source of due times
  const auto hours = policy.hours(t.category_code(), tier);
  if (p.new_due && hours) {
    p.detail = fmt::format("{}; {} {} gets {} working hours for category {}, due {}", why, tier_name(tier),
                           p.to_assignee, *hours, t.category_code(), local_time(*p.new_due, cal.utc_offset_minutes()));
  } else {
    p.detail = fmt::format("{}; {} {} has no SLA clock for category {}", why, tier_name(tier), p.to_assignee,
                           t.category_code());
  }
  return p;
}

EscalationPlan breach_only(const v1::Ticket& t, std::string rule, std::string why) {
  EscalationPlan p;
  p.escalate = false;
  p.to_tier = t.tier();
  p.to_assignee = t.assignee_code();
  p.rule = std::move(rule);
  p.detail = std::move(why);
  return p;
}

}  // namespace

EscalationPlan plan_escalation(const v1::Ticket& t, std::int64_t now, const WorkCalendar& cal,
                               const SlaPolicy& policy) {
  const CategorySla* cat = policy.category(t.category_code());
  const auto county = [&](std::string rule, std::string why) {
    if (cat == nullptr) {
      return to(v1::TIER_CENTER, policy.center_code(), t, now, cal, policy, "sla.unknown_category_to_center",
                fmt::format("{}; category '{}' is not in categories.csv, so no county department is known: "
                            "manual dispatch",
                            why, t.category_code()));
    }
    return to(v1::TIER_COUNTY, cat->county_dept, t, now, cal, policy, std::move(rule), std::move(why));
  };
  switch (t.tier()) {
    case v1::TIER_GRID:
      if (!t.community_code().empty()) {
        return to(v1::TIER_COMMUNITY, t.community_code(), t, now, cal, policy, "sla.grid_to_community",
                  fmt::format("grid {} missed its due time; escalated to its community", t.assignee_code()));
      }
      return county("sla.grid_to_county",
                    fmt::format("grid {} missed its due time and the ticket has no community code; escalated "
                                "to the county department",
                                t.assignee_code()));
    case v1::TIER_COMMUNITY:
      return county("sla.community_to_county",
                    fmt::format("community {} missed its due time; escalated to the county department",
                                t.assignee_code()));
    case v1::TIER_COUNTY:
      return breach_only(t, "sla.county_breach",
                         fmt::format("county department {} missed its due time; the county is the last tier, "
                                     "breach reported without re-assignment",
                                     t.assignee_code()));
    case v1::TIER_CENTER:
      return breach_only(t, "sla.center_breach",
                         fmt::format("the centre {} holds the ticket for manual dispatch; nothing above it",
                                     t.assignee_code()));
    case v1::TIER_UNSPECIFIED:
    case v1::Tier_INT_MIN_SENTINEL_DO_NOT_USE_:
    case v1::Tier_INT_MAX_SENTINEL_DO_NOT_USE_:
      return breach_only(t, "sla.no_tier", "the ticket has no tier; nothing to escalate to");
  }
  return breach_only(t, "sla.no_tier", "the ticket has no tier; nothing to escalate to");
}

}  // namespace gridhub::sla
