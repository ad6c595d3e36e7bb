// The hub's own figures: the real gridhub binary, started fresh on a fresh log for every run, driven over
// its wire protocol the way an adapter drives it (a DEALER sending one-frame Submits, acks after commit).
#include "bench.hpp"
#include "hub_client.hpp"

#include <poll.h>
#include <zmq.h>

#include <fmt/format.h>
#include <zmq.hpp>

#include <fstream>

#include "gridhub/sqlite/sqlite.hpp"
#include "gridhub/transport/frames.hpp"
#include "gridhub/v1/wire.pb.h"

namespace gridhub::bench {
namespace {

/// Checks one reply and returns the index of the event it acks.
std::size_t acked_index(const zmq::message_t& frame, std::size_t events, std::vector<std::uint8_t>& seen,
                        v1::HubToAdapter& reply) {
  if (!transport::parse_bounded(frame.data(), frame.size(), kMaxFrameBytes, reply)) {
    throw BenchError("hub: reply is not a HubToAdapter");
  }
  if (reply.has_nack()) {
    throw BenchError(fmt::format("hub: nack {} for correlation {}: {}", static_cast<int>(reply.nack().code()),
                                 reply.nack().correlation_id(), reply.nack().reason()));
  }
  if (!reply.has_ack()) throw BenchError("hub: reply is neither ack nor nack");
  const auto& ack = reply.ack();
  const std::uint64_t i = ack.correlation_id() - kCorrelationBase;
  if (ack.correlation_id() < kCorrelationBase || i >= events || seen[i] != 0) {
    throw BenchError(fmt::format("hub: unexpected or repeated ack for correlation {}", ack.correlation_id()));
  }
  if (ack.duplicate() || ack.dead_lettered() || ack.log_seq() == 0) {
    throw BenchError(fmt::format("hub: event {} acked as duplicate/dead letter (seq {})", i, ack.log_seq()));
  }
  seen[i] = 1;
  return static_cast<std::size_t>(i);
}

std::uint64_t count_log_rows(const std::filesystem::path& db_file) {
  auto db = sqlite::Database::open(db_file, sqlite::OpenMode::kReadOnly);
  if (!db) throw BenchError("hub log: " + db.error().message());
  auto n = db->query_int("SELECT count(*) FROM log");
  if (!n) throw BenchError("hub log: " + n.error().message());
  return static_cast<std::uint64_t>(n.value());
}

}  // namespace

std::size_t hub_event_bytes(std::size_t target_bytes) { return EventMaker(target_bytes).bytes(); }

IngestRun hub_ingest(const Paths& paths, const Sizes& sizes, std::size_t events, const std::filesystem::path& dir) {
  IngestRun run;
  run.events = events;
  HubProcess hub(paths, dir);
  {
    zmq::context_t ctx(1);
    zmq::socket_t dealer = connect_dealer(ctx, hub.ingest_endpoint());
    EventMaker maker(sizes.payload_bytes);
    std::vector<std::uint8_t> seen(events, 0);
    v1::HubToAdapter reply;
    zmq::message_t frame;
    std::size_t sent = 0;
    std::size_t acked = 0;
    const auto start = Clock::now();
    while (acked < events) {
      while (sent < events && sent - acked < sizes.hub_window) {
        send_submit(dealer, maker.set(sent));
        ++sent;
      }
      if (!dealer.recv(frame)) {
        throw BenchError(fmt::format("hub: no ack for {} s ({} of {} acked)", kAckTimeoutMs / 1000, acked, events));
      }
      acked_index(frame, events, seen, reply);
      ++acked;
      while (acked < events && dealer.recv(frame, zmq::recv_flags::dontwait)) {
        acked_index(frame, events, seen, reply);
        ++acked;
      }
    }
    const auto end = Clock::now();
    run.events_per_s = static_cast<double>(events) / std::chrono::duration<double>(end - start).count();
    run.memory = read_memory(hub.pid());
    run.hub_threads = read_thread_cpu(hub.pid());
    double cpu = 0;
    for (const auto& t : run.hub_threads) cpu += t.seconds;
    run.hub_cpu_us_per_event = cpu * 1e6 / static_cast<double>(events);
  }
  hub.stop();
  run.log_rows = count_log_rows(hub.db());
  if (run.log_rows != events) {
    throw BenchError(fmt::format("hub log holds {} rows after {} acked events", run.log_rows, events));
  }
  return run;
}

LatencyRun hub_ack_latency(const Paths& paths, const Sizes& sizes, const std::filesystem::path& dir) {
  const auto warmup = static_cast<std::size_t>(sizes.latency_rate * sizes.latency_warmup_seconds);
  const auto events = warmup + static_cast<std::size_t>(sizes.latency_rate * sizes.latency_seconds);
  const auto interval = std::chrono::duration<double>(1.0 / sizes.latency_rate);
  HubProcess hub(paths, dir);
  std::vector<double> latencies_ms;
  latencies_ms.reserve(events - warmup);
  {
    zmq::context_t ctx(1);
    // No window: the schedule alone decides when an event is sent, so a slow ack cannot delay the
    // sends after it and hide its own latency (coordinated omission).
    zmq::socket_t dealer = connect_dealer(ctx, hub.ingest_endpoint());
    const int fd = dealer.get(zmq::sockopt::fd);
    EventMaker maker(sizes.payload_bytes);
    std::vector<std::uint8_t> seen(events, 0);
    std::vector<Clock::time_point> sent_at(events);
    v1::HubToAdapter reply;
    zmq::message_t frame;
    std::size_t sent = 0;
    std::size_t acked = 0;
    const auto start = Clock::now();
    auto last_progress = start;
    auto due = [&](std::size_t i) {
      return start + std::chrono::duration_cast<Clock::duration>(interval * static_cast<double>(i));
    };
    while (acked < events) {
      for (auto now = Clock::now(); sent < events && due(sent) <= now; ++sent) {
        send_submit(dealer, maker.set(sent));
        sent_at[sent] = Clock::now();
      }
      // Receive until EAGAIN: that also re-arms ZMQ_FD, which only signals new activity.
      while (dealer.recv(frame, zmq::recv_flags::dontwait)) {
        const auto now = Clock::now();
        const std::size_t i = acked_index(frame, events, seen, reply);
        if (i >= warmup) latencies_ms.push_back(std::chrono::duration<double, std::milli>(now - sent_at[i]).count());
        ++acked;
        last_progress = now;
      }
      if (acked == events) break;
      const auto now = Clock::now();
      if (now - last_progress > std::chrono::milliseconds(kAckTimeoutMs)) {
        throw BenchError(fmt::format("hub: no ack for {} s ({} of {} acked)", kAckTimeoutMs / 1000, acked, events));
      }
      // Pacing wait: until the next send is due or an ack arrives, whichever is first.
      auto wait = sent < events ? due(sent) - now : Clock::duration(std::chrono::milliseconds(100));
      if (wait < Clock::duration::zero()) wait = Clock::duration::zero();
      const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(wait).count();
      const timespec ts{static_cast<time_t>(ns / 1'000'000'000), static_cast<long>(ns % 1'000'000'000)};
      pollfd p{fd, POLLIN, 0};
      ::ppoll(&p, 1, &ts, nullptr);
    }
  }
  hub.stop();
  LatencyRun r;
  r.samples = latencies_ms.size();
  r.p50_ms = percentile_of(latencies_ms, 0.50);
  r.p99_ms = percentile_of(latencies_ms, 0.99);
  r.p999_ms = percentile_of(latencies_ms, 0.999);
  r.max_ms = percentile_of(latencies_ms, 1.0);
  return r;
}

}  // namespace gridhub::bench
