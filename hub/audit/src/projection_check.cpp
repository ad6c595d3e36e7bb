#include "projection_check.hpp"

#include <algorithm>
#include <thread>
#include <vector>

#include <google/protobuf/arena.h>

#include <fmt/format.h>

#include "gridhub/log/event_log.hpp"

namespace gridhub::audit {

std::optional<std::size_t> TicketTrail::number_of(std::string_view id, std::uint64_t seq) {
  if (id.size() < 9 || id.size() > 20 || id[0] != 'T') return std::nullopt;
  if (id.size() > 9 && id[1] == '0') return std::nullopt;   // wider than eight digits only without padding
  std::uint64_t n = 0;
  for (std::size_t i = 1; i < id.size(); ++i) {
    if (id[i] < '0' || id[i] > '9') return std::nullopt;
    if (n > (UINT64_MAX - 9) / 10) return std::nullopt;
    n = n * 10 + static_cast<std::uint64_t>(id[i] - '0');
  }
  if (n == 0 || n > seq) return std::nullopt;
  return static_cast<std::size_t>(n);
}

std::string TicketTrail::id_for_number(std::size_t n) { return fmt::format("T{:08d}", n); }

TicketTrail::Span* TicketTrail::slot(std::string_view id, std::uint64_t seq, bool& fresh) {
  if (const auto n = number_of(id, seq)) {
    if (*n >= by_number_.size()) by_number_.resize(std::max(*n + 1, by_number_.size() * 2));
    top_ = std::max(top_, *n);
    Span& span = by_number_[*n];
    if (span.first == 0 && !other_.empty()) {
      // Named before the record its number says made it (not the hub's doing): already in the map.
      if (auto it = other_.find(std::string(id)); it != other_.end()) {
        fresh = false;
        return &it->second;
      }
    }
    fresh = span.first == 0;
    return &span;
  }
  auto [it, added] = other_.try_emplace(std::string(id));
  fresh = added;
  return &it->second;
}

template <class Trail>
auto TicketTrail::lookup(Trail& self, std::string_view id) -> decltype(&self.by_number_[0]) {
  if (const auto n = number_of(id, UINT64_MAX)) {
    if (*n < self.by_number_.size() && self.by_number_[*n].first != 0) return &self.by_number_[*n];
    // Not in the vector: it may have been seen before its number's record (in the map).
  }
  auto it = self.other_.find(std::string(id));
  return it == self.other_.end() ? nullptr : &it->second;
}

const TicketTrail::Span* TicketTrail::find(std::string_view id) const { return lookup(*this, id); }

const TicketTrail::Span* TicketTrail::find_in_projection(std::string_view id) {
  Span* span = lookup(*this, id);
  if (span != nullptr) span->in_projection = true;
  return span;
}

std::size_t TicketTrail::in_projection() const {
  std::size_t n = 0;
  for (const auto& span : by_number_) n += span.first != 0 && span.in_projection ? 1 : 0;
  for (const auto& [id, span] : other_) n += span.in_projection ? 1 : 0;
  return n;
}

std::string TicketTrail::middle_id() const {
  if (count_ < 2 || top_ < 2) return {};
  return id_for_number(top_ / 2 + 1);
}

std::string TicketTrail::see(std::uint64_t seq, const BodyFields& f) {
  if (f.ticket_id.empty()) return {};
  bool fresh = false;
  Span* span = slot(f.ticket_id, seq, fresh);
  if (fresh) {
    span->first = seq;
    ++count_;
  }
  const std::uint64_t previous = fresh ? 0 : span->last;
  span->last = seq;
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

/// Log records by seq for the projection check. Tickets come in id order, which is the order the log
/// made them (T + the seq of the first record), and most were last changed near where they were made:
/// the record wanted next is usually a few rows on, where stepping the cursor costs less than a lookup
/// from the table's root. Anything else is sought.
class RecordCursor {
 public:
  explicit RecordCursor(sqlite::Statement st) : st_(std::move(st)) {}

  /// Puts the cursor on record `seq`: true if there is one (then body() is its body).
  Result<bool> move_to(std::uint64_t seq) {
    if (on_row_ && row_seq_ <= seq && seq - row_seq_ <= kMaxSteps) {
      while (row_seq_ < seq) {
        auto more = next();
        if (!more) return more.error();
        if (!more.value()) return false;
      }
    } else {
      st_.reset();
      st_.bind(1, static_cast<std::int64_t>(seq));
      auto found = next();
      if (!found) return found.error();
      if (!found.value()) return false;
    }
    return row_seq_ == seq;
  }
  std::string_view body() const { return st_.column_blob(1); }

 private:
  static constexpr std::uint64_t kMaxSteps = 16;

  Result<bool> next() {
    auto row = st_.step();
    on_row_ = row.ok() && row.value();
    if (!row) return row.error();
    if (on_row_) row_seq_ = static_cast<std::uint64_t>(st_.column_int(0));
    return on_row_;
  }

  sqlite::Statement st_;
  bool on_row_ = false;
  std::uint64_t row_seq_ = 0;
};

VerifyReport& mismatch(VerifyReport& r, std::uint64_t seq, std::string detail) {
  r.problem = Problem::kProjectionMismatch;
  r.first_bad_seq = seq;
  r.detail = std::move(detail) + " (gridhubctl rebuild-projection recomputes it from the log, hub stopped)";
  return r;
}

}  // namespace

namespace {

/// The rows of `tickets` whose id is in [from, to) (an empty bound: open; a NULL id counts as below
/// any bound, as ORDER BY puts it first), in id order, against the trail; the first problem in `report`.
Status check_range(sqlite::Database& db, TicketTrail& trail, const std::string& from, const std::string& to,
                   VerifyReport& report) {
  std::string sql =
      "SELECT ticket_id, created_seq, last_seq, status, coalesce(category_code,''), coalesce(community_code,''),"
      " coalesce(grid_code,''), coalesce(tier,0), coalesce(assignee_code,''), body FROM tickets WHERE 1";
  if (!from.empty()) sql += " AND ticket_id >= ?1";
  if (!to.empty()) sql += " AND (ticket_id < ?2 OR ticket_id IS NULL)";
  sql += " ORDER BY ticket_id";
  auto rows = db.prepare(sql);
  if (!rows) return rows.error();
  if (!from.empty()) rows->bind(1, std::string_view(from));
  if (!to.empty()) rows->bind(2, std::string_view(to));
  auto records = db.prepare("SELECT seq, body FROM log WHERE seq >= ? ORDER BY seq");
  if (!records) return records.error();
  RecordCursor record(std::move(records.value()));
  auto& st = rows.value();
  // Each ticket's record is parsed into an arena reset per ticket: its initial block is reused, so a
  // parse allocates nothing and no message is cleared field by field.
  std::vector<char> arena_block(64 * 1024);
  google::protobuf::ArenaOptions arena_options;
  arena_options.initial_block = arena_block.data();
  arena_options.initial_block_size = arena_block.size();
  google::protobuf::Arena arena(arena_options);
  gridhub::v1::Ticket row;
  std::string encoded;
  for (;;) {
    auto step = st.step();
    if (!step) return step.error();
    if (!step.value()) break;
    const std::string id(st.column_text(0));
    const auto created = static_cast<std::uint64_t>(st.column_int(1));
    const auto last = static_cast<std::uint64_t>(st.column_int(2));
    const TicketTrail::Span* found_span = trail.find_in_projection(id);
    if (found_span == nullptr) {
      mismatch(report, last, fmt::format("the tickets table has {} (last changed by record {}, it says), which no log "
                                         "record made", id, last));
      return Ok{};
    }
    const auto& span = *found_span;
    if (last != span.last || created != span.first) {
      mismatch(report, span.last,
               fmt::format("the tickets row of {} says created by record {} and last changed by {}; the log says {} "
                           "and {}", id, created, last, span.first, span.last));
      return Ok{};
    }
    gridhub::v1::LogRecord* rec = nullptr;
    auto found = record.move_to(last);
    if (!found) return found.error();
    const bool parsed = found.value() && [&] {
      auto body = record.body();
      arena.Reset();
      rec = google::protobuf::Arena::CreateMessage<gridhub::v1::LogRecord>(&arena);
      return rec->ParseFromArray(body.data(), static_cast<int>(body.size()));
    }();
    const log::ProjectionStep derived = parsed ? log::projection_step(*rec) : log::ProjectionStep{};
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
  }
  return Ok{};
}

}  // namespace

Status check_projection(sqlite::Database& db, TicketTrail& trail, VerifyReport& report) {
  // Two halves of the table by ticket id, the upper on a second connection and thread: the check is a
  // parse per ticket, and a second core halves it. Rows are split by id alone, so every row is in one
  // half, and the lower half's first problem comes before any in the upper (the order of one pass).
  const std::string split = trail.middle_id();
  VerifyReport upper_report;
  Status upper = Ok{};
  std::thread second;
  if (!split.empty()) {
    second = std::thread([&] {
      auto conn = sqlite::Database::open(db.file(), sqlite::OpenMode::kReadOnly);
      if (!conn) {
        upper = conn.error();
        return;
      }
      if (auto s = conn->exec("PRAGMA query_only=1"); !s) {
        upper = s.error();
        return;
      }
      (void)conn->exec("PRAGMA mmap_size=17179869184");   // as verify's own connection
      upper = check_range(conn.value(), trail, split, "", upper_report);
    });
  }
  Status lower = check_range(db, trail, "", split, report);
  if (second.joinable()) second.join();
  if (!lower.ok()) return lower;
  if (!report.ok()) return Ok{};
  if (!upper.ok()) return upper;
  if (!upper_report.ok()) {
    // Its finding only: the rest of `report` is the walk's.
    report.problem = upper_report.problem;
    report.first_bad_seq = upper_report.first_bad_seq;
    report.detail = std::move(upper_report.detail);
    return Ok{};
  }
  if (trail.in_projection() != trail.size()) {
    // The missing ticket the log made first.
    std::string missing;
    TicketTrail::Span missing_span;
    trail.for_each([&](std::string_view id, const TicketTrail::Span& span) {
      if ((missing.empty() || span.first < missing_span.first) && !span.in_projection) {
        missing.assign(id);
        missing_span = span;
      }
    });
    if (!missing.empty()) {
      mismatch(report, missing_span.last,
               fmt::format("{} (made by record {}) is missing from the tickets table", missing, missing_span.first));
    }
  }
  return Ok{};
}

}  // namespace gridhub::audit
