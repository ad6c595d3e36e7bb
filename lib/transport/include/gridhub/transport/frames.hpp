#pragma once
/// Reading and writing gridhub wire messages on ROUTER/DEALER sockets: one protobuf per message,
/// ROUTER side prefixed by the peer's routing id. zmq::error_t is caught here and nowhere else.

#include <cstddef>
#include <memory>
#include <optional>
#include <string>

#include <google/protobuf/message_lite.h>
#include <zmq.hpp>

namespace gridhub::transport {

/// One multipart message received on a ROUTER socket.
struct RouterMessage {
  std::string routing_id;
  zmq::message_t payload;
  std::size_t extra_frames = 0;   // frames beyond [id, payload]: a protocol violation
  /// Who the ZAP handler said the peer is (its identity's name, from the payload frame's metadata);
  /// empty without security.
  std::string user_id;
};

enum class RecvStatus { kMessage, kWouldBlock, kError };

/// Non-blocking receive of one whole multipart message from a ROUTER.
RecvStatus recv_router(zmq::socket_t& socket, RouterMessage& out);

enum class SendStatus { kSent, kWouldBlock, kUnroutable, kError };

/// Non-blocking send of [routing_id, serialized msg] on a ROUTER (ROUTER_MANDATORY set).
SendStatus send_router(zmq::socket_t& socket, const std::string& routing_id,
                       const google::protobuf::MessageLite& msg, std::string& scratch);

/// Non-blocking send of [routing_id, bytes] on a ROUTER: an already serialized message (fan-out sends
/// one encoding to many peers).
SendStatus send_router_bytes(zmq::socket_t& socket, const std::string& routing_id, std::string_view bytes);

/// The same, without copying: ZeroMQ holds a reference to `bytes` (from `offset` on) until its I/O
/// thread has written them, so one encoding goes to many peers as one buffer.
SendStatus send_router_shared(zmq::socket_t& socket, const std::string& routing_id,
                              std::shared_ptr<const std::string> bytes, std::size_t offset = 0);

/// Send of one serialized message on a DEALER; `dontwait` makes it non-blocking.
SendStatus send_dealer(zmq::socket_t& socket, const google::protobuf::MessageLite& msg, bool dontwait = true);

/// Parses at most `max_bytes` as `msg`; false on any failure (size, bytes, depth).
bool parse_bounded(const void* data, std::size_t size, std::size_t max_bytes, google::protobuf::MessageLite& msg);

/// Who sent `msg`, for per-peer accounting of bad frames: the ZAP identity when there is one, else the
/// TCP peer's address (ZeroMQ's "Peer-Address", without the port: reconnecting does not make a new
/// peer), else "local" (ipc://, where every peer is on this machine). Looked up on demand, not per frame.
std::string peer_of(const RouterMessage& msg);

/// Routes protobuf's own diagnostics (e.g. "String field ... contains invalid UTF-8 data", printed on
/// stderr for every such frame a peer sends) into spdlog, rate-limited: the first few, then every
/// 1000th with the count. Call once at start-up, after logging is set up.
void route_library_logging();

/// Socket options every gridhub socket gets: no linger on close beyond `linger_ms`, heartbeats so a
/// dead peer is noticed, and a hard frame limit (`max_frame_bytes` * 2: the soft limit is checked by the
/// hub, which nacks, while the hard one protects against absurd frames by disconnecting).
void apply_common_options(zmq::socket_t& socket, std::size_t max_frame_bytes, int linger_ms = 0);

}  // namespace gridhub::transport
