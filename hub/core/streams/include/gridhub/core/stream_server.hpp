#pragma once
/// The stream endpoint: departments, community offices, grid workers and auditors subscribe (DEALER ->
/// ROUTER) with a filter and a start point; the hub sends the records they are entitled to from the log,
/// with credit-based flow control, so catch-up and live delivery are one mechanism and a slow or absent
/// subscriber costs a cursor, never a queue. Named subscriptions acknowledge; their cursors are kept in
/// the log database and what is not acknowledged in time is sent again. Subscribers also report back on
/// tickets here (accept, note, resolve, return, extend), through the hub's single writer.
///
/// Config keys ([stream]): endpoints, max_credit, session_timeout_ms, ack_timeout_ms (see hub_config.hpp).

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "gridhub/core/gatekeeper.hpp"
#include "gridhub/core/lifecycle.hpp"
#include "gridhub/core/log_writer.hpp"
#include "gridhub/log/event_log.hpp"
#include "gridhub/transport/asio_zmq.hpp"
#include "gridhub/transport/frames.hpp"
#include "gridhub/v1/wire.pb.h"

namespace gridhub::core {

class RecordCache;

/// The ticket fields subscribers' filters read (the record cache parses these and the gatekeeper's).
std::span<const std::string_view> filter_fields();

struct StreamOptions {
  std::vector<std::string> endpoints;
  std::uint32_t max_credit = 1000;                   // credit a session may hold
  std::uint32_t max_batch = 256;                     // records per Deliveries message (subscribers that ask)
  std::size_t max_batch_bytes = 256 * 1024;          // ... and bytes: a batch is sent once it passes this
  std::chrono::milliseconds session_timeout{30000};  // silence after which a session is dropped
  std::chrono::milliseconds ack_timeout{30000};      // named subscriptions: unacknowledged this long -> sent again
  std::size_t max_frame_bytes = 64 * 1024;
};

struct StreamCounters {
  std::uint64_t sessions_opened = 0;
  std::uint64_t sessions_expired = 0;
  std::uint64_t delivered = 0;
  std::uint64_t batches = 0;           // Deliveries messages sent (each holding several records)
  std::uint64_t batches_shared = 0;    // ... of which the bytes of one built for another session (no copy)
  std::uint64_t frames_encoded = 0;    // Delivery frames encoded: once per record and visibility class
  std::uint64_t redelivered = 0;
  std::uint64_t filtered = 0;          // records a session skipped (its filter or its entitlement)
  std::uint64_t bad_requests = 0;
  std::uint64_t denied = 0;            // peers or requests refused by access control
  std::uint64_t acks = 0;
  std::uint64_t updates_ok = 0;
  std::uint64_t updates_refused = 0;
  std::uint64_t cursor_writes = 0;
};

class StreamServer {
 public:
  /// `gatekeeper`, `policy` (may be null: no SLA rules) and `security` (null: none; else its CURVE
  /// server settings are applied before binding) must outlive the server.
  StreamServer(boost::asio::io_context& io, zmq::context_t& zmq, log::LogReader reader, StreamOptions options,
               const Gatekeeper& gatekeeper, const LifecyclePolicy* policy, WriteFn write,
               const auth::Security* security = nullptr);
  ~StreamServer();

  const std::vector<std::string>& bound_endpoints() const { return bound_; }
  void start();
  void stop();
  /// The log head moved: wake sessions that were caught up.
  void on_commit(std::uint64_t head);

  const StreamCounters& counters() const { return counters_; }
  std::size_t sessions() const { return sessions_.size(); }
  /// Records parsed and held for fan-out (bounded).
  std::size_t cached_records() const;

 private:
  struct Session {
    std::shared_ptr<const Principal> who;
    std::string name;                 // durable subscription name; empty: ephemeral
    gridhub::v1::Filter filter;
    std::uint64_t next_seq = 1;       // next record to consider
    std::uint64_t acked = 0;          // named: cumulative acknowledgement
    std::uint64_t high_sent = 0;      // highest seq ever sent in this session (redelivery marker)
    std::deque<std::pair<std::uint64_t, std::chrono::steady_clock::time_point>> inflight;  // named: sent, unacked
    std::chrono::steady_clock::time_point last_progress;  // named: the last acknowledgement that moved `acked`
    std::uint32_t credit = 0;
    std::uint32_t max_batch = 1;      // records per message this session takes
    bool unreachable = false;         // a send found the peer gone: nothing more is sent, but its last
                                      // acknowledgements (already on their way) still count until expiry
    std::chrono::steady_clock::time_point last_heard;
  };
  struct Cursor {
    std::string identity;
    std::uint64_t acked = 0;      // as the sessions know it
    std::uint64_t written = 0;    // as the database has it (or is about to)
    bool writing = false;
  };

  void on_readable();
  void subscribe(const std::string& peer, const transport::RouterMessage& msg);
  void acknowledge(const std::string& peer, std::uint64_t through);
  void update(const std::string& peer, const transport::RouterMessage& msg);
  void reply(const std::string& peer);
  void deny(const std::string& peer, std::string reason);
  void persist_cursor(const std::string& name);
  void pump();
  void schedule_pump();
  void expire();

  boost::asio::io_context& io_;
  StreamOptions options_;
  const Gatekeeper& gatekeeper_;
  const LifecyclePolicy* policy_;
  WriteFn write_;
  std::vector<std::string> bound_;   // before socket_: filled while the socket is made
  transport::AsioZmqSocket socket_;
  log::LogReader reader_;
  std::unique_ptr<RecordCache> cache_;
  boost::asio::steady_timer expiry_timer_;
  std::unordered_map<std::string, Session> sessions_;        // by routing id
  std::unordered_map<std::string, Cursor> cursors_;          // by subscription name
  std::unordered_map<std::string, std::string> owner_;       // subscription name -> routing id of its session
  std::uint64_t head_ = 0;
  bool pump_posted_ = false;
  bool stopped_ = false;
  StreamCounters counters_;
  std::string scratch_;
  // A Deliveries message sent in this pump, for sessions that would send the same bytes.
  struct SharedBatch {
    bool pii = false;                        // the visibility class: personal fields opened, or masked
    std::vector<std::uint64_t> seqs;         // the records in it, in order
    std::vector<std::size_t> ends;           // where each record's frame ends in *bytes
    std::shared_ptr<const std::string> bytes;   // kBatchHeader reserved bytes, then the frames
    std::size_t offset = 0;                  // where the message begins (its header, right-aligned)
  };
  static constexpr std::size_t kBatchHeader = 1 + 5;   // the tag and, at most, a 5-byte length, written last
  std::string batch_;                // a Deliveries message being filled (pump)
  std::vector<std::uint64_t> picked_;   // ... its records
  std::vector<std::size_t> ends_;       // ... and where each ends in batch_
  std::vector<SharedBatch> shared_;     // the batches sent in this pump
  gridhub::v1::SubscriberToHub in_;
  gridhub::v1::HubToSubscriber out_;
};

}  // namespace gridhub::core
