#include "gridhub/dryrun/log_labels.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <optional>
#include <unordered_map>

#include "gridhub/log/event_log.hpp"
#include "gridhub/sqlite/sqlite.hpp"
#include "gridhub/v1/log.pb.h"

namespace gridhub::dryrun {

namespace v1 = gridhub::v1;

namespace {

struct TicketTrail {
  std::vector<std::size_t> reports;   // indices into the report list
  std::string logged;                 // the category the pipeline gave it ("" when it abstained)
  std::vector<std::string> ranked;    // the classifier's suggestions as logged, best first
  std::string label;
  bool corrected = false;
  bool resolved = false;
  bool returned = false;
};

/// The category a desk's answer names: the department's only category, or the one of its categories
/// the classifier ranked highest (the logged category first, then its suggestions).
std::optional<std::string> category_of_desk(const std::string& desk, const TicketTrail& t,
                                            const std::multimap<std::string, std::string>& by_dept, bool& ambiguous) {
  ambiguous = false;
  auto [lo, hi] = by_dept.equal_range(desk);
  if (lo == hi) return std::nullopt;   // not a county department: a grid or community desk says nothing of the category
  if (std::next(lo) == hi) return lo->second;
  std::vector<std::string> ranked;
  if (!t.logged.empty()) ranked.push_back(t.logged);
  ranked.insert(ranked.end(), t.ranked.begin(), t.ranked.end());
  for (const auto& c : ranked) {
    for (auto it = lo; it != hi; ++it) {
      if (it->second == c) return c;
    }
  }
  ambiguous = true;
  return std::nullopt;
}

}  // namespace

Result<LogLabels> labels_from_log(const std::filesystem::path& db_file, const categories::CategoryTable& categories) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(db_file, ec)) return Error(Errc::io_failed, fmt::format("{}: no such file", db_file.string()));
  auto db = sqlite::Database::open(db_file, sqlite::OpenMode::kReadOnly);
  if (!db) return db.error();
  if (auto s = db->exec("PRAGMA query_only=1"); !s) return s.error();
  auto rows = db->prepare("SELECT seq, body FROM log ORDER BY seq");
  if (!rows) return rows.error();

  std::multimap<std::string, std::string> by_dept;
  for (const auto& [code, c] : categories) by_dept.emplace(c.county_dept, code);

  LogLabels out;
  std::vector<std::pair<std::uint64_t, v1::Event>> reports;
  std::unordered_map<std::string, TicketTrail> trails;
  std::vector<std::string> order;   // tickets in opening order, for a deterministic output
  v1::LogRecord rec;
  auto& st = rows.value();
  for (;;) {
    auto row = st.step();
    if (!row) return row.error();
    if (!row.value()) break;
    const auto seq = static_cast<std::uint64_t>(st.column_int(0));
    const auto body = st.column_blob(1);
    if (!rec.ParseFromArray(body.data(), static_cast<int>(body.size()))) {
      return Error(Errc::bad_value, fmt::format("{}: log record {}: body is not a LogRecord", db_file.string(), seq));
    }
    if (rec.has_intake_accepted()) {
      const auto& in = rec.intake_accepted();
      ++out.intake;
      if (in.disposition() != v1::DISPOSITION_NEW_TICKET && in.disposition() != v1::DISPOSITION_MERGED) continue;
      // The record's ticket: the one it opened, or the incident's it joined.
      const std::string id = !rec.ticket_id().empty() ? rec.ticket_id() : log::ticket_id_for_seq(seq);
      auto [it, opened] = trails.try_emplace(id);
      if (opened) {
        ++out.tickets;
        order.push_back(id);
        it->second.logged = in.ticket().category_code();
        for (const auto& s : in.ticket().suggestions()) it->second.ranked.push_back(s.category_code());
      }
      it->second.reports.push_back(reports.size());
      reports.emplace_back(seq, in.event());
      continue;
    }
    if (!rec.has_ticket_update()) continue;
    const auto& u = rec.ticket_update();
    auto it = trails.find(rec.ticket_id());
    if (it == trails.end()) continue;   // a ticket opened before this log's first record
    TicketTrail& t = it->second;
    bool ambiguous = false;
    if (u.action() == v1::UPDATE_ACTION_RETURN) {
      t.returned = true;
      if (u.suggested_assignee().empty()) continue;
      if (auto c = category_of_desk(u.suggested_assignee(), t, by_dept, ambiguous)) {
        t.label = *c;
        t.corrected = *c != t.logged;
      }
      out.ambiguous += ambiguous ? 1 : 0;
    } else if (u.action() == v1::UPDATE_ACTION_RESOLVE) {
      t.resolved = true;
      if (!t.returned) continue;
      // Returned, then resolved elsewhere: the desk that did the work says what it was.
      if (auto c = category_of_desk(u.ticket().assignee_code(), t, by_dept, ambiguous)) {
        t.label = *c;
        t.corrected = *c != t.logged;
      }
      out.ambiguous += ambiguous ? 1 : 0;
    }
  }

  for (const auto& id : order) {
    TicketTrail& t = trails[id];
    if (t.label.empty() && t.resolved && !t.returned && !t.logged.empty()) t.label = t.logged;   // confirmed
    if (t.label.empty()) continue;
    (t.corrected ? out.corrected : out.confirmed)++;
    for (std::size_t r : t.reports) out.labels.push_back({reports[r].second, t.label, t.corrected, reports[r].first});
  }
  std::sort(out.labels.begin(), out.labels.end(), [](const LogLabel& a, const LogLabel& b) { return a.seq < b.seq; });
  return out;
}

}  // namespace gridhub::dryrun
