#include "gridhub/ops/picture.hpp"

#include <algorithm>
#include <map>
#include <vector>

#include <boost/json.hpp>
#include <google/protobuf/unknown_field_set.h>
#include <spdlog/spdlog.h>

#include "gridhub/log/event_log.hpp"
#include "gridhub/v1/log.pb.h"

namespace gridhub::ops {

namespace v1 = gridhub::v1;

namespace {

constexpr std::size_t kOthersKept = 20;
constexpr int kHotspotBody = 14;        // LogRecord.hotspot: listed on the page as well as counted
constexpr int kFirstUnknownBody = 15;   // LogRecord's body fields from here on are later kinds

bool is_open(v1::TicketStatus s) {
  return s == v1::TICKET_STATUS_NEW || s == v1::TICKET_STATUS_ASSIGNED || s == v1::TICKET_STATUS_ACCEPTED ||
         s == v1::TICKET_STATUS_RETURNED;
}

const char* tier_key(int tier) {
  switch (tier) {
    case v1::TIER_GRID: return "grid";
    case v1::TIER_COMMUNITY: return "community";
    case v1::TIER_COUNTY: return "county";
    case v1::TIER_CENTER: return "center";
    default: return "unspecified";
  }
}

/// The body field number of a record whose body this build does not know (0: none found).
int unknown_body_field(const v1::LogRecord& rec) {
  const auto& unknown = rec.GetReflection()->GetUnknownFields(rec);
  for (int i = 0; i < unknown.field_count(); ++i) {
    if (unknown.field(i).number() >= kFirstUnknownBody) return unknown.field(i).number();
  }
  return 0;
}

}  // namespace

void Picture::apply(std::uint64_t seq, std::string_view record) {
  last_seq_ = std::max(last_seq_, seq);
  head_seq_ = std::max(head_seq_, seq);
  ++version_;
  v1::LogRecord rec;
  if (!rec.ParseFromArray(record.data(), static_cast<int>(record.size()))) {
    ++unreadable_;
    spdlog::warn("ops: log record {} does not parse; the page skips it", seq);
    return;
  }
  if (rec.body_case() == v1::LogRecord::BODY_NOT_SET) {
    // A kind added after this build: listed as such, never fatal.
    ++other_count_;
    others_.push_back({seq, rec.ticket_id(), rec.recorded_at().unix_micros(), unknown_body_field(rec)});
    if (others_.size() > kOthersKept) others_.pop_front();
    return;
  }
  if (rec.body_case() == v1::LogRecord::kHotspot) {
    // Listed as a hotspot; its incident ticket is then counted like any other open ticket.
    ++other_count_;
    others_.push_back({seq, rec.ticket_id(), rec.recorded_at().unix_micros(), kHotspotBody});
    if (others_.size() > kOthersKept) others_.pop_front();
  }
  const v1::Ticket* t = log::record_ticket(rec);
  if (t == nullptr || t->ticket_id().empty()) return;   // no ticket (chit-chat) or an erasure of one not held
  auto it = open_.find(t->ticket_id());
  if (it != open_.end()) count(it->first, it->second, -1);
  if (!is_open(t->status())) {
    if (it != open_.end()) open_.erase(it);
    return;
  }
  if (it == open_.end()) it = open_.emplace(t->ticket_id(), OpenTicket{}).first;
  OpenTicket& o = it->second;
  o.grid = t->grid_code();
  o.community = t->community_code();
  o.assignee = t->assignee_code();
  o.category = t->category_code();
  o.tier = t->tier();
  o.due_us = t->has_sla_due() ? t->sla_due().unix_micros() : 0;
  count(it->first, o, +1);
}

void Picture::count(const std::string& id, const OpenTicket& t, int sign) {
  auto add = [sign](auto& m, const auto& key) {
    auto& n = m[key];
    n += sign;
    if (n == 0) m.erase(key);
  };
  add(by_grid_, t.grid);
  add(by_community_, t.community);
  add(by_assignee_, t.assignee);
  add(by_tier_, t.tier);
  if (t.due_us == 0) return;
  if (sign > 0) {
    by_due_.emplace(t.due_us, id);
  } else {
    by_due_.erase({t.due_us, id});
  }
}

std::string Picture::save_state() const {
  namespace json = boost::json;
  json::array tickets;
  tickets.reserve(open_.size());
  for (const auto& [id, t] : open_) {
    tickets.push_back(json::array{json::string(id), json::string(t.grid), json::string(t.community), json::string(t.assignee),
                                  json::string(t.category), t.tier, t.due_us});
  }
  json::array others;
  for (const auto& o : others_) others.push_back(json::array{o.seq, json::string(o.ticket_id), o.recorded_at_us, o.body_field});
  return json::serialize(json::object{{"format", "gridhub-ops state 1"},
                                      {"seq", last_seq_},
                                      {"other_count", other_count_},
                                      {"unreadable", unreadable_},
                                      {"tickets", std::move(tickets)},
                                      {"others", std::move(others)}});
}

void Picture::clear() {
  open_.clear();
  others_.clear();
  by_grid_.clear();
  by_community_.clear();
  by_assignee_.clear();
  by_tier_.clear();
  by_due_.clear();
  last_seq_ = other_count_ = unreadable_ = 0;
  ++version_;
}

Status Picture::restore_state(std::string_view text) {
  namespace json = boost::json;
  clear();
  try {
    const json::object state = json::parse(text).as_object();
    if (state.at("format").as_string() != "gridhub-ops state 1") return Error(Errc::bad_value, "format: not \"gridhub-ops state 1\"");
    for (const auto& v : state.at("tickets").as_array()) {
      const auto& a = v.as_array();
      const std::string id(a.at(0).as_string());
      OpenTicket t{std::string(a.at(1).as_string()), std::string(a.at(2).as_string()), std::string(a.at(3).as_string()),
                   std::string(a.at(4).as_string()), static_cast<int>(a.at(5).to_number<std::int64_t>()),
                   a.at(6).to_number<std::int64_t>()};
      auto [it, fresh] = open_.emplace(id, std::move(t));
      if (!fresh) throw std::invalid_argument("ticket " + id + " appears twice");
      count(it->first, it->second, +1);
    }
    for (const auto& v : state.at("others").as_array()) {
      const auto& a = v.as_array();
      others_.push_back({a.at(0).to_number<std::uint64_t>(), std::string(a.at(1).as_string()), a.at(2).to_number<std::int64_t>(),
                         static_cast<int>(a.at(3).to_number<std::int64_t>())});
    }
    other_count_ = state.at("other_count").to_number<std::uint64_t>();
    unreadable_ = state.at("unreadable").to_number<std::uint64_t>();
    last_seq_ = state.at("seq").to_number<std::uint64_t>();
    head_seq_ = std::max(head_seq_, last_seq_);
  } catch (const std::exception& e) {
    clear();
    return Error(Errc::bad_value, e.what());
  }
  return Ok{};
}

void Picture::note_head(std::uint64_t head) {
  if (head > head_seq_) {
    head_seq_ = head;
    ++version_;
  }
}

void Picture::note_dead_letters(std::uint64_t count) {
  if (dead_letters_ != count) {
    dead_letters_ = count;
    ++version_;
  }
}

void Picture::note_connected(bool connected) {
  if (connected_ != connected) {
    connected_ = connected;
    ++version_;
  }
}

std::string Picture::summary_json(std::int64_t now_us, std::size_t nearest) const {
  // Breached: the running clocks due before now, a prefix of the deadline index.
  std::unordered_map<std::string_view, std::int64_t> late_grid, late_community, late_assignee;
  const auto first_running = by_due_.lower_bound({now_us, std::string()});
  std::int64_t breached = 0;
  for (auto it = by_due_.begin(); it != first_running; ++it) {
    const OpenTicket& t = open_.at(it->second);
    ++breached;
    ++late_grid[t.grid];
    ++late_community[t.community];
    ++late_assignee[t.assignee];
  }
  auto late = [](const auto& m, std::string_view key) -> std::int64_t {
    auto it = m.find(key);
    return it == m.end() ? 0 : it->second;
  };

  namespace json = boost::json;
  json::object out;
  out["now_us"] = now_us;
  out["seq"] = last_seq_;
  out["head"] = head_seq_;
  out["lag"] = head_seq_ > last_seq_ ? head_seq_ - last_seq_ : 0;
  out["connected"] = connected_;
  out["dead_letters"] = dead_letters_ ? json::value(*dead_letters_) : json::value(nullptr);
  out["unreadable"] = unreadable_;
  out["open"] = static_cast<std::int64_t>(open_.size());
  out["breached"] = breached;
  json::object g;
  std::vector<std::pair<std::string_view, std::int64_t>> grids(by_grid_.begin(), by_grid_.end());
  std::sort(grids.begin(), grids.end());   // the same picture gives the same summary, byte for byte
  for (const auto& [code, n] : grids) {
    if (!code.empty()) g[code] = json::array{n, late(late_grid, code)};
  }
  out["grids"] = std::move(g);
  auto rows = [&](const std::unordered_map<std::string, std::int64_t>& m, const auto& lates, auto name) {
    std::vector<std::pair<std::string_view, std::int64_t>> v(m.begin(), m.end());
    std::sort(v.begin(), v.end(), [](const auto& a, const auto& b) { return a.second != b.second ? a.second > b.second : a.first < b.first; });
    json::array a;
    for (const auto& [code, n] : v) {
      a.push_back(json::object{{"code", code}, {"name", code.empty() ? std::string("（未定）") : name(code)}, {"open", n},
                               {"breached", late(lates, code)}});
    }
    return a;
  };
  out["communities"] = rows(by_community_, late_community, [&](std::string_view c) { return world_.community_name(c); });
  out["assignees"] = rows(by_assignee_, late_assignee, [&](std::string_view c) { return world_.assignee_name(c); });
  json::object t;
  for (const auto& [tier, n] : by_tier_) t[tier_key(tier)] = n;
  out["tiers"] = std::move(t);
  json::array near;
  auto next = first_running;
  for (std::size_t i = 0; i < nearest && next != by_due_.end(); ++i, ++next) {
    const std::string& id = next->second;
    const OpenTicket& o = open_.at(id);
    near.push_back(json::object{{"id", id},
                                {"category", world_.category_name(o.category)},
                                {"grid", world_.grid_name(o.grid)},
                                {"community", world_.community_name(o.community)},
                                {"assignee", world_.assignee_name(o.assignee)},
                                {"tier", tier_key(o.tier)},
                                {"due_us", o.due_us}});
  }
  out["nearest"] = std::move(near);
  json::array others;
  for (auto it = others_.rbegin(); it != others_.rend(); ++it) {
    json::object o{{"seq", it->seq}, {"ticket_id", it->ticket_id}, {"recorded_at_us", it->recorded_at_us},
                   {"kind", it->body_field == kHotspotBody ? "hotspot" : "unknown"}};
    if (auto f = open_.find(it->ticket_id); f != open_.end()) {
      o["grid"] = world_.grid_name(f->second.grid);
      o["category"] = world_.category_name(f->second.category);
    }
    others.push_back(std::move(o));
  }
  out["hotspots"] = std::move(others);
  out["other_records"] = other_count_;
  return json::serialize(out);
}

}  // namespace gridhub::ops
