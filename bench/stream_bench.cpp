// The stream figures: a real hub, subscribers speaking the stream protocol over tcp loopback
// (docs/wire-protocol.md), each figure next to the raw read it is built on, measured in the same run.
#include <zmq.h>

#include <fmt/format.h>
#include <zmq.hpp>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <iostream>
#include <mutex>
#include <thread>

#include "bench.hpp"
#include "gridhub/auth/entitlement.hpp"
#include "gridhub/core/record_cache.hpp"
#include "gridhub/core/stream_server.hpp"
#include "gridhub/log/event_log.hpp"
#include "gridhub/log/wire_scan.hpp"
#include "hub_client.hpp"

namespace gridhub::bench {
namespace {

constexpr std::uint32_t kCredit = 10'000;
constexpr std::uint32_t kMaxBatch = 256;   // as gridhubctl subscribe asks
// The hub lets a subscriber hold this much credit; the figures measure the hub, not a small window.
const std::string kStreamToml = "max_credit = 10000\nack_timeout_ms = 60000\nsession_timeout_ms = 60000";

/// Pipelines `events` Submits (indices first..first+events) with the configured window; calls
/// on_ack(index, log_seq) for each ack.
void ingest(HubProcess& hub, const Sizes& sizes, std::size_t first, std::size_t events,
            const std::function<void(std::size_t, std::uint64_t)>& on_ack = {}) {
  zmq::context_t ctx(1);
  zmq::socket_t dealer = connect_dealer(ctx, hub.ingest_endpoint());
  EventMaker maker(sizes.payload_bytes);
  v1::HubToAdapter reply;
  zmq::message_t frame;
  std::size_t sent = 0, acked = 0;
  while (acked < events) {
    while (sent < events && sent - acked < sizes.hub_window) send_submit(dealer, maker.set(first + sent++));
    if (!dealer.recv(frame)) throw BenchError(fmt::format("hub: no ack for {} s", kAckTimeoutMs / 1000));
    if (!reply.ParseFromArray(frame.data(), static_cast<int>(frame.size())) || !reply.has_ack()) {
      throw BenchError("hub: a Submit was not acked");
    }
    ++acked;
    if (on_ack) on_ack(reply.ack().correlation_id() - kCorrelationBase, reply.ack().log_seq());
  }
}

/// One subscriber socket; the caller polls it.
struct Subscriber {
  zmq::socket_t sock;
  std::uint64_t next = 1;      // next seq expected
  std::uint64_t received = 0;
  std::uint32_t consumed = 0;

  Subscriber(zmq::context_t& ctx, const std::string& endpoint) : sock(ctx, zmq::socket_type::dealer) {
    transport::apply_common_options(sock, 64 << 20);
    sock.set(zmq::sockopt::rcvhwm, 0);
    sock.connect(endpoint);
  }
  void send(const v1::SubscriberToHub& m) {
    if (transport::send_dealer(sock, m, false) != transport::SendStatus::kSent) throw BenchError("stream: send failed");
  }
  void subscribe(const std::string& name, v1::StartPoint start, std::uint64_t from_seq, std::uint32_t credit) {
    v1::SubscriberToHub m;
    auto* s = m.mutable_subscribe();
    s->set_name(name);
    s->set_start(start);
    s->set_from_seq(from_seq);
    s->set_credit(credit);
    s->set_max_batch(kMaxBatch);
    send(m);
  }
  void credit(std::uint32_t n) {
    v1::SubscriberToHub m;
    m.mutable_credit()->set_credit(n);
    send(m);
  }
  void ack(std::uint64_t through) {
    v1::SubscriberToHub m;
    m.mutable_acknowledge()->set_through_seq(through);
    send(m);
  }
  /// Receives what is there; calls on_delivery(seq) for each record; returns whether anything came.
  /// Deliveries are read only as far as their seqs (log::wire, no parse or copy of the records): the
  /// figures are the hub's, and a subscriber's own use of a record is its own cost.
  bool drain(v1::HubToSubscriber& in, const std::function<void(std::uint64_t)>& on_delivery) {
    zmq::message_t msg;
    bool any = false;
    auto take = [&](std::string_view delivery) {
      std::uint64_t seq = 0;
      (void)log::wire::for_each_field(delivery, [&](std::uint32_t n, int type, std::uint64_t v, std::string_view) {
        if (n == v1::Delivery::kSeqFieldNumber && type == 0) seq = v;
        return true;
      });
      if (seq != next) throw BenchError(fmt::format("stream: seq {} where {} was due", seq, next));
      next = seq + 1;
      ++received;
      ++consumed;
      if (on_delivery) on_delivery(seq);
    };
    while (sock.recv(msg, zmq::recv_flags::dontwait)) {
      any = true;
      const std::string_view bytes(static_cast<const char*>(msg.data()), msg.size());
      bool records = false;
      const bool ok = log::wire::for_each_field(bytes, [&](std::uint32_t n, int type, std::uint64_t, std::string_view body) {
        if (type != 2) return true;
        if (n == v1::HubToSubscriber::kDeliveryFieldNumber) {
          records = true;
          take(body);
        } else if (n == v1::HubToSubscriber::kDeliveriesFieldNumber) {
          records = true;
          return log::wire::for_each_field(body, [&](std::uint32_t dn, int dt, std::uint64_t, std::string_view d) {
            if (dn == v1::Deliveries::kDeliveriesFieldNumber && dt == 2) take(d);
            return true;
          });
        }
        return true;
      });
      if (!ok) throw BenchError("stream: unparseable frame");
      if (records) continue;
      if (!in.ParseFromArray(msg.data(), static_cast<int>(msg.size()))) throw BenchError("stream: unparseable frame");
      if (in.has_denied()) throw BenchError("stream: denied: " + in.denied().reason());
      if (in.has_session_unknown()) throw BenchError("stream: session_unknown during a run");
    }
    if (consumed >= kCredit / 2) {
      credit(consumed);
      ack(next - 1);
      consumed = 0;
    }
    return any;
  }
};

void wait_subscribed(Subscriber& s, v1::HubToSubscriber& in) {
  zmq::message_t msg;
  s.sock.set(zmq::sockopt::rcvtimeo, 10000);
  if (!s.sock.recv(msg) || !in.ParseFromArray(msg.data(), static_cast<int>(msg.size())) || !in.has_subscribed()) {
    throw BenchError("stream: no Subscribed within 10 s");
  }
  s.sock.set(zmq::sockopt::rcvtimeo, -1);
}

/// Reads every record until `total` arrived; records/s from subscribe to the last.
double catch_up(const std::string& endpoint, const std::string& name, std::uint64_t total) {
  zmq::context_t ctx(1);
  Subscriber s(ctx, endpoint);
  v1::HubToSubscriber in;
  const auto start = Clock::now();
  s.subscribe(name, v1::START_POINT_SEQ, 1, kCredit);
  wait_subscribed(s, in);
  auto last = Clock::now();
  while (s.received < total) {
    zmq_pollitem_t items[] = {{s.sock.handle(), 0, ZMQ_POLLIN, 0}};
    zmq_poll(items, 1, 1000);
    if (s.drain(in, {})) {
      last = Clock::now();
    } else if (Clock::now() - last > std::chrono::seconds(30)) {
      throw BenchError(fmt::format("stream: catch-up stalled at {} of {}", s.received, total));
    } else {
      s.credit(0);
    }
  }
  s.ack(s.next - 1);
  return static_cast<double>(total) / std::chrono::duration<double>(Clock::now() - start).count();
}

/// Records/s of a sequential LogReader read; with `prepare`, each record also becomes the masked
/// Delivery frame a subscriber receives, as the stream server makes it (the hub's ceiling for
/// catch-up on one thread, without sockets).
double reader_rate(const std::filesystem::path& db, std::uint64_t total, bool prepare) {
  auto reader = log::LogReader::open(db);
  if (!reader) throw BenchError("log reader: " + reader.error().message());
  // The fields the hub's stream parses from each ticket: entitlement's and the filters'.
  std::vector<std::string_view> fields(auth::kEntitlementFields.begin(), auth::kEntitlementFields.end());
  fields.insert(fields.end(), core::filter_fields().begin(), core::filter_fields().end());
  core::RecordCache cache(reader.value(), 4096, fields);
  const auto start = Clock::now();
  std::uint64_t next = 1, bytes = 0;
  while (next <= total) {
    auto n = reader->read(next, 4096, [&](std::uint64_t seq, std::string_view body) {
      next = seq + 1;
      bytes += prepare ? cache.frame(cache.get(seq, body), false).size() : body.size();
    });
    if (!n) throw BenchError("log reader: " + n.error().message());
    if (n.value() == 0) break;
  }
  if (next <= total) throw BenchError(fmt::format("log reader: stopped at {} of {}", next, total));
  return static_cast<double>(total) / std::chrono::duration<double>(Clock::now() - start).count();
}

}  // namespace

CatchUpRun stream_catch_up(const Paths& paths, const Sizes& sizes, std::size_t events, const std::filesystem::path& dir) {
  CatchUpRun r;
  r.records = events;
  HubProcess hub(paths, dir, kStreamToml);
  ingest(hub, sizes, 0, events);
  r.stream_per_s = catch_up(hub.stream_endpoint(), "catch-up", events);
  r.raw_read_per_s = reader_rate(hub.db(), events, false);
  r.prepare_per_s = reader_rate(hub.db(), events, true);
  hub.stop();
  return r;
}

namespace {

/// Receipt times are written as nanoseconds of std::chrono::steady_clock since its epoch. On Linux that
/// clock is CLOCK_MONOTONIC, one system-wide clock (time since boot), not a per-process one: a receipt
/// stamped in a subscriber process and a send stamped here are on the same timeline and subtract.
std::int64_t to_ns(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}
Clock::time_point from_ns(std::int64_t ns) { return Clock::time_point(std::chrono::nanoseconds(ns)); }

/// Subscribes every name in `names` (one socket each, sharing this thread) and receives until each has
/// seqs 1..events; `on_ready` runs once all are subscribed; got[k][seq] is subscriber k's receipt time.
void receive_all(const std::string& endpoint, const std::vector<std::string>& names, std::size_t events,
                 std::vector<std::vector<Clock::time_point>>& got, const std::function<void()>& on_ready,
                 const std::atomic<bool>* failed) {
  zmq::context_t ctx(1);
  std::vector<std::unique_ptr<Subscriber>> mine;
  v1::HubToSubscriber in;
  got.assign(names.size(), std::vector<Clock::time_point>(events + 1));
  for (const auto& name : names) {
    mine.push_back(std::make_unique<Subscriber>(ctx, endpoint));
    mine.back()->subscribe(name, v1::START_POINT_SEQ, 1, kCredit);
    wait_subscribed(*mine.back(), in);
  }
  on_ready();
  std::vector<zmq_pollitem_t> items(mine.size());
  auto last = Clock::now();
  for (;;) {
    bool done = true;
    for (auto& s : mine) done = done && s->received >= events;
    if (done || (failed != nullptr && *failed)) break;
    for (std::size_t k = 0; k < mine.size(); ++k) items[k] = {mine[k]->sock.handle(), 0, ZMQ_POLLIN, 0};
    zmq_poll(items.data(), static_cast<int>(items.size()), 200);
    bool any = false;
    for (std::size_t k = 0; k < mine.size(); ++k) {
      auto& times = got[k];
      any |= mine[k]->drain(in, [&](std::uint64_t seq) {
        if (seq <= events) times[seq] = Clock::now();
      });
    }
    if (any) {
      last = Clock::now();
    } else if (Clock::now() - last > std::chrono::seconds(30)) {
      throw BenchError("stream: fan-out stalled");
    } else {
      for (auto& s : mine) s->credit(0);
    }
  }
}

std::vector<std::string> split_names(const std::string& list) {
  std::vector<std::string> names;
  std::size_t from = 0;
  while (from <= list.size()) {
    const auto comma = std::min(list.find(',', from), list.size());
    if (comma > from) names.push_back(list.substr(from, comma - from));
    from = comma + 1;
  }
  return names;
}

/// The subscribers of one fan-out run, wherever they run; fills got[i] for subscriber i.
class SubscriberGroup {
 public:
  virtual ~SubscriberGroup() = default;
  /// Returns once every subscriber is subscribed.
  virtual void wait_ready() = 0;
  /// Returns once every subscriber received every record (or throws).
  virtual void finish(std::vector<std::vector<Clock::time_point>>& got) = 0;
  virtual void abort() = 0;
};

/// In worker processes: this executable again, in its hidden --stream-subscriber-worker mode, so their
/// receiving and parsing is not charged to a process that also paces the sender, and the figure is the
/// hub's (the scheduler still shares the cores among all of them).
class ProcessGroup final : public SubscriberGroup {
 public:
  ProcessGroup(const Paths& paths, const std::string& endpoint, std::size_t subscribers, std::size_t processes,
               std::size_t events, const std::filesystem::path& dir)
      : subscribers_(subscribers), events_(events) {
    processes = std::clamp<std::size_t>(processes, 1, subscribers);
    for (std::size_t p = 0; p < processes; ++p) {
      std::string names;
      std::vector<std::size_t> ids;
      for (std::size_t i = p; i < subscribers; i += processes) {
        names += fmt::format("{}dept-{:02d}", names.empty() ? "" : ",", i);
        ids.push_back(i);
      }
      const auto out = dir / fmt::format("receipts-{}.bin", p);
      workers_.push_back(Worker{std::make_unique<Child>(
                                    std::vector<std::string>{paths.self_exe.string(), "--stream-subscriber-worker", endpoint,
                                                             "--stream-subscriber-names", names, "--stream-subscriber-events",
                                                             std::to_string(events), "--stream-subscriber-out", out.string()},
                                    dir / fmt::format("subscriber-{}.log", p), Child::Output::kStdoutPiped),
                                std::move(ids), out});
    }
  }
  void wait_ready() override {
    for (auto& w : workers_) {
      w.child->wait_for_line([](const std::string& l) { return l == "subscribed"; }, std::chrono::seconds(30));
    }
  }
  void finish(std::vector<std::vector<Clock::time_point>>& got) override {
    got.assign(subscribers_, {});
    for (auto& w : workers_) {
      if (const int code = w.child->wait(); code != 0) throw BenchError(fmt::format("stream subscriber process exited with {}", code));
      std::ifstream in(w.out, std::ios::binary);
      for (const auto id : w.ids) {
        std::vector<std::int64_t> ns(events_ + 1);
        if (!in.read(reinterpret_cast<char*>(ns.data()), static_cast<std::streamsize>(ns.size() * sizeof(std::int64_t)))) {
          throw BenchError(fmt::format("{}: short receipt file", w.out.string()));
        }
        got[id].resize(events_ + 1);
        for (std::size_t seq = 0; seq <= events_; ++seq) got[id][seq] = from_ns(ns[seq]);
      }
    }
  }
  void abort() override { workers_.clear(); }   // Child's destructor kills and reaps

 private:
  struct Worker {
    std::unique_ptr<Child> child;
    std::vector<std::size_t> ids;
    std::filesystem::path out;
  };
  std::size_t subscribers_;
  std::size_t events_;
  std::vector<Worker> workers_;
};

/// In 4 threads of this process (the bench's first form; kept to compare with the processes).
class ThreadGroup final : public SubscriberGroup {
 public:
  ThreadGroup(const std::string& endpoint, std::size_t subscribers, std::size_t events)
      : subscribers_(subscribers), threads_(std::min<std::size_t>(subscribers, 4)), parts_(threads_) {
    for (std::size_t t = 0; t < threads_; ++t) {
      pool_.emplace_back([this, t, endpoint, events] {
        try {
          std::vector<std::string> names;
          for (std::size_t i = t; i < subscribers_; i += threads_) names.push_back(fmt::format("dept-{:02d}", i));
          receive_all(endpoint, names, events, parts_[t], [this, &names] { ready_ += names.size(); }, &failed_);
        } catch (const std::exception& e) {
          std::lock_guard lock(mu_);
          failure_ = e.what();
          failed_ = true;
        }
      });
    }
  }
  ~ThreadGroup() override { abort(); }
  void wait_ready() override {
    while (ready_ < subscribers_ && !failed_) std::this_thread::yield();
    check();
  }
  void finish(std::vector<std::vector<Clock::time_point>>& got) override {
    for (auto& th : pool_) th.join();
    pool_.clear();
    check();
    got.assign(subscribers_, {});
    for (std::size_t t = 0; t < threads_; ++t) {
      for (std::size_t k = 0; k < parts_[t].size(); ++k) got[t + k * threads_] = std::move(parts_[t][k]);
    }
  }
  void abort() override {
    failed_ = true;
    for (auto& th : pool_) th.join();
    pool_.clear();
  }

 private:
  void check() {
    std::lock_guard lock(mu_);
    if (!failure_.empty()) throw BenchError(failure_);
  }
  std::size_t subscribers_;
  std::size_t threads_;
  std::vector<std::vector<std::vector<Clock::time_point>>> parts_;
  std::vector<std::thread> pool_;
  std::atomic<std::size_t> ready_{0};
  std::atomic<bool> failed_{false};
  std::mutex mu_;
  std::string failure_;
};

}  // namespace

int run_stream_subscriber(const std::string& endpoint, const std::string& names, std::size_t events,
                          const std::filesystem::path& out) {
  try {
    std::vector<std::vector<Clock::time_point>> got;
    receive_all(endpoint, split_names(names), events, got, [] { std::cout << "subscribed" << std::endl; }, nullptr);
    std::ofstream file(out, std::ios::binary | std::ios::trunc);
    for (const auto& times : got) {
      std::vector<std::int64_t> ns(times.size());
      for (std::size_t i = 0; i < times.size(); ++i) ns[i] = to_ns(times[i]);
      file.write(reinterpret_cast<const char*>(ns.data()), static_cast<std::streamsize>(ns.size() * sizeof(std::int64_t)));
    }
    file.close();
    if (!file) throw BenchError(fmt::format("{}: cannot write", out.string()));
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "stream subscriber: " << e.what() << "\n";
    return 1;
  }
}

FanOutRun stream_fan_out(const Paths& paths, const Sizes& sizes, std::size_t subscribers, double rate, double seconds,
                         std::size_t processes, const std::filesystem::path& dir) {
  HubProcess hub(paths, dir, kStreamToml);
  const auto events = static_cast<std::size_t>(rate * seconds);
  // Receipt times per subscriber, indexed by seq (a fresh log: the run's events are seqs 1..events).
  std::vector<std::vector<Clock::time_point>> got;
  std::vector<Clock::time_point> sent_at(events), acked_at(events + 1);
  std::vector<std::size_t> index_of(events + 1, 0);
  std::unique_ptr<SubscriberGroup> group;
  if (processes == 0) {
    group = std::make_unique<ThreadGroup>(hub.stream_endpoint(), subscribers, events);
  } else {
    group = std::make_unique<ProcessGroup>(paths, hub.stream_endpoint(), subscribers, processes, events, dir);
  }
  group->wait_ready();
  const auto cpu_before = read_thread_cpu(hub.pid());
  const auto wall_start = Clock::now();
  // Paced sender: the schedule alone decides when an event goes (no coordinated omission).
  try {
    zmq::context_t ctx(1);
    zmq::socket_t dealer = connect_dealer(ctx, hub.ingest_endpoint());
    EventMaker maker(sizes.payload_bytes);
    v1::HubToAdapter reply;
    zmq::message_t frame;
    const auto interval = std::chrono::duration<double>(1.0 / rate);
    const auto start = Clock::now();
    std::size_t sent = 0, acked = 0;
    while (acked < events) {
      for (auto now = Clock::now(); sent < events && start + std::chrono::duration_cast<Clock::duration>(interval * static_cast<double>(sent)) <= now; ++sent) {
        send_submit(dealer, maker.set(sent));
        sent_at[sent] = Clock::now();
      }
      while (dealer.recv(frame, zmq::recv_flags::dontwait)) {
        if (!reply.ParseFromArray(frame.data(), static_cast<int>(frame.size())) || !reply.has_ack()) throw BenchError("hub: not acked");
        const auto seq = reply.ack().log_seq();
        if (seq > events) throw BenchError("hub: seq beyond the run");
        index_of[seq] = reply.ack().correlation_id() - kCorrelationBase;
        acked_at[seq] = Clock::now();
        ++acked;
      }
      zmq_pollitem_t items[] = {{dealer.handle(), 0, ZMQ_POLLIN, 0}};
      zmq_poll(items, 1, 0);
      if (sent < events) std::this_thread::sleep_for(std::chrono::microseconds(50));   // pacing, not synchronisation
    }
    group->finish(got);
  } catch (...) {
    group->abort();
    throw;
  }
  FanOutRun r;
  // Where the hub's time went: each thread's CPU over the run's wall time (1.0 = a saturated core).
  r.wall_s = std::chrono::duration<double>(Clock::now() - wall_start).count();
  for (const auto& t : read_thread_cpu(hub.pid())) {
    double before = 0;
    for (const auto& b : cpu_before) {
      if (b.tid == t.tid) before = b.seconds;
    }
    r.hub_threads.push_back(ThreadCpu{t.tid, t.name, t.seconds - before});
  }
  r.subscribers = subscribers;
  r.processes = processes;
  r.events = events;
  std::vector<double> from_send, from_ack;
  from_send.reserve(subscribers * events);
  for (const auto& times : got) {
    for (std::size_t seq = 1; seq <= events; ++seq) {
      from_send.push_back(std::chrono::duration<double, std::milli>(times[seq] - sent_at[index_of[seq]]).count());
      from_ack.push_back(std::chrono::duration<double, std::milli>(times[seq] - acked_at[seq]).count());
    }
  }
  r.p50_ms = percentile_of(from_send, 0.50);
  r.p99_ms = percentile_of(from_send, 0.99);
  r.max_ms = percentile_of(from_send, 1.0);
  r.ack_to_receipt_p50_ms = percentile_of(from_ack, 0.50);
  r.ack_to_receipt_p99_ms = percentile_of(from_ack, 0.99);
  hub.stop();
  return r;
}

StallRun stream_stalled(const Paths& paths, const Sizes& sizes, std::size_t events, const std::filesystem::path& dir) {
  HubProcess hub(paths, dir, kStreamToml);
  StallRun r;
  r.events = events;
  zmq::context_t ctx(1);
  Subscriber stalled(ctx, hub.stream_endpoint());
  v1::HubToSubscriber in;
  stalled.subscribe("stalled", v1::START_POINT_SEQ, 1, 10);   // takes ten, then never grants again
  wait_subscribed(stalled, in);
  r.before = read_memory(hub.pid());
  std::atomic<bool> done{false};
  std::thread keepalive([&] {
    // Keeps the session (and so the hub's state for it) alive while the backlog grows.
    while (!done) {
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
      stalled.credit(0);
    }
  });
  try {
    ingest(hub, sizes, 0, events);
  } catch (...) {
    done = true;
    keepalive.join();
    throw;
  }
  done = true;
  keepalive.join();
  r.after = read_memory(hub.pid());
  r.catch_up_per_s = catch_up(hub.stream_endpoint(), "stalled", events);
  r.after_catch_up = read_memory(hub.pid());
  hub.stop();
  return r;
}

}  // namespace gridhub::bench
