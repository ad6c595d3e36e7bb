#pragma once
/// The ZAP handler (ZeroMQ RFC 27): libzmq asks it, over inproc://zeromq.zap.01 in the hub's
/// context, whether each connecting peer may in. For CURVE it admits the public keys in the
/// Directory, with the identity's name as the User-Id every message from that peer then carries
/// (transport::RouterMessage::user_id); everything else is refused and counted.
///
/// It runs on the hub's io_context. Without a bound ZAP handler libzmq admits every CURVE key, so
/// the constructor throws when the endpoint cannot be bound and secure mode refuses to start.

#include <boost/asio/io_context.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include <zmq.hpp>

#include "gridhub/auth/directory.hpp"
#include "gridhub/transport/asio_zmq.hpp"

namespace gridhub::auth {

/// Stable names in gridhubctl status: auth_accepted_total, auth_rejected_unknown_key_total, ...
struct ZapCounters {
  std::uint64_t accepted = 0;
  std::uint64_t rejected_unknown_key = 0;
  std::uint64_t rejected_mechanism = 0;   // NULL or PLAIN on a CURVE endpoint
  std::uint64_t malformed = 0;            // a request that is not RFC 27 (answered 500)
};

class ZapHandler {
 public:
  static constexpr const char* kEndpoint = "inproc://zeromq.zap.01";

  /// Binds kEndpoint in `zmq` and starts answering on `io`. `directory` must outlive the handler.
  /// Throws std::runtime_error when the endpoint cannot be bound (another handler holds it).
  ZapHandler(boost::asio::io_context& io, zmq::context_t& zmq, const Directory& directory);
  ZapHandler(const ZapHandler&) = delete;
  ZapHandler& operator=(const ZapHandler&) = delete;

  const ZapCounters& counters() const { return counters_; }

 private:
  void on_readable();
  void answer(std::vector<zmq::message_t>& request);

  const Directory& directory_;
  transport::AsioZmqSocket socket_;
  ZapCounters counters_;
};

}  // namespace gridhub::auth
