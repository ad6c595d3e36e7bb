#include "gridhub/adapter/hub_client.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <cerrno>
#include <thread>
#include <unordered_map>

#include "gridhub/adapter/metrics.hpp"
#include "gridhub/transport/frames.hpp"
#include "gridhub/v1/wire.pb.h"

namespace gridhub::adapter {

namespace v1 = gridhub::v1;
using Clock = std::chrono::steady_clock;

HubClient::HubClient(zmq::context_t& zmq, Outbox& outbox, HubClientOptions options, AdapterCounters* counters)
    : zmq_(zmq), outbox_(outbox), options_(std::move(options)), counters_(counters) {
  reconnect();
  options_.window = std::max<std::size_t>(options_.window, 1);
}

HubClient::~HubClient() = default;

void HubClient::reconnect() {
  socket_ = zmq::socket_t(zmq_, zmq::socket_type::dealer);
  transport::apply_common_options(socket_, options_.max_frame_bytes);
  // Queued frames for a dead connection are dropped, not delivered late: we resend from the outbox.
  socket_.set(zmq::sockopt::immediate, 1);
  socket_.set(zmq::sockopt::sndhwm, static_cast<int>(options_.window) * 2);
  if (!options_.server_public_key.empty()) transport::apply_curve_client(socket_, options_.server_public_key, options_.curve_key);
  socket_.connect(options_.endpoint);
  hello_needed_ = true;
  hello_answered_ = false;
  connected_at_ = Clock::now();
}

bool HubClient::send_hello() {
  v1::AdapterToHub msg;
  msg.mutable_hello();
  if (transport::send_dealer(socket_, msg) != transport::SendStatus::kSent) return false;
  hello_needed_ = false;
  return true;
}

Result<SendStats> HubClient::drain(const std::function<bool()>& keep_going) {
  SendStats stats;
  std::unordered_map<std::int64_t, Clock::time_point> in_flight;
  std::int64_t cursor = 0;     // highest outbox id sent in this connection
  bool exhausted = false;      // no pending entry above cursor (as of the last read)
  auto backoff = options_.backoff_initial;
  std::vector<Delivery> done;
  v1::AdapterToHub msg;
  v1::HubToAdapter reply;
  Clock::time_point last_answer = Clock::now();
  Clock::time_point last_warning = Clock::now();
  // Each drain asks again: the hub may have been restored since the last one.
  hello_needed_ = true;
  hello_answered_ = false;
  connected_at_ = Clock::now();
  if (last_purge_ == Clock::time_point{} || Clock::now() - last_purge_ > std::chrono::minutes(10)) {
    last_purge_ = Clock::now();
    auto purged = outbox_.purge_completed(options_.retention);
    if (!purged) return purged.error();
    stats.purged = purged.value();
    if (purged.value() > 0) {
      spdlog::info("outbox {}: purged {} entries answered more than {} h ago", outbox_.file().string(), purged.value(),
                   options_.retention.count());
    }
  }

  auto flush = [&]() -> Status {
    auto s = outbox_.complete(done);
    done.clear();
    return s;
  };

  while (keep_going()) {
    // The handshake goes first on a connection (once it is up), so its answer precedes the acks of
    // what follows; an event that slips ahead of it is at worst sent twice (the hub dedups).
    if (hello_needed_) (void)send_hello();
    // Fill the window from the outbox.
    if (!exhausted && in_flight.size() < options_.window) {
      auto batch = outbox_.pending(cursor, options_.window - in_flight.size());
      if (!batch) return batch.error();
      if (batch->empty()) exhausted = true;
      for (auto& e : batch.value()) {
        if (in_flight.contains(e.id)) {   // after a requeue the scan starts over: skip what is in flight
          cursor = e.id;
          continue;
        }
        msg.Clear();
        auto* sub = msg.mutable_submit();
        sub->set_correlation_id(static_cast<std::uint64_t>(e.id));
        if (!sub->mutable_event()->ParseFromString(e.event_bytes)) {
          done.push_back(Delivery{.id = e.id, .refused_reason = "outbox entry does not parse"});
          cursor = e.id;
          continue;
        }
        if (const std::size_t bytes = msg.ByteSizeLong(); bytes > options_.max_frame_bytes) {
          // The hub would refuse it (or its socket cut it off): final, never sent (file imports bound
          // their events before the outbox, adapters/common/event_bounds.hpp; this is the last guard).
          ++stats.refused["TOO_LARGE"];
          if (counters_ != nullptr) counters_->rejected("hub_TOO_LARGE").inc();
          spdlog::error("outbox entry {} is a frame of {} bytes, over max_frame_bytes {}: not sent", e.id, bytes,
                        options_.max_frame_bytes);
          done.push_back(Delivery{e.id, 0, false, false, fmt::format("TOO_LARGE: frame of {} bytes not sent", bytes)});
          cursor = e.id;
          continue;
        }
        if (transport::send_dealer(socket_, msg) != transport::SendStatus::kSent) {
          // With ZMQ_IMMEDIATE a send fails while no connection is up: the hub is down or unreachable.
          if (in_flight.empty() && Clock::now() - last_warning > backoff) {
            auto left = outbox_.pending_count();
            spdlog::warn("hub at {} not reachable; {} events wait in the outbox {}", options_.endpoint,
                         left ? left.value() : 0, outbox_.file().string());
            ++stats.unreachable_waits;
            last_warning = Clock::now();
            backoff = std::min(backoff * 2, options_.backoff_max);
          }
          break;
        }
        if (in_flight.empty()) last_answer = Clock::now();
        in_flight.emplace(e.id, Clock::now());
        cursor = e.id;
        ++stats.sent;
        if (counters_ != nullptr) counters_->sent.inc();
      }
    }
    // With nothing to send, the handshake still gets its answer (or ack_timeout, if the hub is away).
    const bool hello_outstanding = !hello_answered_ && Clock::now() - connected_at_ < options_.ack_timeout;
    if (in_flight.empty() && exhausted && !hello_outstanding) {
      // Sent and not answered (an unreachable hub, with nothing waiting, is no news: the next drain asks).
      if (!hello_answered_ && !hello_needed_) {
        spdlog::warn("hub at {} did not answer the restore handshake within {} ms; the next run asks again",
                     options_.endpoint, options_.ack_timeout.count());
      }
      if (auto s = flush(); !s) return s.error();
      // Entries may have been enqueued meanwhile (HTTP adapters); look again once before leaving.
      auto left = outbox_.pending_count();
      if (!left) return left.error();
      if (left.value() == 0) return stats;
      exhausted = false;
      cursor = 0;
      continue;
    }

    zmq::pollitem_t items[] = {{socket_.handle(), 0, ZMQ_POLLIN, 0}};
    try {
      zmq::poll(items, 1, std::chrono::milliseconds(50));
    } catch (const zmq::error_t& e) {
      // A signal (SIGTERM for an orderly stop) interrupted the wait: look at keep_going again.
      if (e.num() != EINTR) throw;
      continue;
    }
    zmq::message_t frame;
    while ((items[0].revents & ZMQ_POLLIN) && socket_.recv(frame, zmq::recv_flags::dontwait)) {
      if (!reply.ParseFromArray(frame.data(), static_cast<int>(frame.size()))) continue;
      last_answer = Clock::now();
      backoff = options_.backoff_initial;
      if (reply.has_hello()) {
        hello_answered_ = true;
        const auto& h = reply.hello();
        timeline_ = h.timelines().empty() ? std::string() : h.timelines(h.timelines_size() - 1).id();
        if (auto s = flush(); !s) return s.error();   // acks already received count as acknowledged
        auto lost = outbox_.requeue_lost(h);
        if (!lost) return lost.error();
        if (lost.value() > 0) {
          spdlog::warn("hub log {} (head {}, {} timelines) no longer holds {} events it acknowledged to this adapter "
                       "(restored from a backup?); sending them again",
                       h.log_id(), h.head_seq(), h.timelines_size(), lost.value());
          stats.resent_after_restore += lost.value();
          cursor = 0;
          exhausted = false;
        }
        continue;
      }
      if (reply.has_ack()) {
        const auto& a = reply.ack();
        auto id = static_cast<std::int64_t>(a.correlation_id());
        // The hub now writes another timeline (it restarted on a restored log under this connection).
        if (!a.timeline().empty() && hello_answered_ && a.timeline() != timeline_) {
          hello_needed_ = true;
          hello_answered_ = false;
          connected_at_ = Clock::now();
        }
        if (in_flight.erase(id) == 0) continue;  // a late ack for an entry already resent and acked
        done.push_back(Delivery{.id = id,
                                .log_seq = a.log_seq(),
                                .duplicate = a.duplicate(),
                                .dead_lettered = a.dead_lettered(),
                                .log_id = a.log_id(),
                                .timeline = a.timeline()});
        // An HTTP adapter keeps enqueueing while this runs: look at the outbox again for more.
        exhausted = false;
        if (counters_ != nullptr) {
          counters_->acked.inc();
          if (a.duplicate()) counters_->duplicates_hub.inc();
        }
        if (a.dead_lettered()) {
          ++stats.dead_lettered;
        } else if (a.duplicate()) {
          ++stats.duplicates;
        } else {
          ++stats.accepted;
        }
      } else if (reply.has_nack()) {
        const auto& n = reply.nack();
        auto id = static_cast<std::int64_t>(n.correlation_id());
        if (id == 0 && !hello_answered_) {
          hello_answered_ = true;   // a hub older than the handshake: nothing to ask it
          continue;
        }
        if (in_flight.erase(id) == 0) continue;
        if (n.code() == v1::NACK_CODE_UNAVAILABLE || n.code() == v1::NACK_CODE_FORBIDDEN) {
          // The hub could not store it now, or this adapter's identity may not submit (a wrong role
          // in the identities file, fixed by its operator): it stays pending and goes again later.
          if (n.code() == v1::NACK_CODE_FORBIDDEN) {
            spdlog::error("hub refused this adapter: {}; events stay in the outbox, retrying in {} ms", n.reason(),
                          backoff.count());
          } else {
            spdlog::warn("hub unavailable ({}); retrying in {} ms", n.reason(), backoff.count());
          }
          cursor = std::min(cursor, id - 1);
          exhausted = false;
          std::this_thread::sleep_for(backoff);
          backoff = std::min(backoff * 2, options_.backoff_max);
          continue;
        }
        const std::string code = v1::NackCode_Name(n.code());
        ++stats.refused[code];
        if (counters_ != nullptr) counters_->rejected("hub_" + code).inc();
        spdlog::error("hub refused outbox entry {}: {}: {}", id, code, n.reason());
        done.push_back(Delivery{.id = id, .refused_reason = code + ": " + n.reason()});
      }
    }
    if (done.size() >= 256 || (in_flight.empty() && !done.empty())) {
      if (auto s = flush(); !s) return s.error();
    }
    if (!in_flight.empty() && Clock::now() - last_answer > options_.ack_timeout) {
      if (auto s = flush(); !s) return s.error();
      spdlog::warn("hub at {} did not answer for {} ms ({} events unacknowledged); reconnecting in {} ms{}",
                   options_.endpoint, options_.ack_timeout.count(), in_flight.size(), backoff.count(),
                   options_.server_public_key.empty() ? ""
                                                      : " (CURVE: is this adapter's public key in the hub's identities "
                                                        "file, and server_public_key the hub's?)");
      std::this_thread::sleep_for(backoff);
      backoff = std::min(backoff * 2, options_.backoff_max);
      in_flight.clear();
      cursor = 0;
      exhausted = false;
      reconnect();
      ++stats.reconnects;
      last_answer = Clock::now();
    }
  }
  if (auto s = flush(); !s) return s.error();
  return stats;
}

}  // namespace gridhub::adapter
