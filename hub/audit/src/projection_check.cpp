#include "projection_check.hpp"

#include <algorithm>
#include <unordered_set>

#include <fmt/format.h>

#include "gridhub/log/event_log.hpp"

namespace gridhub::audit {

std::string TicketTrail::see(std::uint64_t seq, const BodyFields& f) {
  if (f.ticket_id.empty()) return {};
  auto [it, fresh] = tickets_.try_emplace(std::string(f.ticket_id), Span{seq, seq});
  const std::uint64_t previous = fresh ? 0 : it->second.last;
  it->second.last = seq;
  // prior_seq 0: a record that creates its ticket, or one written before the field existed.
  if (f.prior_seq == 0 || f.prior_seq == previous) return {};
  if (previous == 0) {
    return fmt::format("record {} changes {} as of record {}, but {} has no earlier record", seq, f.ticket_id,
                       f.prior_seq, f.ticket_id);
  }
  return fmt::format("record {} changes {} as of record {}, but {}'s previous record is {}: the change was decided "
                     "on a stale or altered state",
                     seq, f.ticket_id, f.prior_seq, f.ticket_id, previous);
}

namespace {

VerifyReport& mismatch(VerifyReport& r, std::uint64_t seq, std::string detail) {
  r.problem = Problem::kProjectionMismatch;
  r.first_bad_seq = seq;
  r.detail = std::move(detail) + " (gridhubctl rebuild-projection recomputes it from the log, hub stopped)";
  return r;
}

}  // namespace

Status check_projection(sqlite::Database& db, const TicketTrail& trail, VerifyReport& report) {
  auto rows = db.prepare(
      "SELECT ticket_id, created_seq, last_seq, status, coalesce(category_code,''), coalesce(community_code,''),"
      " coalesce(grid_code,''), coalesce(tier,0), coalesce(assignee_code,''), body FROM tickets ORDER BY ticket_id");
  if (!rows) return rows.error();
  auto record = db.prepare("SELECT body FROM log WHERE seq = ?");
  if (!record) return record.error();
  auto& st = rows.value();
  std::unordered_set<std::string> seen;
  gridhub::v1::LogRecord rec;
  gridhub::v1::Ticket row;
  std::string encoded;
  for (;;) {
    auto step = st.step();
    if (!step) return step.error();
    if (!step.value()) break;
    const std::string id(st.column_text(0));
    const auto created = static_cast<std::uint64_t>(st.column_int(1));
    const auto last = static_cast<std::uint64_t>(st.column_int(2));
    auto it = trail.tickets().find(id);
    if (it == trail.tickets().end()) {
      mismatch(report, last, fmt::format("the tickets table has {} (last changed by record {}, it says), which no log "
                                         "record made", id, last));
      return Ok{};
    }
    const auto& span = it->second;
    if (last != span.last || created != span.first) {
      mismatch(report, span.last,
               fmt::format("the tickets row of {} says created by record {} and last changed by {}; the log says {} "
                           "and {}", id, created, last, span.first, span.last));
      return Ok{};
    }
    record->bind(1, static_cast<std::int64_t>(last));
    auto found = record->step();
    if (!found) {
      record->reset();
      return found.error();
    }
    const bool parsed = found.value() && [&] {
      auto body = record->column_blob(0);
      return rec.ParseFromArray(body.data(), static_cast<int>(body.size()));
    }();
    record->reset();
    const log::ProjectionStep derived = parsed ? log::projection_step(rec) : log::ProjectionStep{};
    if (derived.ticket == nullptr) {
      mismatch(report, last, fmt::format("log record {}, {}'s last change, leaves no ticket state", last, id));
      return Ok{};
    }
    const auto& t = *derived.ticket;
    const char* column = nullptr;
    const auto body = st.column_blob(9);
    if (st.column_int(3) != t.status()) {
      column = "status";
    } else if (st.column_text(4) != t.category_code()) {
      column = "category_code";
    } else if (st.column_text(5) != t.community_code()) {
      column = "community_code";
    } else if (st.column_text(6) != t.grid_code()) {
      column = "grid_code";
    } else if (st.column_int(7) != t.tier()) {
      column = "tier";
    } else if (st.column_text(8) != t.assignee_code()) {
      column = "assignee_code";
    } else if (!log::projection_body_holds(body, t, encoded, row)) {
      column = "body";
    }
    if (column != nullptr) {
      mismatch(report, last,
               fmt::format("the tickets row of {} disagrees with log record {} (column {}): the projection was "
                           "changed outside the hub", id, last, column));
      return Ok{};
    }
    seen.insert(id);
  }
  if (seen.size() != trail.tickets().size()) {
    // The missing ticket the log made first.
    const std::pair<const std::string, TicketTrail::Span>* missing = nullptr;
    for (const auto& entry : trail.tickets()) {
      if (!seen.contains(entry.first) && (missing == nullptr || entry.second.first < missing->second.first)) missing = &entry;
    }
    if (missing != nullptr) {
      mismatch(report, missing->second.last,
               fmt::format("{} (made by record {}) is missing from the tickets table", missing->first,
                           missing->second.first));
    }
  }
  return Ok{};
}

}  // namespace gridhub::audit
