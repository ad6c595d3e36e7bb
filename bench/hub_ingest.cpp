// The hub's own figures: the real gridhub binary, started fresh on a fresh log for every run, driven over
// its wire protocol the way an adapter drives it (a DEALER sending one-frame Submits, acks after commit).
#include "bench.hpp"

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

namespace v1 = gridhub::v1;
using Clock = std::chrono::steady_clock;

constexpr std::size_t kMaxFrameBytes = 1 << 20;
// Correlation ids start here so every id has the same varint length and every event the same size.
constexpr std::uint64_t kCorrelationBase = std::uint64_t{1} << 32;
// Only a hub that stopped acking makes a receive wait this long; it turns a hang into an error.
constexpr int kAckTimeoutMs = 60000;

/// The real hub process on a generated configuration in `dir`: durability full, ephemeral endpoints.
class HubProcess {
 public:
  HubProcess(const Paths& paths, const std::filesystem::path& dir) : db_(dir / "log" / "gridhub.db") {
    const auto toml = dir / "hub.toml";
    std::ofstream(toml) << "# written by gridhub-bench\n"
                           "[hub]\n"
                           "log_db = \"log/gridhub.db\"\n"
                           "durability = \"full\"\n"
                           "log_level = \"info\"\n"
                           "[ingest]\n"
                           "endpoints = [\"tcp://127.0.0.1:*\"]\n"
                           "[stream]\n"
                           "endpoints = [\"tcp://127.0.0.1:*\"]\n"
                        << paths.hub_extra_toml;
    child_.emplace(std::vector<std::string>{paths.hub_bin.string(), "-c", toml.string()}, dir / "hub.log",
                   Child::Output::kStdoutPiped);
    const std::string ready = child_->wait_for_line(
        [](const std::string& l) { return l.rfind("READY ", 0) == 0; }, std::chrono::seconds(30));
    // READY ingest=<ep>[,<ep>...] stream=<ep>[,...]
    const auto at = ready.find("ingest=");
    if (at == std::string::npos) throw BenchError("hub: READY line without ingest=: " + ready);
    const auto begin = at + 7;
    const auto end = ready.find_first_of(", ", begin);
    ingest_ = ready.substr(begin, end == std::string::npos ? std::string::npos : end - begin);
  }

  const std::string& ingest_endpoint() const { return ingest_; }
  pid_t pid() const { return child_->pid(); }
  const std::filesystem::path& db() const { return db_; }

  /// SIGTERM: the hub drains and must exit 0.
  void stop() {
    if (const int code = child_->terminate(); code != 0) {
      throw BenchError(fmt::format("hub exited with {} after SIGTERM", code));
    }
  }

 private:
  std::filesystem::path db_;
  std::optional<Child> child_;
  std::string ingest_;
};

/// Submits of ~`target_bytes` serialized: a hotline work order with a unique source key per event.
class EventMaker {
 public:
  explicit EventMaker(std::size_t target_bytes) {
    auto* ev = msg_.mutable_submit()->mutable_event();
    ev->set_channel(v1::CHANNEL_HOTLINE);
    ev->set_adapter_id("bench");
    ev->set_content_type("text/csv; charset=utf-8");
    ev->set_source_name("bench.csv");
    ev->mutable_received_at()->set_unix_micros(1'780'000'000'000'000);
    ev->mutable_received_at()->set_utc_offset_minutes(480);
    auto* f = ev->mutable_fields();
    f->set_reporter_name("张三");
    f->set_reporter_phone("13800000000");
    f->set_address_text("普集街道建设路 3 号楼");
    f->set_category_hint("路灯");
    f->set_request_kind("投诉");
    f->mutable_reported_at()->set_unix_micros(1'780'000'000'000'000);
    f->set_text("小区门口路灯不亮已经一周，晚上出行不便，请尽快维修。");
    set(0);
    const std::size_t size = msg_.ByteSizeLong();
    // The text's length prefix may grow by a byte as it gets longer; close enough for "~300 bytes".
    if (size < target_bytes) f->mutable_text()->append(target_bytes - size, '.');
    bytes_ = msg_.ByteSizeLong();
  }

  /// The Submit for event `i` (its correlation id is kCorrelationBase + i).
  const v1::AdapterToHub& set(std::uint64_t i) {
    msg_.mutable_submit()->set_correlation_id(kCorrelationBase + i);
    msg_.mutable_submit()->mutable_event()->set_source_key(fmt::format("BENCH-{:010d}", i));
    return msg_;
  }
  std::size_t bytes() const { return bytes_; }

 private:
  v1::AdapterToHub msg_;
  std::size_t bytes_ = 0;
};

zmq::socket_t connect_dealer(zmq::context_t& ctx, const std::string& endpoint) {
  zmq::socket_t s(ctx, zmq::socket_type::dealer);
  transport::apply_common_options(s, kMaxFrameBytes);
  // The window, not ZeroMQ's queue limits, bounds what is in flight.
  s.set(zmq::sockopt::sndhwm, 0);
  s.set(zmq::sockopt::rcvhwm, 0);
  s.set(zmq::sockopt::rcvtimeo, kAckTimeoutMs);
  s.connect(endpoint);
  return s;
}

void send_submit(zmq::socket_t& s, const v1::AdapterToHub& msg) {
  if (transport::send_dealer(s, msg, /*dontwait=*/false) != transport::SendStatus::kSent) {
    throw BenchError("hub: send of a Submit failed");
  }
}

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
