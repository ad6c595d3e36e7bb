#include "gridhub/core/stream_server.hpp"

#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

namespace gridhub::core {

namespace v1 = gridhub::v1;

namespace {

zmq::socket_t make_router(zmq::context_t& zmq, const StreamOptions& o, std::vector<std::string>& bound) {
  zmq::socket_t s(zmq, zmq::socket_type::router);
  transport::apply_common_options(s, o.max_frame_bytes);
  s.set(zmq::sockopt::router_mandatory, 1);
  // Credit bounds what is in flight per session, so the HWM only has to exceed max_credit.
  s.set(zmq::sockopt::sndhwm, static_cast<int>(o.max_credit) * 2 + 100);
  for (const auto& ep : o.endpoints) {
    s.bind(ep);
    bound.push_back(s.get(zmq::sockopt::last_endpoint));
  }
  return s;
}

}  // namespace

StreamServer::StreamServer(boost::asio::io_context& io, zmq::context_t& zmq, log::LogReader reader,
                           StreamOptions options)
    : io_(io),
      options_(std::move(options)),
      socket_(io, make_router(zmq, options_, bound_)),
      reader_(std::move(reader)),
      expiry_timer_(io) {
  auto head = reader_.head_seq();
  head_ = head ? head.value() : 0;
}

void StreamServer::start() {
  socket_.start([this] { on_readable(); });
  expire();
}

void StreamServer::stop() {
  stopped_ = true;
  socket_.stop();
  expiry_timer_.cancel();
}

void StreamServer::on_commit(std::uint64_t head) {
  head_ = std::max(head_, head);
  schedule_pump();
}

void StreamServer::on_readable() {
  transport::RouterMessage msg;
  for (int i = 0; i < 256; ++i) {
    if (transport::recv_router(socket_.socket(), msg) != transport::RecvStatus::kMessage) break;
    if (msg.extra_frames != 0 ||
        !transport::parse_bounded(msg.payload.data(), msg.payload.size(), options_.max_frame_bytes, in_)) {
      ++counters_.bad_requests;
      continue;
    }
    const auto now = std::chrono::steady_clock::now();
    switch (in_.msg_case()) {
      case v1::SubscriberToHub::kSubscribe: {
        auto& s = sessions_[msg.routing_id];
        s.next_seq = std::max<std::uint64_t>(1, in_.subscribe().from_seq());
        s.credit = std::min(in_.subscribe().credit(), options_.max_credit);
        s.last_heard = now;
        ++counters_.sessions_opened;
        spdlog::info("stream: subscriber session from seq {} (credit {}), {} open", s.next_seq, s.credit, sessions_.size());
        break;
      }
      case v1::SubscriberToHub::kCredit: {
        auto it = sessions_.find(msg.routing_id);
        if (it == sessions_.end()) {
          // We restarted, or the session expired: tell the subscriber to subscribe again from its cursor.
          out_.Clear();
          out_.mutable_session_unknown();
          (void)transport::send_router(socket_.socket(), msg.routing_id, out_, scratch_);
          break;
        }
        auto& s = it->second;
        s.credit = static_cast<std::uint32_t>(std::min<std::uint64_t>(
            static_cast<std::uint64_t>(s.credit) + in_.credit().credit(), options_.max_credit));
        s.last_heard = now;
        break;
      }
      case v1::SubscriberToHub::kAcknowledge:   // durable subscriptions: not handled yet
      case v1::SubscriberToHub::kUpdate:
      case v1::SubscriberToHub::MSG_NOT_SET:
        ++counters_.bad_requests;
        break;
    }
  }
  schedule_pump();
}

void StreamServer::schedule_pump() {
  if (pump_posted_ || stopped_) return;
  pump_posted_ = true;
  boost::asio::post(io_, [this] {
    pump_posted_ = false;
    pump();
  });
}

void StreamServer::pump() {
  // One bounded read per session per turn keeps the loop responsive during a long catch-up.
  constexpr std::size_t kChunk = 256;
  bool more = false;
  std::vector<std::string> gone;
  for (auto& entry : sessions_) {
    const std::string& id = entry.first;
    Session& s = entry.second;
    if (s.credit == 0 || s.next_seq > head_) continue;
    const std::size_t want = std::min<std::size_t>(s.credit, kChunk);
    bool unroutable = false;
    auto n = reader_.read(s.next_seq, want, [&](std::uint64_t seq, std::string_view body) {
      if (unroutable) return;
      out_.Clear();
      auto* d = out_.mutable_delivery();
      d->set_seq(seq);
      d->set_record(body.data(), body.size());
      auto st = transport::send_router(socket_.socket(), id, out_, scratch_);
      if (st == transport::SendStatus::kSent) {
        s.next_seq = seq + 1;
        --s.credit;
        ++counters_.delivered;
      } else {
        unroutable = true;
      }
    });
    if (!n) {
      spdlog::error("stream: reading the log failed: {}", n.error().message());
      continue;
    }
    if (unroutable) {
      gone.push_back(id);
      continue;
    }
    if (s.credit > 0 && s.next_seq <= head_) more = true;
  }
  for (const auto& id : gone) sessions_.erase(id);
  if (more) schedule_pump();
  socket_.poke();
}

void StreamServer::expire() {
  if (stopped_) return;
  const auto now = std::chrono::steady_clock::now();
  for (auto it = sessions_.begin(); it != sessions_.end();) {
    if (now - it->second.last_heard > options_.session_timeout) {
      ++counters_.sessions_expired;
      it = sessions_.erase(it);
    } else {
      ++it;
    }
  }
  expiry_timer_.expires_after(options_.session_timeout / 2);
  expiry_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) expire();
  });
}

}  // namespace gridhub::core
