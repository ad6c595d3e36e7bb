#include "gridhub/stream/stream_client.hpp"

#include <zmq.h>

#include <cerrno>
#include <chrono>
#include <iostream>
#include <zmq.hpp>

#include "gridhub/transport/frames.hpp"

namespace gridhub::stream {

namespace v1 = gridhub::v1;
using Clock = std::chrono::steady_clock;

namespace {

constexpr auto kKeepalive = std::chrono::milliseconds(1000);
constexpr auto kSubscribeWait = std::chrono::milliseconds(5000);   // unanswered: the next SessionUnknown subscribes again
constexpr auto kAckEvery = std::chrono::milliseconds(1000);   // however slowly records are handled (ack_timeout_ms)
constexpr int kIdlePollMs = 1000;
constexpr int kAckPollMs = 100;     // an unacknowledged tail waits at most this long once the stream pauses
constexpr int kLingerMs = 2000;     // the last Acknowledge must reach the hub before the process exits

}  // namespace

int run_stream(const StreamClientOptions& o, const RecordHandler& handle) {
  zmq::context_t ctx(1);
  zmq::socket_t sock(ctx, zmq::socket_type::dealer);
  gridhub::transport::apply_common_options(sock, 64 << 20, kLingerMs);
  if (o.configure) o.configure(sock);
  sock.connect(o.endpoint);

  const bool named = !o.subscribe.name().empty();
  std::uint64_t next = 0;          // the first seq not yet handled in this run (0: none handled yet)
  std::uint64_t acked = 0;         // the last seq acknowledged to the hub
  std::uint64_t handled_since_ack = 0;
  std::uint64_t counted = 0;
  std::uint32_t consumed = 0;      // records taken since credit was last granted
  auto last_sent = Clock::now();
  auto last_data = Clock::now();
  auto last_ack = Clock::now();
  bool subscribing = false;        // a Subscribe is on its way: SessionUnknown answers what was sent before it
  auto subscribed_at = Clock::now();

  auto send = [&](const v1::SubscriberToHub& m) {
    (void)gridhub::transport::send_dealer(sock, m, false);
    last_sent = Clock::now();
  };
  auto subscribe = [&] {
    v1::SubscriberToHub m;
    *m.mutable_subscribe() = o.subscribe;
    m.mutable_subscribe()->set_credit(o.window);
    if (m.subscribe().max_batch() == 0) m.mutable_subscribe()->set_max_batch(std::max<std::uint32_t>(1, o.window / 4));
    if (next != 0) {
      // Everything before `next` was handled in this run: continue there. For a named subscription
      // this also moves the durable cursor to what was handled, which the Acknowledge would have done.
      m.mutable_subscribe()->set_start(named ? v1::START_POINT_SEQ : v1::START_POINT_UNSPECIFIED);
      m.mutable_subscribe()->set_from_seq(next);
      acked = next - 1;
    }
    consumed = 0;
    subscribing = true;
    subscribed_at = Clock::now();
    send(m);
  };
  auto acknowledge = [&] {
    last_ack = Clock::now();
    if (!o.acknowledge || next == 0 || next - 1 <= acked) return;
    v1::SubscriberToHub m;
    m.mutable_acknowledge()->set_through_seq(next - 1);
    acked = next - 1;
    handled_since_ack = 0;
    send(m);
  };

  // One record: handled unless seen before; true when --max is reached (acknowledged, stop).
  auto take = [&](const v1::Delivery& d) {
    last_data = Clock::now();
    ++consumed;
    if (next != 0 && d.seq() < next) {
      // Sent again (a resubscribe, or our Acknowledge was late or lost): handled already; make
      // sure the hub hears the acknowledgement again.
      if (d.seq() <= acked) acked = d.seq() - 1;
      return false;
    }
    next = d.seq() + 1;
    ++handled_since_ack;
    if (handle(d)) ++counted;
    if (o.max > 0 && counted >= o.max) {
      acknowledge();
      return true;
    }
    if (handled_since_ack >= o.ack_every || Clock::now() - last_ack >= kAckEvery) acknowledge();
    return false;
  };

  subscribe();
  v1::HubToSubscriber in;
  for (;;) {
    if (o.stop != nullptr && o.stop->load()) {
      acknowledge();
      return 0;
    }
    if (subscribing && Clock::now() - subscribed_at > kSubscribeWait) {
      // No Subscribed yet: the hub was down (or, with CURVE, our key was refused: no answer at all).
      std::cerr << o.program << ": no answer from the hub yet (down? with CURVE: is this key in its identities file?)\n";
      subscribing = false;
    }
    const bool ack_pending = o.acknowledge && next != 0 && next - 1 > acked;
    int wait_ms = ack_pending ? kAckPollMs : kIdlePollMs;
    if (o.idle_exit_ms > 0) wait_ms = std::min(wait_ms, o.idle_exit_ms);
    zmq_pollitem_t items[] = {{sock.handle(), 0, ZMQ_POLLIN, 0}};
    const int rc = zmq_poll(items, 1, wait_ms);
    if (rc < 0 && zmq_errno() != EINTR) {
      std::cerr << o.program << ": polling the stream socket failed: " << zmq_strerror(zmq_errno()) << "\n";
      return 1;
    }
    if (rc <= 0) {
      acknowledge();   // the stream paused: settle what was handled
      if (o.idle_exit_ms > 0 && Clock::now() - last_data > std::chrono::milliseconds(o.idle_exit_ms)) return 0;
      if (Clock::now() - last_sent >= kKeepalive) {
        v1::SubscriberToHub k;  // keepalive; a restarted hub answers SessionUnknown
        k.mutable_credit()->set_credit(0);
        send(k);
      }
      continue;
    }
    zmq::message_t msg;
    while (sock.recv(msg, zmq::recv_flags::dontwait)) {
      if (!in.ParseFromArray(msg.data(), static_cast<int>(msg.size()))) continue;
      switch (in.msg_case()) {
        case v1::HubToSubscriber::kSessionUnknown:
          // One per message the hub could not place; one Subscribe answers them all.
          if (!subscribing) subscribe();
          continue;
        case v1::HubToSubscriber::kDenied:
          std::cerr << o.program << ": the hub refused: " << in.denied().reason() << "\n";
          return 1;
        case v1::HubToSubscriber::kSubscribed: {
          subscribing = false;
          const auto& s = in.subscribed();
          std::cerr << o.program << ": subscribed as " << s.identity() << " (" << s.role() << ")"
                    << (named ? " '" + o.subscribe.name() + "'" : std::string()) << ": start seq " << s.start_seq()
                    << ", acked seq " << s.acked_seq() << ", head seq " << s.head_seq() << "\n";
          if (named && next == 0) acked = s.acked_seq();
          if (o.on_subscribed) o.on_subscribed(s);
          continue;
        }
        case v1::HubToSubscriber::kDelivery:
          if (take(in.delivery())) return 0;
          continue;
        case v1::HubToSubscriber::kDeliveries:
          for (const auto& d : in.deliveries().deliveries()) {
            if (take(d)) return 0;
          }
          continue;
        default:
          continue;
      }
    }
    if (consumed >= o.window / 2 || (consumed > 0 && Clock::now() - last_sent >= kKeepalive)) {
      v1::SubscriberToHub c;
      c.mutable_credit()->set_credit(consumed);
      consumed = 0;
      send(c);
    }
  }
}

}  // namespace gridhub::stream
