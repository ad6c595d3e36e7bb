#include "gridhub/adapter/hub_lookup.hpp"

#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include "gridhub/transport/frames.hpp"

namespace gridhub::adapter {

namespace v1 = gridhub::v1;

namespace {

zmq::socket_t make_dealer(zmq::context_t& zmq, const HubClientOptions& o) {
  zmq::socket_t s(zmq, zmq::socket_type::dealer);
  s.set(zmq::sockopt::linger, 0);
  // A lookup is answered now or not at all: nothing queues for a connection that is not up.
  s.set(zmq::sockopt::immediate, 1);
  if (!o.server_public_key.empty()) transport::apply_curve_client(s, o.server_public_key, o.curve_key);
  s.connect(o.endpoint);
  return s;
}

}  // namespace

HubLookup::HubLookup(boost::asio::io_context& io, zmq::context_t& zmq, const HubClientOptions& options,
                     std::chrono::milliseconds timeout)
    : io_(io), socket_(io, make_dealer(zmq, options)), timeout_(timeout) {
  socket_.start([this] { on_readable(); });
}

HubLookup::~HubLookup() { socket_.stop(); }

void HubLookup::stop() {
  stopped_ = true;
  socket_.stop();
  auto waiting = std::move(waiting_);
  waiting_.clear();
  for (auto& [id, w] : waiting) {
    w.timer->cancel();
    w.done(std::nullopt);
  }
}

void HubLookup::lookup(v1::LookupRequest request, Done done) {
  if (stopped_) {
    boost::asio::post(io_, [done = std::move(done)] { done(std::nullopt); });
    return;
  }
  const std::uint64_t id = ++next_id_;
  request.set_correlation_id(id);
  v1::AdapterToHub msg;
  *msg.mutable_lookup() = std::move(request);
  const std::string frame = msg.SerializeAsString();
  zmq::send_result_t sent;
  try {
    sent = socket_.socket().send(zmq::buffer(frame), zmq::send_flags::dontwait);
  } catch (const zmq::error_t& e) {
    spdlog::warn("lookup: sending to the hub failed: {}", e.what());
  }
  socket_.poke();
  if (!sent) {
    // No connection to the hub (ZMQ_IMMEDIATE): answer at once rather than wait for the timeout.
    boost::asio::post(io_, [done = std::move(done)] { done(std::nullopt); });
    return;
  }
  auto timer = std::make_unique<boost::asio::steady_timer>(io_, timeout_);
  timer->async_wait([this, id](const boost::system::error_code& ec) {
    if (!ec) finish(id, std::nullopt);
  });
  waiting_.emplace(id, Waiting{std::move(done), std::move(timer)});
}

void HubLookup::on_readable() {
  for (int i = 0; i < 256; ++i) {
    zmq::message_t m;
    zmq::recv_result_t got;
    try {
      got = socket_.socket().recv(m, zmq::recv_flags::dontwait);
    } catch (const zmq::error_t& e) {
      spdlog::warn("lookup: receiving from the hub failed: {}", e.what());
      return;
    }
    if (!got) return;
    v1::HubToAdapter in;
    if (!in.ParseFromArray(m.data(), static_cast<int>(m.size()))) continue;
    if (in.has_lookup()) {
      finish(in.lookup().correlation_id(), in.lookup());
    } else if (in.has_nack()) {
      // FORBIDDEN (an identity without the adapter role) or a hub that does not know lookups.
      spdlog::warn("lookup: the hub refused a lookup: {}", in.nack().reason());
    }
  }
}

void HubLookup::finish(std::uint64_t id, std::optional<v1::LookupReply> reply) {
  auto it = waiting_.find(id);
  if (it == waiting_.end()) return;   // answered after its timeout
  Done done = std::move(it->second.done);
  waiting_.erase(it);
  done(std::move(reply));
}

}  // namespace gridhub::adapter
