#pragma once
/// `gridhubctl train --from-log DB`: labels read from what happened to the tickets in a hub's log, so
/// the departments' corrections teach the next model (docs/routing_knowledge.md, "Learning from
/// corrections").
///
/// Per ticket, in log order, the reports that made it (the record that opened it and every report
/// merged into it) get one label:
///   corrected  a RETURN ("not ours") that names the desk it belongs to (`suggested_assignee`), or a
///              ticket that was returned and then resolved by another county department: that
///              department's category. A department that handles several categories names the one
///              among them the classifier ranked highest on the ticket (its logged suggestions); with
///              none of them ranked, the correction is ambiguous and left out.
///   confirmed  resolved by the desk it was routed to, never returned: its category stands.
/// The latest correction wins. Open tickets, tickets the centre resolved by hand and abstained tickets
/// nobody corrected give no label. The wire has no re-categorise or re-dispatch action: these two
/// signals are what the log records of a correction.

#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

#include "gridhub/categories/categories.hpp"
#include "gridhub/common/result.hpp"
#include "gridhub/v1/event.pb.h"

namespace gridhub::dryrun {

struct LogLabel {
  v1::Event event;          // the report as the log holds it
  std::string category;     // the label
  bool corrected = false;   // from a correction (else confirmed by its resolution)
  std::uint64_t seq = 0;    // the intake record
};

struct LogLabels {
  std::vector<LogLabel> labels;   // in log order
  std::size_t intake = 0;         // intake records read
  std::size_t tickets = 0;        // tickets opened
  std::size_t confirmed = 0;      // tickets confirmed by their resolution
  std::size_t corrected = 0;      // tickets whose category a correction changed
  std::size_t ambiguous = 0;      // corrections naming a desk of several categories, none ranked
};

/// Reads the log read-only (beside a running hub is fine). `categories` maps departments to the
/// categories they handle.
Result<LogLabels> labels_from_log(const std::filesystem::path& db_file, const categories::CategoryTable& categories);

}  // namespace gridhub::dryrun
