#include "gridhub/core/progress_lookup.hpp"

#include <spdlog/spdlog.h>

#include "gridhub/common/public_reference.hpp"

namespace gridhub::core {

namespace v1 = gridhub::v1;

namespace {

/// How many records one read asks for while catching up.
constexpr std::size_t kChunk = 4096;

std::string digits_of(std::string_view s) {
  std::string out;
  for (const char c : s) {
    if (c >= '0' && c <= '9') out += c;
  }
  return out;
}

/// The words a resident reads for a department's report back.
std::string_view note_action(v1::UpdateAction a) {
  switch (a) {
    case v1::UPDATE_ACTION_ACCEPT: return "受理";
    case v1::UPDATE_ACTION_RESOLVE: return "办结";
    default: return "说明";
  }
}

}  // namespace

std::string_view public_status_text(v1::TicketStatus status) {
  switch (status) {
    case v1::TICKET_STATUS_NEW: return "已受理";
    case v1::TICKET_STATUS_ASSIGNED: return "已派发";
    case v1::TICKET_STATUS_ACCEPTED: return "处理中";
    case v1::TICKET_STATUS_RESOLVED: return "已办结";
    case v1::TICKET_STATUS_RETURNED: return "已退回";
    case v1::TICKET_STATUS_CLOSED: return "已关闭";
    case v1::TICKET_STATUS_UNSPECIFIED:
    case v1::TicketStatus_INT_MIN_SENTINEL_DO_NOT_USE_:
    case v1::TicketStatus_INT_MAX_SENTINEL_DO_NOT_USE_:
      break;
  }
  return "已受理";
}

ProgressLookup::ProgressLookup(log::LogReader reader, const Clock& clock, LookupOptions options)
    : reader_(std::move(reader)), clock_(clock), options_(options) {}

Status ProgressLookup::catch_up() {
  auto head = reader_.head_seq();
  if (!head) return head.error();
  while (indexed_through_ < head.value()) {
    auto n = reader_.read(indexed_through_ + 1, kChunk, [this](std::uint64_t seq, std::string_view body) {
      index(seq, body);
      indexed_through_ = seq;
    });
    if (!n) return n.error();
    if (n.value() == 0) break;
  }
  return Ok{};
}

void ProgressLookup::index(std::uint64_t seq, std::string_view body) {
  if (!scratch_.ParseFromArray(body.data(), static_cast<int>(body.size()))) return;   // verify reports it
  if (scratch_.ticket_id().empty()) return;
  if (scratch_.has_intake_accepted()) {
    const auto& ev = scratch_.intake_accepted().event();
    by_reference_.emplace(public_reference(ev.channel(), ev.source_key()), Report{scratch_.ticket_id(), seq});
  } else if (scratch_.has_ticket_update()) {
    const auto& u = scratch_.ticket_update();
    const bool public_note = u.action() == v1::UPDATE_ACTION_RESOLVE ||
                             (u.action() == v1::UPDATE_ACTION_ACCEPT && !u.text().empty());
    if (public_note) notes_[scratch_.ticket_id()].push_back(seq);
  }
}

bool ProgressLookup::locked(const std::unordered_map<std::string, Failures>& table, const std::string& key,
                            std::uint32_t max, std::int64_t now_s) const {
  const auto it = table.find(key);
  return it != table.end() && now_s - it->second.window_start_s < options_.window_s && it->second.count >= max;
}

void ProgressLookup::fail(std::unordered_map<std::string, Failures>& table, const std::string& key, std::int64_t now_s) {
  if (table.size() >= options_.max_tracked && !table.contains(key)) {
    std::erase_if(table, [&](const auto& e) { return now_s - e.second.window_start_s >= options_.window_s; });
    if (table.size() >= options_.max_tracked) table.erase(table.begin());
  }
  Failures& f = table[key];
  if (now_s - f.window_start_s >= options_.window_s) f = Failures{now_s, 0};
  ++f.count;
}

bool ProgressLookup::reporter_matches(std::uint64_t seq, const v1::LookupRequest& request) {
  v1::LogRecord record;
  bool parsed = false;
  auto n = reader_.read(seq, 1, [&](std::uint64_t, std::string_view body) {
    parsed = record.ParseFromArray(body.data(), static_cast<int>(body.size()));
  });
  if (!n || !parsed || !record.has_intake_accepted()) {
    ++counters_.read_errors;
    return false;
  }
  // Only this record's event is opened: the personal fields stay in this function.
  v1::ExtractedFields fields = std::move(*record.mutable_intake_accepted()->mutable_event()->mutable_fields());
  if (auto st = reader_.unseal(fields); !st) {
    ++counters_.read_errors;
    spdlog::error("lookup: record {}: {}", seq, st.error().message());
    return false;
  }
  if (!request.wechat_openid().empty()) {
    return fields.sender_id() == request.wechat_openid();   // "[erased]" matches no OpenID
  }
  const std::string typed = digits_of(request.phone_last4());
  const std::string phone = digits_of(fields.reporter_phone());
  return typed.size() == 4 && phone.size() >= 4 && phone.ends_with(typed);
}

bool ProgressLookup::fill_progress(const std::string& reference, const Report& report, v1::PublicProgress& out) {
  auto t = reader_.ticket(report.ticket_id);
  if (!t || t->ticket_id().empty()) {
    ++counters_.read_errors;
    return false;
  }
  const v1::Ticket& ticket = t.value();
  out.set_reference(reference);
  out.set_status(ticket.status());
  out.set_status_text(std::string(public_status_text(ticket.status())));
  out.set_tier(ticket.tier());
  out.set_handled_by(ticket.assignee_code());
  out.set_category_code(ticket.category_code());
  if (ticket.has_reported_at()) {
    *out.mutable_reported_at() = ticket.reported_at();
  } else if (ticket.has_created_at()) {
    *out.mutable_reported_at() = ticket.created_at();
  }
  if (auto it = notes_.find(report.ticket_id); it != notes_.end()) {
    for (const std::uint64_t seq : it->second) {
      (void)reader_.read(seq, 1, [&](std::uint64_t, std::string_view body) {
        v1::LogRecord r;
        if (!r.ParseFromArray(body.data(), static_cast<int>(body.size())) || !r.has_ticket_update()) return;
        auto* note = out.add_notes();
        *note->mutable_at() = r.recorded_at();
        note->set_action(std::string(note_action(r.ticket_update().action())));
        note->set_text(r.ticket_update().text());
      });
    }
  }
  // The time the ticket last changed: its version is the seq of that record.
  (void)reader_.read(ticket.version(), 1, [&](std::uint64_t, std::string_view body) {
    v1::LogRecord r;
    if (r.ParseFromArray(body.data(), static_cast<int>(body.size()))) *out.mutable_updated_at() = r.recorded_at();
  });
  return true;
}

v1::LookupReply ProgressLookup::lookup(const v1::LookupRequest& request) {
  v1::LookupReply reply;
  reply.set_correlation_id(request.correlation_id());
  const std::int64_t now_s = clock_.now_micros() / 1000000;
  const auto canonical = parse_public_reference(request.reference());
  // A typo is keyed as typed (bounded), so it counts against its requester like any other miss.
  const std::string ref_key = canonical ? *canonical : request.reference().substr(0, 64);
  const std::string& requester = request.requester();
  if (locked(by_reference_failures_, ref_key, options_.max_failures_per_reference, now_s) ||
      (!requester.empty() && locked(by_requester_failures_, requester, options_.max_failures_per_requester, now_s))) {
    ++counters_.throttled;
    return reply;
  }
  if (canonical) {
    if (auto st = catch_up(); !st) {
      ++counters_.read_errors;
      spdlog::error("lookup: reading the log: {}", st.error().message());
      return reply;
    }
    // Two reports may share a reference (10^11 of them); the reporter's digits tell them apart.
    auto [first, last] = by_reference_.equal_range(*canonical);
    for (auto it = first; it != last; ++it) {
      if (!reporter_matches(it->second.intake_seq, request)) continue;
      if (!fill_progress(*canonical, it->second, *reply.mutable_progress())) return reply;
      reply.set_found(true);
      ++counters_.found;
      return reply;
    }
  }
  ++counters_.not_found;
  fail(by_reference_failures_, ref_key, now_s);
  if (!requester.empty()) fail(by_requester_failures_, requester, now_s);
  return reply;
}

}  // namespace gridhub::core
