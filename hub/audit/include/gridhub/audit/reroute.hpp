#pragma once
/// `gridhubctl reroute`: replays the logged intake events through a candidate pipeline and lists the
/// decisions that would change (docs/audit.md). With the configuration that was in force it reproduces
/// the log exactly: any difference then means the log, the reference data or a plugin changed.

#include <array>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

#include "gridhub/common/progress.hpp"
#include "gridhub/common/result.hpp"
#include "gridhub/pipeline/pipeline.hpp"

namespace gridhub::audit {

/// The routing decisions a record's ticket carries, as the log stores them.
enum class DecisionField { kIsTicket, kCategory, kCommunity, kGrid, kTier, kAssignee, kIncident };
inline constexpr std::size_t kDecisionFieldCount = 7;

/// "is_ticket", "category_code", "community_code", "grid_code", "tier", "assignee_code", "incident".
std::string_view field_name(DecisionField f);

struct DecisionChange {
  std::uint64_t seq = 0;
  std::string source_key;
  DecisionField field = DecisionField::kIsTicket;
  std::string logged;      // as the log has it ("true"/"false" for is_ticket, lower-case tier names)
  std::string candidate;   // what the candidate configuration would have stored
};

struct RerouteSummary {
  std::uint64_t records = 0;           // intake records replayed
  std::uint64_t changed_records = 0;   // records with at least one change
  std::array<std::uint64_t, kDecisionFieldCount> changes{};   // per DecisionField
};

/// Replays every intake record in seq order through `candidate` (a freshly created pipeline: its merger
/// must start empty), with the ticket ids the log used. For each record it compares what the log would
/// have stored — for a merged report that is the incident's ticket — field by field and calls
/// `on_change` for each difference; when is_ticket differs only that is reported (the rest is moot).
Result<RerouteSummary> reroute(const std::filesystem::path& db_file, pipeline::Pipeline& candidate,
                               const std::function<void(const DecisionChange&)>& on_change, Progress* progress = nullptr);

/// `12  GD202405060003  assignee_code  CTY_SWJ -> CTY_ZJJ` (tab-separated; an empty value prints as "-"),
/// or a JSON object {"seq","source_key","field","logged","candidate"}. No trailing newline.
std::string format_change(const DecisionChange& c, bool json);
/// `reroute: 281 records replayed, 12 would change: is_ticket 0, category_code 0, …` or the same as JSON
/// {"records","changed_records","changes":{"is_ticket":0,…}}. No trailing newline.
std::string format_summary(const RerouteSummary& s, bool json);

}  // namespace gridhub::audit
