#include "gridhub/wechat/location_pairing.hpp"

#include <algorithm>

#include "gridhub/common/time_math.hpp"

namespace gridhub::wechat {

bool LocationPairer::feed(gridhub::v1::Event& event) {
  auto* f = event.mutable_fields();
  if (f->has_reported_at()) newest_us_ = std::max(newest_us_, f->reported_at().unix_micros());
  if (++fed_ % kSweepEvery == 0) {
    std::erase_if(last_location_, [&](const auto& kv) { return abs_diff_micros(newest_us_, kv.second.at_us) > static_cast<std::uint64_t>(window_us_); });
  }
  if (f->sender_id().empty() || event.has_rejection()) return false;
  const std::int64_t at = f->has_reported_at() ? f->reported_at().unix_micros() : 0;
  if (f->message_kind() == "location" && f->has_location()) {
    last_location_[f->sender_id()] = Pending{at, f->location(), event.source_key()};
    return false;
  }
  if (f->message_kind() != "text") return false;
  auto it = last_location_.find(f->sender_id());
  if (it == last_location_.end()) return false;
  const Pending p = it->second;
  last_location_.erase(it);   // one location serves one report
  // Times come from the export: the difference is taken exactly, whatever the int64 holds.
  if (at < p.at_us || abs_diff_micros(at, p.at_us) > static_cast<std::uint64_t>(window_us_) || f->has_location()) return false;
  *f->mutable_location() = p.point;
  (*f->mutable_extra())["location_msg"] = p.source_key;
  return true;
}

}  // namespace gridhub::wechat
