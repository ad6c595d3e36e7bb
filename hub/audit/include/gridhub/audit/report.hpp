#pragma once
/// `gridhubctl report`: the figures a county publishes, computed from the log alone (docs/audit.md):
/// tickets by channel, category, community, grid and routing tier, the share kept at grid and community
/// level ("small matters stay in the grid"), and reports merged per incident. CSV for re-use, or one
/// self-contained HTML page (inline CSS and SVG, no scripts, nothing fetched) for the county's website.
///
/// From the ticket-change records (ticket_update, escalation) it adds SLA compliance per tier and
/// category, returns and escalations per assignee, time to resolve (median, p90) and the share resolved
/// within the grid and within the community; docs/audit.md ("Report measures") defines each one.

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

/// SLA outcome of the tickets created in the period, as of the end of it (docs/audit.md).
struct SlaCounts {
  std::uint64_t tickets = 0;           // created in the period
  std::uint64_t no_sla = 0;            // never had a due time (manual dispatch, unassigned)
  std::uint64_t on_time = 0;           // resolved, never escalated, by the due time in force
  std::uint64_t late = 0;              // resolved after a breach (escalated, or past the due time)
  std::uint64_t open_overdue = 0;      // open and past its due time, or its clock stopped at the top tier
  std::uint64_t open_escalated = 0;    // open, escalated before, not past its current due time
  std::uint64_t decided() const { return on_time + late + open_overdue + open_escalated; }
};

/// Per assignee (department, community office, grid worker): from the change records in the period.
struct AssigneeCounts {
  std::uint64_t assigned = 0;      // times it was handed a ticket (intake routing or re-routing)
  std::uint64_t returns = 0;       // "not ours" returns it sent
  std::uint64_t escalations = 0;   // SLA breaches escalated away from it
};

/// Durations from created_at to resolved_at, in microseconds, sorted ascending.
struct ResolveTimes {
  std::vector<std::int64_t> micros;
  std::int64_t median() const;   // 0 when empty; nearest-rank
  std::int64_t p90() const;
};

/// Counts over the tickets created in the period (each ticket once, in its state at the end of it) and
/// over the intake records in it. Keys are the logged codes; "" means none (not placed, not classified).
struct ReportData {
  ReportOptions period;
  std::uint64_t intake_records = 0;
  std::uint64_t tickets = 0;
  std::uint64_t merged_reports = 0;
  std::uint64_t not_tickets = 0;
  std::uint64_t other_records = 0;   // records neither intake nor a ticket change counted here (erasures)
  std::map<std::string, ChannelCounts> by_channel;   // hotline, wechat, webform
  std::map<std::string, std::uint64_t> by_category;
  std::map<std::string, CommunityCounts> by_community;
  std::map<std::pair<std::string, std::string>, std::uint64_t> by_grid;   // (grid_code, community_code)
  std::map<std::string, std::uint64_t> by_tier;   // grid, community, county, center, ""
  std::vector<IncidentRow> incidents;   // with two reports or more in the period; most reports first

  // Lifecycle measures (tickets created in the period, their state at its end).
  std::int64_t as_of_micros = 0;                        // --until, else the last record's time
  std::uint64_t resolved = 0;
  std::uint64_t resolved_within_grid = 0;               // resolved, every tier it ever had was grid
  std::uint64_t resolved_within_community = 0;          // resolved, every tier it had was grid or community
  SlaCounts sla;                                        // all tickets
  std::map<std::string, SlaCounts> sla_by_tier;         // by tier at the end of the period
  std::map<std::string, SlaCounts> sla_by_category;
  std::map<std::string, AssigneeCounts> by_assignee;    // "" = not known (change to a ticket from before)
  std::uint64_t returns = 0, escalations = 0;           // change records in the period
  ResolveTimes resolve_all;
  std::map<std::string, ResolveTimes> resolve_by_tier;  // by tier at resolution
};

/// Reads the log read-only; memory is proportional to the tickets, not the log.
Result<ReportData> collect_report(const std::filesystem::path& db_file, const ReportOptions& options);

/// category_code -> category_name from the county's categories.csv, read by the one loader the router
/// and the SLA policy use (gridhub/categories): a file the hub refuses is refused here too.
Result<std::map<std::string, std::string>> load_category_names(const std::filesystem::path& file);

/// One section per table: a "# name" line, a header row, the rows, a blank line. RFC 4180 quoting.
std::string render_report_csv(const ReportData& data, const std::map<std::string, std::string>& category_names);
/// One self-contained HTML page: inline CSS, inline SVG bar charts, Chinese labels; no scripts and no
/// external resource of any kind.
std::string render_report_html(const ReportData& data, const std::map<std::string, std::string>& category_names);

}  // namespace gridhub::audit
