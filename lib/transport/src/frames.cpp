#include "gridhub/transport/frames.hpp"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/stubs/logging.h>
#include <spdlog/spdlog.h>

#include <atomic>

namespace gridhub::transport {

RecvStatus recv_router(zmq::socket_t& socket, RouterMessage& out) {
  try {
    zmq::message_t id;
    if (!socket.recv(id, zmq::recv_flags::dontwait)) return RecvStatus::kWouldBlock;
    out.routing_id.assign(static_cast<const char*>(id.data()), id.size());
    out.extra_frames = 0;
    out.payload.rebuild();
    out.user_id.clear();
    bool have_payload = false;
    while (socket.get(zmq::sockopt::rcvmore)) {
      zmq::message_t part;
      // The rest of a multipart message is already queued: this never blocks.
      (void)socket.recv(part, zmq::recv_flags::none);
      if (!have_payload) {
        out.payload = std::move(part);
        have_payload = true;
        // The peer's metadata rides on the frames it sent. Not on the routing id frame: ROUTER makes
        // that one itself, and copies the metadata onto it only on some paths (not when ZMQ_EVENTS
        // prefetched the message, as AsioZmqSocket's readiness check does). One small map lookup;
        // assign() reuses the string's capacity, so the hot path does not allocate.
        if (const char* uid = zmq_msg_gets(out.payload.handle(), "User-Id")) out.user_id.assign(uid);
      } else {
        ++out.extra_frames;
      }
    }
    return RecvStatus::kMessage;
  } catch (const zmq::error_t&) {
    return RecvStatus::kError;
  }
}

SendStatus send_router(zmq::socket_t& socket, const std::string& routing_id,
                       const google::protobuf::MessageLite& msg, std::string& scratch) {
  scratch.clear();
  msg.SerializeToString(&scratch);
  return send_router_bytes(socket, routing_id, scratch);
}

SendStatus send_router_bytes(zmq::socket_t& socket, const std::string& routing_id, std::string_view scratch) {
  try {
    if (!socket.send(zmq::buffer(routing_id), zmq::send_flags::sndmore | zmq::send_flags::dontwait)) {
      return SendStatus::kWouldBlock;
    }
    // After the routing frame is accepted the rest of the message always goes into the same pipe.
    (void)socket.send(zmq::buffer(scratch.data(), scratch.size()), zmq::send_flags::dontwait);
    return SendStatus::kSent;
  } catch (const zmq::error_t& e) {
    if (e.num() == EHOSTUNREACH) return SendStatus::kUnroutable;
    return SendStatus::kError;
  }
}

SendStatus send_router_shared(zmq::socket_t& socket, const std::string& routing_id,
                              std::shared_ptr<const std::string> bytes, std::size_t offset) {
  try {
    // The reference travels with the message; ZeroMQ's I/O thread drops it once the bytes are written
    // (shared_ptr's count is atomic, and nobody writes the string once it is shared).
    auto* ref = new std::shared_ptr<const std::string>(std::move(bytes));
    zmq::message_t body(const_cast<char*>((*ref)->data() + offset), (*ref)->size() - offset,
                        [](void*, void* hint) { delete static_cast<std::shared_ptr<const std::string>*>(hint); }, ref);
    if (!socket.send(zmq::buffer(routing_id), zmq::send_flags::sndmore | zmq::send_flags::dontwait)) {
      return SendStatus::kWouldBlock;
    }
    (void)socket.send(body, zmq::send_flags::dontwait);
    return SendStatus::kSent;
  } catch (const zmq::error_t& e) {
    if (e.num() == EHOSTUNREACH) return SendStatus::kUnroutable;
    return SendStatus::kError;
  }
}

SendStatus send_dealer(zmq::socket_t& socket, const google::protobuf::MessageLite& msg, bool dontwait) {
  std::string bytes = msg.SerializeAsString();
  try {
    auto r = socket.send(zmq::buffer(bytes), dontwait ? zmq::send_flags::dontwait : zmq::send_flags::none);
    return r ? SendStatus::kSent : SendStatus::kWouldBlock;
  } catch (const zmq::error_t&) {
    return SendStatus::kError;
  }
}

bool parse_bounded(const void* data, std::size_t size, std::size_t max_bytes, google::protobuf::MessageLite& msg) {
  if (size > max_bytes) return false;
  google::protobuf::io::CodedInputStream in(static_cast<const std::uint8_t*>(data), static_cast<int>(size));
  in.SetRecursionLimit(32);
  return msg.ParseFromCodedStream(&in) && in.ConsumedEntireMessage();
}

std::string peer_of(const RouterMessage& msg) {
  if (!msg.user_id.empty()) return "identity " + msg.user_id;
  const char* addr = zmq_msg_gets(msg.payload.handle(), "Peer-Address");
  if (addr != nullptr && *addr != '\0') return std::string(addr);
  return "local";
}

namespace {

std::atomic<std::uint64_t> g_library_lines{0};

void log_protobuf(google::protobuf::LogLevel level, const char* filename, int line, const std::string& message) {
  const std::uint64_t n = ++g_library_lines;
  // A peer can make the library complain once per frame; the log must not grow with its sending rate.
  if (n > 10 && n % 1000 != 0) return;
  const auto lvl = level >= google::protobuf::LOGLEVEL_ERROR ? spdlog::level::warn : spdlog::level::debug;
  spdlog::log(lvl, "protobuf ({}:{}), library message #{}{}: {}", filename, line, n,
              n == 10 ? " (from now on only every 1000th is shown)" : "", message);
}

}  // namespace

void route_library_logging() { google::protobuf::SetLogHandler(&log_protobuf); }

void apply_common_options(zmq::socket_t& socket, std::size_t max_frame_bytes, int linger_ms) {
  socket.set(zmq::sockopt::linger, linger_ms);
  socket.set(zmq::sockopt::maxmsgsize, static_cast<std::int64_t>(max_frame_bytes) * 2);
  socket.set(zmq::sockopt::heartbeat_ivl, 2000);
  socket.set(zmq::sockopt::heartbeat_timeout, 6000);
  socket.set(zmq::sockopt::heartbeat_ttl, 6000);
}

}  // namespace gridhub::transport
