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
constexpr int kFirstUnknownBody = 14;   // LogRecord's body fields from here on are later kinds

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

struct Tally {
  std::int64_t open = 0;
  std::int64_t breached = 0;
};

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
    // A kind added after this build (hotspots, …): listed as such, never fatal.
    ++other_count_;
    others_.push_back({seq, rec.ticket_id(), rec.recorded_at().unix_micros(), unknown_body_field(rec)});
    if (others_.size() > kOthersKept) others_.pop_front();
    return;
  }
  const v1::Ticket* t = log::record_ticket(rec);
  if (t == nullptr || t->ticket_id().empty()) return;   // no ticket (chit-chat) or an erasure of one not held
  if (!is_open(t->status())) {
    open_.erase(t->ticket_id());
    return;
  }
  OpenTicket& o = open_[t->ticket_id()];
  o.grid = t->grid_code();
  o.community = t->community_code();
  o.assignee = t->assignee_code();
  o.category = t->category_code();
  o.tier = t->tier();
  o.due_us = t->has_sla_due() ? t->sla_due().unix_micros() : 0;
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
  std::map<std::string_view, Tally> grids;
  std::map<std::string_view, Tally> communities;
  std::map<std::string_view, Tally> assignees;
  std::map<std::string_view, std::int64_t> tiers;
  std::int64_t breached = 0;
  std::vector<std::pair<std::int64_t, const std::pair<const std::string, OpenTicket>*>> upcoming;
  for (const auto& entry : open_) {
    const OpenTicket& t = entry.second;
    const bool late = t.due_us != 0 && t.due_us < now_us;
    breached += late ? 1 : 0;
    for (auto* m : {&grids, &communities, &assignees}) {
      const std::string& key = m == &grids ? t.grid : m == &communities ? t.community : t.assignee;
      Tally& c = (*m)[key];
      ++c.open;
      c.breached += late ? 1 : 0;
    }
    ++tiers[tier_key(t.tier)];
    if (t.due_us != 0 && !late) upcoming.emplace_back(t.due_us, &entry);
  }
  const std::size_t n = std::min(nearest, upcoming.size());
  std::partial_sort(upcoming.begin(), upcoming.begin() + static_cast<std::ptrdiff_t>(n), upcoming.end(),
                    [](const auto& a, const auto& b) { return a.first != b.first ? a.first < b.first : a.second->first < b.second->first; });

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
  for (const auto& [code, c] : grids) {
    if (!code.empty()) g[code] = json::array{c.open, c.breached};
  }
  out["grids"] = std::move(g);
  auto rows = [&](const std::map<std::string_view, Tally>& m, auto name) {
    std::vector<std::pair<std::string_view, Tally>> v(m.begin(), m.end());
    std::stable_sort(v.begin(), v.end(), [](const auto& a, const auto& b) { return a.second.open > b.second.open; });
    json::array a;
    for (const auto& [code, c] : v) {
      a.push_back(json::object{{"code", code}, {"name", code.empty() ? std::string("（未定）") : name(code)}, {"open", c.open},
                               {"breached", c.breached}});
    }
    return a;
  };
  out["communities"] = rows(communities, [&](std::string_view c) { return world_.community_name(c); });
  out["assignees"] = rows(assignees, [&](std::string_view c) { return world_.assignee_name(c); });
  json::object t;
  for (const auto& [tier, count] : tiers) t[tier] = count;
  out["tiers"] = std::move(t);
  json::array near;
  for (std::size_t i = 0; i < n; ++i) {
    const auto& [id, o] = *upcoming[i].second;
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
                   {"kind", it->body_field == kFirstUnknownBody ? "hotspot" : "unknown"}};
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
