#include "gridhub/wechat/replay_guard.hpp"

#include <charconv>

namespace gridhub::wechat {

ReplayGuard::ReplayGuard(std::int64_t window_s, std::size_t capacity) : window_s_(window_s), capacity_(capacity) {}

void ReplayGuard::erase(std::multimap<std::int64_t, std::string>::iterator it) {
  seen_.erase(it->second);
  by_time_.erase(it);
}

ReplayGuard::Verdict ReplayGuard::admit(std::string_view timestamp, std::string_view nonce, std::string_view body_digest,
                                        std::int64_t now_s) {
  std::int64_t ts = 0;
  const auto [end, ec] = std::from_chars(timestamp.data(), timestamp.data() + timestamp.size(), ts);
  if (timestamp.empty() || ec != std::errc{} || end != timestamp.data() + timestamp.size()) return Verdict::kStale;
  // Both directions: a clock ahead of ours is as suspect as one behind (and keeps entries bounded).
  if (ts < now_s - window_s_ || ts > now_s + window_s_) return Verdict::kStale;

  while (!by_time_.empty() && by_time_.begin()->first < now_s - window_s_) erase(by_time_.begin());

  std::string key;
  key.reserve(timestamp.size() + 1 + nonce.size());
  key.append(timestamp).append(1, '\n').append(nonce);
  if (const auto it = seen_.find(key); it != seen_.end()) {
    return it->second.body_digest == body_digest ? Verdict::kRetry : Verdict::kReplayed;
  }
  while (seen_.size() >= capacity_ && !by_time_.empty()) {
    erase(by_time_.begin());
    ++evicted_;
  }
  by_time_.emplace(ts, key);
  seen_.emplace(std::move(key), Seen{ts, std::string(body_digest)});
  return Verdict::kFresh;
}

void ReplayGuard::forget(std::string_view timestamp, std::string_view nonce) {
  std::string key;
  key.append(timestamp).append(1, '\n').append(nonce);
  const auto it = seen_.find(key);
  if (it == seen_.end()) return;
  const auto [lo, hi] = by_time_.equal_range(it->second.ts);
  for (auto t = lo; t != hi; ++t) {
    if (t->second == key) {
      erase(t);
      return;
    }
  }
  seen_.erase(it);
}

}  // namespace gridhub::wechat
