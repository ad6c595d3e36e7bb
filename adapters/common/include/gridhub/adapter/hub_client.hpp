#pragma once
/// Delivers an outbox to the hub: a window of events in flight on one DEALER, acks recorded in the
/// outbox in batches, and — when the hub stops answering — the socket is dropped and reopened and
/// everything unacknowledged is sent again after an exponential back-off (ZeroMQ Guide "Lazy Pirate").

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include <zmq.hpp>

#include "gridhub/adapter/outbox.hpp"
#include "gridhub/auth/curve.hpp"
#include "gridhub/common/result.hpp"

namespace gridhub::adapter {

struct HubClientOptions {
  std::string endpoint;
  std::size_t window = 512;                           // events in flight at most
  std::chrono::milliseconds ack_timeout{3000};        // no answer for this long: reconnect and resend
  std::chrono::milliseconds backoff_initial{100};
  std::chrono::milliseconds backoff_max{5000};
  std::size_t max_frame_bytes = 1 << 20;
  /// CURVE (hub [security] mode "curve"): the hub's public key (Z85) and this adapter's key pair.
  /// Empty server_public_key: plain connection.
  std::string server_public_key;
  auth::CurveKeyPair curve_key;
};

struct SendStats {
  std::uint64_t sent = 0;            // frames sent, retries included
  std::uint64_t accepted = 0;        // stored as new log records
  std::uint64_t duplicates = 0;      // the hub had them already
  std::uint64_t dead_lettered = 0;   // adapter-side rejections now in the hub's dead letters
  std::map<std::string, std::uint64_t> refused;   // by nack code: the hub refused them for good
  std::uint64_t reconnects = 0;         // the hub stopped answering: socket reopened, unacked resent
  std::uint64_t unreachable_waits = 0;  // times the hub could not be reached at all (warned each time)
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

  zmq::context_t& zmq_;
  Outbox& outbox_;
  HubClientOptions options_;
  AdapterCounters* counters_;
  zmq::socket_t socket_;
};

}  // namespace gridhub::adapter
