#pragma once
/// `gridhubctl report`: the figures a county publishes, computed from the log alone (docs/audit.md):
/// tickets by channel, category, community, grid and routing tier, the share kept at grid and community
/// level ("small matters stay in the grid"), and reports merged per incident. CSV for re-use, or one
/// self-contained HTML page (inline CSS and SVG, no scripts, nothing fetched) for the county's website.
///
/// The log holds intake records only today: SLA compliance, returns per department and time to resolve
/// need status updates and escalations, which no hub writes yet; the report says so instead of guessing.

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "gridhub/common/progress.hpp"
#include "gridhub/common/result.hpp"

namespace gridhub::audit {

struct ReportOptions {
  std::optional<std::int64_t> since_micros;   // recorded_at >= since
  std::optional<std::int64_t> until_micros;   // recorded_at < until
  Progress* progress = nullptr;               // records read, for a terminal; nullptr: none
};

struct ChannelCounts {
  std::uint64_t reports = 0;        // intake records from this channel
  std::uint64_t tickets = 0;        // tickets this channel's records created
  std::uint64_t merged = 0;         // reports joined to an existing incident
  std::uint64_t not_tickets = 0;    // kept for the record, no ticket (chit-chat, test orders)
};

struct CommunityCounts {
  std::uint64_t tickets = 0;
  std::uint64_t grid_tier = 0;        // of those, routed to the grid
  std::uint64_t community_tier = 0;   // ... to the community
};

struct IncidentRow {
  std::string incident_id;
  std::string category_code, community_code, grid_code;
  std::uint64_t reports = 0;         // in the period
  std::set<std::string> channels;
};

/// Counts over the tickets created in the period (each ticket once, in its state at the end of it) and
/// over the intake records in it. Keys are the logged codes; "" means none (not placed, not classified).
struct ReportData {
  ReportOptions period;
  std::uint64_t intake_records = 0;
  std::uint64_t tickets = 0;
  std::uint64_t merged_reports = 0;
  std::uint64_t not_tickets = 0;
  std::uint64_t other_records = 0;   // record kinds this version does not count (none are written yet)
  std::map<std::string, ChannelCounts> by_channel;   // hotline, wechat, webform
  std::map<std::string, std::uint64_t> by_category;
  std::map<std::string, CommunityCounts> by_community;
  std::map<std::pair<std::string, std::string>, std::uint64_t> by_grid;   // (grid_code, community_code)
  std::map<std::string, std::uint64_t> by_tier;   // grid, community, county, center, ""
  std::vector<IncidentRow> incidents;   // with two reports or more in the period; most reports first
};

/// Reads the log read-only; memory is proportional to the tickets, not the log.
Result<ReportData> collect_report(const std::filesystem::path& db_file, const ReportOptions& options);

/// category_code -> category_name from a categories.csv (columns category_code, category_name).
Result<std::map<std::string, std::string>> load_category_names(const std::filesystem::path& file);

/// One section per table: a "# name" line, a header row, the rows, a blank line. RFC 4180 quoting.
std::string render_report_csv(const ReportData& data, const std::map<std::string, std::string>& category_names);
/// One self-contained HTML page: inline CSS, inline SVG bar charts, Chinese labels; no scripts and no
/// external resource of any kind.
std::string render_report_html(const ReportData& data, const std::map<std::string, std::string>& category_names);

/// The sentence shown where status-based measures will go.
inline constexpr const char* kNoStatusUpdates = "no status updates recorded yet";

}  // namespace gridhub::audit
