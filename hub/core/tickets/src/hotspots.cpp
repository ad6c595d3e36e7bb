#include "gridhub/core/hotspots.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <vector>

namespace gridhub::core {

namespace v1 = gridhub::v1;

namespace {

constexpr std::int64_t kMicrosPerHour = 3600LL * 1000000LL;
constexpr std::int64_t kMaxTickets = 100000;
constexpr std::int64_t kMaxHours = 24 * 366;

const char* tier_word(v1::Tier t) {
  switch (t) {
    case v1::TIER_GRID: return "grid";
    case v1::TIER_COMMUNITY: return "community";
    case v1::TIER_COUNTY: return "county";
    case v1::TIER_CENTER: return "center";
    default: return "none";
  }
}

std::string key_of(const std::string& category, const std::string& kind, const std::string& code) {
  return category + "|" + kind + ":" + code;
}

bool closed(v1::TicketStatus s) { return s == v1::TICKET_STATUS_RESOLVED || s == v1::TICKET_STATUS_CLOSED; }

/// A new, non-merged ticket made by an intake record (what hotspots count); null otherwise.
const v1::Ticket* counted_ticket(const v1::LogRecord& rec) {
  if (!rec.has_intake_accepted() || rec.intake_accepted().disposition() != v1::DISPOSITION_NEW_TICKET) return nullptr;
  const v1::Ticket* t = log::record_ticket(rec);
  if (t == nullptr || t->hotspot() || t->category_code().empty() || rec.ticket_id().empty()) return nullptr;
  return t;
}

std::optional<HotspotThreshold> parse_threshold(std::string_view text) {
  if (text == "off") return HotspotThreshold{};
  const auto slash = text.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  auto number = [](std::string_view s, std::int64_t max) -> std::optional<std::uint32_t> {
    std::int64_t v = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc{} || end != s.data() + s.size() || v < 1 || v > max) return std::nullopt;
    return static_cast<std::uint32_t>(v);
  };
  auto n = number(text.substr(0, slash), kMaxTickets);
  auto h = number(text.substr(slash + 1), kMaxHours);
  if (!n || !h || *n < 2) return std::nullopt;
  return HotspotThreshold{*n, *h};
}

}  // namespace

const HotspotThreshold& HotspotSettings::threshold(const std::string& category) const {
  auto it = categories.find(category);
  return it != categories.end() ? it->second : defaults;
}

config::Spec HotspotSettings::spec() {
  using config::Type;
  return {
      {"hotspots.tickets", Type::kInteger, false, "tickets of one category in one place that make a hotspot (default 5)"},
      {"hotspots.hours", Type::kInteger, false, "... within this many hours of each other (default 24)"},
      {"hotspots.categories", Type::kStringMap, false, "per category code: \"N/T\" (N tickets within T hours) or \"off\""},
  };
}

HotspotSettings HotspotSettings::from_config(const config::Config& cfg) {
  HotspotSettings s;
  s.defaults.tickets = static_cast<std::uint32_t>(cfg.get_int("hotspots.tickets", 5, 2, kMaxTickets));
  s.defaults.hours = static_cast<std::uint32_t>(cfg.get_int("hotspots.hours", 24, 1, kMaxHours));
  for (const auto& [code, text] : cfg.get_string_map("hotspots.categories")) {
    auto t = parse_threshold(text);
    if (!t) {
      throw config::ConfigError(fmt::format("{}: category {}: '{}' is neither \"N/T\" (N >= 2 tickets within T hours, "
                                            "e.g. \"3/12\") nor \"off\"",
                                            cfg.where("hotspots.categories"), code, text));
    }
    s.categories.emplace(code, *t);
  }
  return s;
}

HotspotRule::HotspotRule(HotspotSettings settings, const LifecyclePolicy& policy)
    : settings_(std::move(settings)), policy_(policy) {}

std::optional<HotspotRule::Where> HotspotRule::place_of(const v1::Ticket& t) {
  if (t.location().out_of_area()) return std::nullopt;
  if (!t.grid_code().empty()) return Where{"grid", t.grid_code()};
  if (!t.location().road().empty()) return Where{"road", t.community_code() + "/" + t.location().road()};
  return std::nullopt;
}

HotspotRule::Place& HotspotRule::touch(const std::string& key) {
  auto it = places_.find(key);
  if (!undo_.contains(key)) undo_.emplace(key, it == places_.end() ? std::nullopt : std::optional<Place>(it->second));
  return it != places_.end() ? it->second : places_[key];
}

Result<bool> HotspotRule::follow(const v1::LogRecord& made, const LoadTicket& load, v1::LogRecord& next) {
  const v1::Ticket* t = counted_ticket(made);
  if (t == nullptr) return false;
  const HotspotThreshold& th = settings_.threshold(t->category_code());
  if (!th.on()) return false;
  const auto where = place_of(*t);
  if (!where) return false;
  const std::int64_t at = made.recorded_at().unix_micros();
  const std::int64_t window = static_cast<std::int64_t>(th.hours) * kMicrosPerHour;
  const std::int64_t now = next.recorded_at().unix_micros();
  const std::string& category = t->category_code();
  Place& p = touch(key_of(category, where->kind, where->code));

  auto* hs = next.mutable_hotspot();
  hs->set_category_code(category);
  hs->set_place_kind(where->kind);
  hs->set_place_code(where->code);
  hs->set_threshold_tickets(th.tickets);
  hs->set_window_hours(th.hours);

  if (!p.hotspot_id.empty() && at - p.hotspot_last < window) {
    auto h = load(p.hotspot_id);
    if (!h) return h.error();
    if (!h->mismatch.empty()) spdlog::error("hotspots: {}; {} does not join it", h->mismatch, made.ticket_id());
    if (!h->ticket.ticket_id().empty() && h->mismatch.empty() && !closed(h->ticket.status())) {
      v1::Ticket incident = std::move(h->ticket);
      incident.add_linked_ticket_ids(made.ticket_id());
      next.set_ticket_id(p.hotspot_id);
      next.set_prior_seq(h->seq);
      hs->set_action(v1::HOTSPOT_ACTION_JOINED);
      hs->add_linked_ticket_ids(made.ticket_id());
      auto* d = hs->add_decisions();
      d->set_stage("hotspot");
      d->set_plugin("gridhub");
      d->set_rule("hotspot.join");
      d->set_detail(fmt::format("{} (category {}, {} {}) came within {} hours of the last ticket of open hotspot {}: "
                                "joins it ({} tickets now)",
                                made.ticket_id(), category, where->kind, where->code, th.hours, p.hotspot_id,
                                incident.linked_ticket_ids_size()));
      *hs->mutable_ticket() = std::move(incident);
      p.hotspot_last = at;
      ++batch_joined_;
      return true;
    }
  }
  // No open hotspot here (none yet, its window ran out, or it was resolved): the ticket counts anew.
  p.hotspot_id.clear();
  while (!p.recent.empty() && at - p.recent.front().at >= window) p.recent.pop_front();
  p.recent.push_back(Member{at, made.ticket_id()});
  if (p.recent.size() < th.tickets) {
    next.clear_hotspot();
    return false;
  }

  const std::string id = log::ticket_id_for_seq(next.seq());
  v1::Ticket incident;
  incident.set_ticket_id(id);
  incident.set_incident_id(id);
  incident.set_hotspot(true);
  incident.set_category_code(category);
  incident.set_community_code(t->community_code());
  incident.set_grid_code(t->grid_code());
  if (where->kind == "road") incident.mutable_location()->set_road(t->location().road());
  incident.set_text(fmt::format("hotspot: {} tickets of category {} in {} {} within {} hours", p.recent.size(), category,
                                where->kind, where->code, th.hours));
  incident.mutable_reported_at()->set_unix_micros(p.recent.front().at);
  incident.mutable_created_at()->set_unix_micros(now);
  std::string ids;
  for (const auto& m : p.recent) {
    incident.add_linked_ticket_ids(m.ticket_id);
    hs->add_linked_ticket_ids(m.ticket_id);
    ids += ids.empty() ? m.ticket_id : ", " + m.ticket_id;
  }

  auto* rule = hs->add_decisions();
  rule->set_stage("hotspot");
  rule->set_plugin("gridhub");
  const bool own = settings_.categories.contains(category);
  rule->set_rule(own ? "hotspot.category_threshold" : "hotspot.default_threshold");
  rule->set_detail(fmt::format("{} tickets of category {} in {} {} within {} hours reach the threshold of {} ({}): {}",
                               p.recent.size(), category, where->kind, where->code, th.hours, th.tickets,
                               own ? fmt::format("hotspots.categories.{}", category) : std::string("hotspots.tickets/hours"),
                               ids));

  // One tier up from the linked tickets', by the rule escalations use (LifecyclePolicy::next_tier).
  auto* route = hs->add_decisions();
  route->set_stage("router");
  route->set_plugin("gridhub");
  std::int64_t due = 0;
  if (auto up = policy_.next_tier(*t, now)) {
    incident.set_tier(up->tier);
    incident.set_assignee_code(up->assignee);
    due = up->due_us;
    route->set_rule(fmt::format("hotspot.{}_to_{}", tier_word(t->tier()), tier_word(up->tier)));
    route->set_detail(fmt::format("one tier up from the linked tickets' {} {}: {} {} (as {})", tier_word(t->tier()),
                                  t->assignee_code(), tier_word(up->tier), up->assignee, up->rule));
  } else {
    incident.set_tier(t->tier());
    incident.set_assignee_code(t->assignee_code());
    if (t->tier() != v1::TIER_CENTER) due = policy_.due(incident, t->tier(), now);
    route->set_rule(fmt::format("hotspot.{}_top", tier_word(t->tier())));
    route->set_detail(fmt::format("the linked tickets are at {} {}, with no tier above: the incident stays there",
                                  tier_word(t->tier()), t->assignee_code()));
  }
  if (!incident.assignee_code().empty()) {
    incident.set_status(v1::TICKET_STATUS_ASSIGNED);
    incident.add_assignee_history(incident.assignee_code());
    incident.mutable_assigned_at()->set_unix_micros(now);
  } else {
    incident.set_status(v1::TICKET_STATUS_NEW);
  }
  if (due > 0) incident.mutable_sla_due()->set_unix_micros(due);

  next.set_ticket_id(id);
  hs->set_action(v1::HOTSPOT_ACTION_OPENED);
  *hs->mutable_ticket() = std::move(incident);
  p.recent.clear();
  p.hotspot_id = id;
  p.hotspot_last = at;
  ++batch_opened_;
  return true;
}

void HotspotRule::stored() {
  undo_.clear();
  opened_.fetch_add(batch_opened_, std::memory_order_relaxed);
  joined_.fetch_add(batch_joined_, std::memory_order_relaxed);
  batch_opened_ = batch_joined_ = 0;
}

void HotspotRule::dropped() {
  for (auto& [key, was] : undo_) {
    if (was) {
      places_[key] = std::move(*was);
    } else {
      places_.erase(key);
    }
  }
  undo_.clear();
  batch_opened_ = batch_joined_ = 0;
}

void HotspotRule::settle_pending() {
  if (!pending_) return;
  // The ticket came while its place had a hotspot, and no JOINED record followed: the hotspot was
  // closed, and the ticket counted anew (as follow() decided it).
  auto& [key, member] = *pending_;
  Place& p = places_[key];
  p.hotspot_id.clear();
  p.recent.push_back(std::move(member));
  pending_.reset();
}

void HotspotRule::remember(const v1::LogRecord& rec) {
  if (rec.has_hotspot()) {
    const auto& h = rec.hotspot();
    const std::string key = key_of(h.category_code(), h.place_kind(), h.place_code());
    if (pending_ && pending_->first != key) settle_pending();   // a record follows only its own ticket's
    Place& p = places_[key];
    if (h.action() == v1::HOTSPOT_ACTION_OPENED) p.recent.clear();
    p.hotspot_id = rec.ticket_id();
    // The hotspot's last ticket is the record before this one: the same time on a live hub.
    p.hotspot_last = pending_ ? pending_->second.at : rec.recorded_at().unix_micros();
    pending_.reset();
    return;
  }
  settle_pending();
  const v1::Ticket* t = counted_ticket(rec);
  if (t == nullptr) return;
  const HotspotThreshold& th = settings_.threshold(t->category_code());
  if (!th.on()) return;
  const auto where = place_of(*t);
  if (!where) return;
  const std::int64_t at = rec.recorded_at().unix_micros();
  const std::int64_t window = static_cast<std::int64_t>(th.hours) * kMicrosPerHour;
  const std::string key = key_of(t->category_code(), where->kind, where->code);
  Place& p = places_[key];
  while (!p.recent.empty() && at - p.recent.front().at >= window) p.recent.pop_front();
  if (!p.hotspot_id.empty() && at - p.hotspot_last < window) {
    pending_.emplace(key, Member{at, rec.ticket_id()});
    return;
  }
  p.hotspot_id.clear();
  p.recent.push_back(Member{at, rec.ticket_id()});
  // Had it reached the threshold, the next record is the OPENED hotspot, which takes them.
}

Result<std::uint64_t> HotspotRule::recall(log::LogReader& reader) {
  auto head = reader.head_seq();
  if (!head) return head.error();
  if (head.value() == 0) return std::uint64_t{0};
  std::int64_t head_at = 0;
  v1::LogRecord rec;
  auto last = reader.read(head.value(), 1, [&](std::uint64_t, std::string_view body) {
    if (rec.ParseFromArray(body.data(), static_cast<int>(body.size()))) head_at = rec.recorded_at().unix_micros();
  });
  if (!last) return last.error();
  std::uint32_t hours = settings_.defaults.hours;
  for (const auto& [code, th] : settings_.categories) hours = std::max(hours, th.hours);
  auto from = reader.seq_at_time(head_at - static_cast<std::int64_t>(hours) * kMicrosPerHour);
  if (!from) return from.error();
  constexpr std::size_t kChunk = 1024;
  std::uint64_t read = 0;
  bool bad = false;
  std::uint64_t bad_seq = 0;
  for (std::uint64_t seq = from.value(); seq <= head.value() && !bad;) {
    auto n = reader.read(seq, kChunk, [&](std::uint64_t s, std::string_view body) {
      if (bad) return;
      if (!rec.ParseFromArray(body.data(), static_cast<int>(body.size()))) {
        bad = true;
        bad_seq = s;
        return;
      }
      remember(rec);
      ++read;
    });
    if (!n) return n.error();
    if (n.value() == 0) break;
    seq += n.value();
  }
  if (bad) return Error(Errc::storage_failed, fmt::format("hotspot recall: log record {} does not parse", bad_seq));
  settle_pending();
  return read;
}

}  // namespace gridhub::core
