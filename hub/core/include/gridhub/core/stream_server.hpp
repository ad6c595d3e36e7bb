#pragma once
/// The stream endpoint: subscribers' DEALERs ask for records from a seq on, with credit; the hub sends
/// them from the log, so catch-up and live delivery are one mechanism and a slow or absent subscriber
/// costs a cursor, never a queue. Commits wake the pump.
///
/// Config keys ([stream]): endpoints, max_credit, session_timeout_ms (see hub_config.hpp).

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <unordered_map>
#include <vector>

#include "gridhub/log/event_log.hpp"
#include "gridhub/transport/asio_zmq.hpp"
#include "gridhub/transport/frames.hpp"
#include "gridhub/v1/wire.pb.h"

namespace gridhub::core {

struct StreamOptions {
  std::vector<std::string> endpoints;
  std::uint32_t max_credit = 1000;                 // credit a session may hold
  std::chrono::milliseconds session_timeout{30000};  // silence after which a session is dropped
  std::size_t max_frame_bytes = 64 * 1024;
};

struct StreamCounters {
  std::uint64_t sessions_opened = 0;
  std::uint64_t sessions_expired = 0;
  std::uint64_t delivered = 0;
  std::uint64_t bad_requests = 0;
};

class StreamServer {
 public:
  StreamServer(boost::asio::io_context& io, zmq::context_t& zmq, log::LogReader reader, StreamOptions options);

  const std::vector<std::string>& bound_endpoints() const { return bound_; }
  void start();
  void stop();
  /// The log head moved: wake sessions that were caught up.
  void on_commit(std::uint64_t head);

  const StreamCounters& counters() const { return counters_; }
  std::size_t sessions() const { return sessions_.size(); }

 private:
  struct Session {
    std::uint64_t next_seq = 1;
    std::uint32_t credit = 0;
    std::chrono::steady_clock::time_point last_heard;
  };
  void on_readable();
  void pump();
  void schedule_pump();
  void expire();

  boost::asio::io_context& io_;
  StreamOptions options_;
  std::vector<std::string> bound_;   // before socket_: filled while the socket is made
  transport::AsioZmqSocket socket_;
  log::LogReader reader_;
  boost::asio::steady_timer expiry_timer_;
  std::unordered_map<std::string, Session> sessions_;
  std::uint64_t head_ = 0;
  bool pump_posted_ = false;
  bool stopped_ = false;
  StreamCounters counters_;
  std::string scratch_;
  gridhub::v1::SubscriberToHub in_;
  gridhub::v1::HubToSubscriber out_;
};

}  // namespace gridhub::core
