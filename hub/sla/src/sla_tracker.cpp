#include "gridhub/sla/sla_tracker.hpp"

namespace gridhub::sla {

bool clock_runs(v1::TicketStatus status) noexcept {
  switch (status) {
    case v1::TICKET_STATUS_ASSIGNED:
    case v1::TICKET_STATUS_ACCEPTED:
    case v1::TICKET_STATUS_RETURNED:
      return true;
    case v1::TICKET_STATUS_UNSPECIFIED:
    case v1::TICKET_STATUS_NEW:
    case v1::TICKET_STATUS_RESOLVED:
    case v1::TICKET_STATUS_CLOSED:
    case v1::TicketStatus_INT_MIN_SENTINEL_DO_NOT_USE_:
    case v1::TicketStatus_INT_MAX_SENTINEL_DO_NOT_USE_:
      return false;
  }
  return false;
}

void SlaTracker::disarm(const std::string& id, const Entry& e) {
  if (!e.fired) order_.erase({e.due, id});
}

void SlaTracker::observe(const v1::Ticket& t) {
  observe(t.ticket_id(), t.status(), t.has_sla_due() ? t.sla_due().unix_micros() : 0, t.version(), t.tier());
}

void SlaTracker::observe(const std::string& id, v1::TicketStatus status, std::int64_t due, std::uint64_t version,
                         v1::Tier tier) {
  if (id.empty()) return;
  auto it = by_ticket_.find(id);
  if (it != by_ticket_.end()) {
    // Same version: the clock (armed or already fired) stands. Older: a stale snapshot.
    if (version <= it->second.version) return;
    disarm(id, it->second);
    by_ticket_.erase(it);
  }
  if (due == 0 || !clock_runs(status)) return;
  by_ticket_.emplace(id, Entry{due, version, false, tier});
  order_.emplace(due, id);
}

void SlaTracker::rebuild(const std::vector<v1::Ticket>& tickets) {
  by_ticket_.clear();
  order_.clear();
  for (const auto& t : tickets) observe(t);
}

std::vector<DueClock> SlaTracker::due_at_or_before(std::int64_t now) {
  std::vector<DueClock> out;
  while (!order_.empty() && order_.begin()->first <= now) {
    auto node = order_.extract(order_.begin());
    auto& [due, id] = node.value();
    Entry& e = by_ticket_.at(id);
    e.fired = true;
    out.push_back(DueClock{std::move(id), due, e.version});
  }
  return out;
}

std::optional<std::int64_t> SlaTracker::next_due() const {
  if (order_.empty()) return std::nullopt;
  return order_.begin()->first;
}

std::map<v1::Tier, SlaTracker::TierClocks> SlaTracker::by_tier() const {
  std::map<v1::Tier, TierClocks> out;
  for (const auto& [id, e] : by_ticket_) {
    auto& t = out[e.tier];
    (e.fired ? t.breached : t.running) += 1;
  }
  return out;
}

std::size_t SlaTracker::fired() const noexcept {
  std::size_t n = 0;
  for (const auto& [id, e] : by_ticket_) n += e.fired ? 1 : 0;
  return n;
}

}  // namespace gridhub::sla
