#pragma once
/// The subscriber side of the stream protocol (docs/wire-protocol.md): subscribe, grant credit as
/// records are consumed, keep the session alive, acknowledge cumulatively, re-subscribe when the hub
/// has forgotten the session. `gridhubctl tail`, `gridhubctl subscribe` and `gridhub-ops` are all
/// this loop.

#include <atomic>
#include <cstdint>
#include <functional>

#include <string>

#include <zmq.hpp>

#include "gridhub/v1/wire.pb.h"

namespace gridhub::stream {

struct StreamClientOptions {
  std::string endpoint;
  /// The first Subscribe sent (name, filter, start point); credit is taken from `window`.
  gridhub::v1::Subscribe subscribe;
  std::uint32_t window = 512;        // credit kept open
  bool acknowledge = false;          // send cumulative Acknowledge for handled records
  std::uint32_t ack_every = 64;      // ... every this many records, and whenever the stream goes idle
  std::uint64_t max = 0;             // stop after the handler counted this many records (0: never)
  int idle_exit_ms = 0;              // stop when nothing arrived for this long (0: never)
  const std::atomic<bool>* stop = nullptr;   // set by a signal handler: ack what was handled and stop
  std::function<void(zmq::socket_t&)> configure;   // before connecting (CURVE keys)
  /// Each time the hub opens the session (also after it restarted): who it says we are, the log head.
  std::function<void(const gridhub::v1::Subscribed&)> on_subscribed;
  std::string program = "gridhubctl";   // how the loop's messages on stderr name the process
};

/// Called once per record, in seq order, never twice in one run for the same seq (a redelivery of
/// a seq already handled is acknowledged and dropped). Returns whether the record counts toward `max`.
using RecordHandler = std::function<bool(const gridhub::v1::Delivery&)>;

/// Runs the stream until max, idle, stop or a refusal. Exit code: 0 done, 1 refused by the hub.
int run_stream(const StreamClientOptions& options, const RecordHandler& handle);

}  // namespace gridhub::stream
