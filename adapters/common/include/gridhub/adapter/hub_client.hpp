#pragma once
/// Delivers an outbox to the hub: a window of events in flight on one DEALER, acks recorded in the
/// outbox in batches, and — when the hub stops answering — the socket is dropped and reopened and
/// everything unacknowledged is sent again after an exponential back-off (ZeroMQ Guide "Lazy Pirate").
/// Every connection (and every drain) begins with the restore handshake: Hello, and the hub's answer
/// makes pending again what its log no longer holds (Outbox::requeue_lost, docs/wire-protocol.md).

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include <zmq.hpp>

#include "gridhub/adapter/outbox.hpp"
#include "gridhub/transport/curve.hpp"
#include "gridhub/common/result.hpp"

namespace gridhub::adapter {

struct HubClientOptions {
  std::string endpoint;
  std::size_t window = 512;                           // events in flight at most
  std::chrono::milliseconds ack_timeout{3000};        // no answer for this long: reconnect and resend
  std::chrono::milliseconds backoff_initial{100};
  std::chrono::milliseconds backoff_max{5000};
  std::size_t max_frame_bytes = 1 << 20;
  /// Answered entries are kept this long (for the restore handshake), then purged.
  std::chrono::hours retention{24 * 7};
  /// CURVE (hub [security] mode "curve"): the hub's public key (Z85) and this adapter's key pair.
  /// Empty server_public_key: plain connection.
  std::string server_public_key;
  transport::CurveKeyPair curve_key;
};

struct SendStats {
  std::uint64_t sent = 0;            // frames sent, retries included
  std::uint64_t accepted = 0;        // stored as new log records
  std::uint64_t duplicates = 0;      // the hub had them already
  std::uint64_t dead_lettered = 0;   // adapter-side rejections now in the hub's dead letters
  std::map<std::string, std::uint64_t> refused;   // by nack code: the hub refused them for good
  std::uint64_t reconnects = 0;         // the hub stopped answering: socket reopened, unacked resent
  std::uint64_t unreachable_waits = 0;  // times the hub could not be reached at all (warned each time)
  std::uint64_t resent_after_restore = 0;   // acknowledged before, but the hub's log lost them: pending again
  std::uint64_t purged = 0;                 // answered entries older than the retention, deleted
};

struct AdapterCounters;

class HubClient {
 public:
  /// `counters` (optional) are updated live — sent, acked, hub duplicates, hub refusals — for
  /// /metrics while drain() runs; SendStats is the same story told once at the end.
  HubClient(zmq::context_t& zmq, Outbox& outbox, HubClientOptions options, AdapterCounters* counters = nullptr);
  ~HubClient();

  /// Sends until the outbox has nothing pending, or `keep_going` returns false. Errors are outbox
  /// (storage) failures only; an unreachable hub is retried, never an error.
  Result<SendStats> drain(const std::function<bool()>& keep_going);

 private:
  void reconnect();
  /// The restore handshake's Hello, once per connection; false while the hub cannot be reached.
  bool send_hello();

  zmq::context_t& zmq_;
  Outbox& outbox_;
  HubClientOptions options_;
  AdapterCounters* counters_;
  zmq::socket_t socket_;
  bool hello_needed_ = true;      // this connection has not sent its Hello yet
  bool hello_answered_ = false;   // ... nor had the answer
  std::string timeline_;          // the hub's current timeline, from its last answer
  std::chrono::steady_clock::time_point connected_at_;
  std::chrono::steady_clock::time_point last_purge_{};
};

}  // namespace gridhub::adapter
