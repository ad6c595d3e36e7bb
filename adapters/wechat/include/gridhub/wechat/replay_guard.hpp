#pragma once
/// Refuses replayed WeChat callback requests. A plaintext `signature` covers token, timestamp and
/// nonce but not the body, so a logged query string plus any body passes the signature check; the
/// guard closes that: a `timestamp` more than `window_s` from now is stale, and a (timestamp,
/// nonce) seen before with a different body is a replay. The same (timestamp, nonce) with the same
/// body is WeChat retrying one request, which the outbox answers as already known.
///
/// Memory is bounded: entries leave once their timestamp is outside the window (such requests are
/// refused as stale anyway), and beyond `capacity` the oldest are evicted (counted by the caller;
/// an evicted pair could be replayed until its timestamp goes stale). In memory only: after a
/// restart, a request captured within the last window could be replayed once.
/// Not thread-safe: the callback endpoint uses it on the io thread.

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>

namespace gridhub::wechat {

class ReplayGuard {
 public:
  enum class Verdict {
    kFresh,      // never seen: admitted and remembered
    kRetry,      // seen with the same body: admitted (a retry of one request)
    kStale,      // timestamp missing, not unix seconds, or outside the window
    kReplayed,   // seen with another body
  };

  ReplayGuard(std::int64_t window_s, std::size_t capacity);

  /// Checks one signed request at `now_s` (unix seconds) and remembers it when fresh.
  Verdict admit(std::string_view timestamp, std::string_view nonce, std::string_view body_digest, std::int64_t now_s);
  /// Forgets a request admitted as fresh that was not stored after all, so the sender's retry is not
  /// mistaken for a replay.
  void forget(std::string_view timestamp, std::string_view nonce);

  std::size_t size() const { return seen_.size(); }
  std::uint64_t evicted() const { return evicted_; }
  std::int64_t window_s() const { return window_s_; }

 private:
  struct Seen {
    std::int64_t ts;
    std::string body_digest;
  };
  void erase(std::multimap<std::int64_t, std::string>::iterator it);

  std::int64_t window_s_;
  std::size_t capacity_;
  std::unordered_map<std::string, Seen> seen_;              // "timestamp\nnonce" -> what was seen
  std::multimap<std::int64_t, std::string> by_time_;       // timestamp -> key, to expire oldest first
  std::uint64_t evicted_ = 0;
};

}  // namespace gridhub::wechat
