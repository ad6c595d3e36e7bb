#include "gridhub/audit/reroute.hpp"

#include <unordered_map>

#include <fmt/format.h>

#include "gridhub/core/routing.hpp"
#include "gridhub/log/event_log.hpp"
#include "log_scan.hpp"
#include "text_out.hpp"

namespace gridhub::audit {

namespace v1 = gridhub::v1;

namespace {

/// The decision fields of one record's ticket, as strings in DecisionField order.
using Fields = std::array<std::string, kDecisionFieldCount>;

std::string tier_name(v1::Tier t) {
  switch (t) {
    case v1::TIER_UNSPECIFIED: return "";
    case v1::TIER_GRID: return "grid";
    case v1::TIER_COMMUNITY: return "community";
    case v1::TIER_COUNTY: return "county";
    case v1::TIER_CENTER: return "center";
    default: break;   // protobuf's sentinel values
  }
  return std::to_string(static_cast<int>(t));
}

Fields fields_of(const v1::Ticket& t) {
  return {"true", t.category_code(), t.community_code(), t.grid_code(), tier_name(t.tier()), t.assignee_code(), t.incident_id()};
}

Fields not_a_ticket() { return {"false", "", "", "", "", "", ""}; }

std::size_t idx(DecisionField f) { return static_cast<std::size_t>(f); }

}  // namespace

std::string_view field_name(DecisionField f) {
  switch (f) {
    case DecisionField::kIsTicket: return "is_ticket";
    case DecisionField::kCategory: return "category_code";
    case DecisionField::kCommunity: return "community_code";
    case DecisionField::kGrid: return "grid_code";
    case DecisionField::kTier: return "tier";
    case DecisionField::kAssignee: return "assignee_code";
    case DecisionField::kIncident: return "incident";
  }
  return "?";
}

Result<RerouteSummary> reroute(const std::filesystem::path& db_file, pipeline::Pipeline& candidate,
                               const std::function<void(const DecisionChange&)>& on_change, Progress* progress) {
  RerouteSummary summary;
  // The candidate's own tickets by id, for merges: a merged report stores its incident's ticket.
  std::unordered_map<std::string, Fields> candidate_tickets;
  v1::IntakeAccepted scratch;
  auto n = detail::scan_log(db_file, {}, [&](std::uint64_t seq, std::int64_t, v1::LogRecord& rec) -> Status {
    if (!rec.has_intake_accepted()) return Ok{};
    const auto& intake = rec.intake_accepted();
    ++summary.records;
    const Fields logged =
        intake.disposition() == v1::DISPOSITION_NOT_A_TICKET || !intake.has_ticket() ? not_a_ticket() : fields_of(intake.ticket());

    // What the hub does (ingest_server + PipelineHook + event_log), with the candidate pipeline.
    auto a = candidate.assess(intake.event());
    const std::string new_id = log::ticket_id_for_seq(seq);
    Fields cand = not_a_ticket();
    if (a.classification.is_ticket) {
      auto m = candidate.merge(a, new_id);
      const std::string incident = m.incident_id.empty() ? new_id : m.incident_id;
      auto joined = m.merged ? candidate_tickets.find(incident) : candidate_tickets.end();
      if (joined != candidate_tickets.end()) {
        cand = joined->second;
      } else {
        // A new ticket (or, as the log does, a merge into an unknown incident stays new).
        scratch.Clear();
        core::apply_assessment(a, scratch);
        cand = fields_of(scratch.ticket());
        cand[idx(DecisionField::kIncident)] = m.merged ? new_id : incident;
        candidate_tickets[new_id] = cand;
      }
    }

    bool changed = false;
    auto report = [&](DecisionField f) {
      if (logged[idx(f)] == cand[idx(f)]) return;
      changed = true;
      ++summary.changes[idx(f)];
      if (on_change) on_change(DecisionChange{seq, intake.event().source_key(), f, logged[idx(f)], cand[idx(f)]});
    };
    report(DecisionField::kIsTicket);
    if (!changed) {
      for (DecisionField f : {DecisionField::kCategory, DecisionField::kCommunity, DecisionField::kGrid, DecisionField::kTier,
                              DecisionField::kAssignee, DecisionField::kIncident}) {
        report(f);
      }
    }
    if (changed) ++summary.changed_records;
    return Ok{};
  }, progress);
  if (!n) return n.error();
  return summary;
}

std::string format_change(const DecisionChange& c, bool json) {
  std::string out;
  if (json) {
    out += fmt::format("{{\"seq\":{},\"source_key\":", c.seq);
    detail::append_json_string(out, c.source_key);
    out += fmt::format(",\"field\":\"{}\",\"logged\":", field_name(c.field));
    detail::append_json_string(out, c.logged);
    out += ",\"candidate\":";
    detail::append_json_string(out, c.candidate);
    out += '}';
    return out;
  }
  auto shown = [](const std::string& v) { return v.empty() ? std::string("-") : v; };
  return fmt::format("{}\t{}\t{}\t{} -> {}", c.seq, c.source_key, field_name(c.field), shown(c.logged), shown(c.candidate));
}

std::string format_summary(const RerouteSummary& s, bool json) {
  std::string out;
  if (json) {
    out += fmt::format("{{\"records\":{},\"changed_records\":{},\"changes\":{{", s.records, s.changed_records);
    for (std::size_t i = 0; i < kDecisionFieldCount; ++i) {
      out += fmt::format("{}\"{}\":{}", i ? "," : "", field_name(static_cast<DecisionField>(i)), s.changes[i]);
    }
    out += "}}";
    return out;
  }
  out += fmt::format("reroute: {} records replayed, {} would change:", s.records, s.changed_records);
  for (std::size_t i = 0; i < kDecisionFieldCount; ++i) {
    out += fmt::format("{} {} {}", i ? "," : "", field_name(static_cast<DecisionField>(i)), s.changes[i]);
  }
  return out;
}

}  // namespace gridhub::audit
