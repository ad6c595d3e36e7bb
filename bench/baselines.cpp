// The raw parts the hub is built from, measured the way the project baseline notes (docs/performance.md) describe, so the hub's
// figures can be read as ratios taken in the same run.
#include "bench.hpp"

#include <fmt/format.h>
#include <nats/nats.h>
#include <zmq.hpp>

#include <signal.h>

#include <array>
#include <atomic>
#include <csignal>
#include <fstream>
#include <functional>
#include <memory>
#include <random>
#include <string_view>

#include "gridhub/sqlite/sqlite.hpp"

namespace gridhub::bench {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_between(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double>(b - a).count(); }

std::string random_bytes(std::size_t n, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng() & 0xff);
  return s;
}

}  // namespace

// ---- ZeroMQ DEALER -> ROUTER ----

double zmq_dealer_router_rate(const Paths& paths, const Sizes& sizes) {
  const std::size_t n = sizes.zmq_messages;
  zmq::context_t ctx(1);
  zmq::socket_t router(ctx, zmq::socket_type::router);
  router.set(zmq::sockopt::linger, 0);
  // Only a dead sender makes a receive wait this long; it turns a hang into an error.
  router.set(zmq::sockopt::rcvtimeo, 20000);
  router.bind("tcp://127.0.0.1:*");
  const std::string endpoint = router.get(zmq::sockopt::last_endpoint);

  // The sender is this executable again, in its hidden sender mode: a separate process with its own
  // context, as an adapter is.
  Child sender({paths.self_exe.string(), "--zmq-sender", endpoint, "--zmq-sender-count", std::to_string(n),
                "--zmq-sender-bytes", std::to_string(sizes.payload_bytes)},
               paths.work_dir / "zmq-sender.log", Child::Output::kToLog);

  zmq::message_t id;
  zmq::message_t body;
  Clock::time_point first;
  Clock::time_point last;
  for (std::size_t i = 0; i < n; ++i) {
    if (!router.recv(id) || !router.recv(body)) {
      throw BenchError(fmt::format("zmq: received {} of {} messages, then nothing for 20 s", i, n));
    }
    if (body.size() != sizes.payload_bytes) throw BenchError(fmt::format("zmq: message of {} bytes", body.size()));
    last = Clock::now();
    if (i == 0) first = last;
  }
  if (const int code = sender.wait(); code != 0) throw BenchError(fmt::format("zmq sender exited with {}", code));
  return static_cast<double>(n - 1) / seconds_between(first, last);
}

int run_zmq_sender(const std::string& endpoint, std::size_t count, std::size_t bytes) {
  try {
    zmq::context_t ctx(1);
    zmq::socket_t dealer(ctx, zmq::socket_type::dealer);
    dealer.set(zmq::sockopt::linger, -1);  // close() returns only after everything reached the receiver
    dealer.connect(endpoint);
    const std::string payload = random_bytes(bytes, 7);
    for (std::size_t i = 0; i < count; ++i) (void)dealer.send(zmq::buffer(payload), zmq::send_flags::none);
    dealer.close();
    ctx.close();
    return 0;
  } catch (const zmq::error_t& e) {
    fmt::print(stderr, "zmq sender: {}\n", e.what());
    return 1;
  }
}

// ---- SQLite WAL ----

double sqlite_insert_rate(const std::filesystem::path& dir, bool full_sync, std::size_t batch, double seconds,
                          std::size_t payload_bytes) {
  auto check = [](const Status& s) {
    if (!s) throw BenchError("sqlite: " + s.error().message());
  };
  auto db = sqlite::Database::open(dir / "events.db", sqlite::OpenMode::kReadWrite);
  if (!db) throw BenchError("sqlite: " + db.error().message());
  auto mode = db->query_text("PRAGMA journal_mode=WAL");
  if (!mode || mode.value() != "wal") throw BenchError("sqlite: cannot switch to WAL");
  check(db->exec(full_sync ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL"));
  check(db->exec("CREATE TABLE events(seq INTEGER PRIMARY KEY, ts INTEGER, kind TEXT, payload BLOB)"));
  auto insert = db->prepare("INSERT INTO events(seq, ts, kind, payload) VALUES(?,?,?,?)");
  if (!insert) throw BenchError("sqlite: " + insert.error().message());

  constexpr std::array<std::string_view, 4> kKinds = {"intake_accepted", "ticket_routed", "ticket_updated",
                                                      "dead_letter"};
  const std::string payload = random_bytes(payload_bytes, 11);
  std::int64_t seq = 0;
  const auto start = Clock::now();
  auto now = start;
  do {
    sqlite::Transaction tx(db.value());
    check(tx.begun());
    const std::int64_t ts = std::chrono::duration_cast<std::chrono::microseconds>(
                                std::chrono::system_clock::now().time_since_epoch()).count();
    for (std::size_t i = 0; i < batch; ++i) {
      ++seq;
      insert->bind(1, seq).bind(2, ts).bind(3, kKinds[static_cast<std::size_t>(seq) % kKinds.size()]).bind_blob(4, payload);
      check(insert->run());
    }
    check(tx.commit());
    now = Clock::now();
  } while (seconds_between(start, now) < seconds);
  return static_cast<double>(seq) / seconds_between(start, now);
}

// ---- NATS JetStream ----

namespace {

struct NatsDeleter {
  void operator()(natsConnection* nc) const { natsConnection_Destroy(nc); }
  void operator()(jsCtx* js) const { jsCtx_Destroy(js); }
  void operator()(jsStreamInfo* si) const { jsStreamInfo_Destroy(si); }
};
template <class T>
using NatsPtr = std::unique_ptr<T, NatsDeleter>;

void check_nats(natsStatus s, const char* what) {
  if (s != NATS_OK) {
    const char* detail = nats_GetLastError(nullptr);
    throw BenchError(fmt::format("nats: {}: {} ({})", what, natsStatus_GetText(s), detail ? detail : ""));
  }
}

void count_publish_error(jsCtx*, jsPubAckErr*, void* closure) {
  static_cast<std::atomic<std::uint64_t>*>(closure)->fetch_add(1, std::memory_order_relaxed);
}

}  // namespace

namespace {

/// Connects (retrying while a node's listener comes up: connection refused fails at once, so the retries
/// cost no time) and returns the connection.
NatsPtr<natsConnection> connect_nats(const std::string& urls, const std::function<bool()>& alive) {
  natsConnection* raw_nc = nullptr;
  natsStatus st = NATS_NO_SERVER;
  for (int attempt = 0; attempt < 50 && st != NATS_OK && alive(); ++attempt) {
    st = natsConnection_ConnectTo(&raw_nc, urls.c_str());
  }
  check_nats(st, "connect");
  return NatsPtr<natsConnection>(raw_nc);
}

/// Async publish of `n` messages of the payload size into a fresh file stream of `replicas` copies;
/// msgs/s until js_PublishAsyncComplete returned, the stream checked to hold them all.
double publish_async_rate(natsConnection* nc, const Sizes& sizes, std::size_t n, const std::string& stream,
                          const std::string& subject, int replicas) {
  std::atomic<std::uint64_t> publish_errors{0};
  jsOptions jo;
  jsOptions_Init(&jo);
  jo.PublishAsync.MaxPending = sizes.nats_max_pending;
  jo.PublishAsync.StallWait = 30000;   // a full window waits for acks (a busy box, an R3 round) rather than failing
  jo.PublishAsync.ErrHandler = count_publish_error;
  jo.PublishAsync.ErrHandlerClosure = &publish_errors;
  jo.Wait = 5000;
  jsCtx* raw_js = nullptr;
  check_nats(natsConnection_JetStream(&raw_js, nc, &jo), "jetstream context");
  NatsPtr<jsCtx> js(raw_js);

  const char* subjects[] = {subject.c_str()};
  jsStreamConfig sc;
  jsStreamConfig_Init(&sc);
  sc.Name = stream.c_str();
  sc.Subjects = subjects;
  sc.SubjectsLen = 1;
  sc.Storage = js_FileStorage;
  sc.Replicas = replicas;
  jsStreamInfo* raw_si = nullptr;
  jsErrCode jerr{};
  // A cluster that has just elected its metadata leader may leave the first requests unanswered: the
  // creation is asked again (an existing stream of the same config is not an error).
  natsStatus added = NATS_TIMEOUT;
  for (int attempt = 0; attempt < 6 && added == NATS_TIMEOUT; ++attempt) {
    added = js_AddStream(&raw_si, js.get(), &sc, nullptr, &jerr);
  }
  check_nats(added, "add stream");
  jsStreamInfo_Destroy(raw_si);

  const std::string payload = random_bytes(sizes.payload_bytes, 13);
  const auto start = Clock::now();
  for (std::size_t i = 0; i < n; ++i) {
    check_nats(js_PublishAsync(js.get(), subjects[0], payload.data(), static_cast<int>(payload.size()), nullptr),
               "publish async");
  }
  jsPubOptions po;
  jsPubOptions_Init(&po);
  po.MaxWait = 120000;
  check_nats(js_PublishAsyncComplete(js.get(), &po), "publish async complete");
  const auto end = Clock::now();

  raw_si = nullptr;
  check_nats(js_GetStreamInfo(&raw_si, js.get(), stream.c_str(), nullptr, &jerr), "stream info");
  NatsPtr<jsStreamInfo> info(raw_si);
  if (publish_errors.load() != 0 || info->State.Msgs != n) {
    throw BenchError(fmt::format("nats: stream {} holds {} of {} messages, {} publish errors", stream, info->State.Msgs,
                                 n, publish_errors.load()));
  }
  return static_cast<double>(n) / seconds_between(start, end);
}

}  // namespace

double jetstream_async_rate(const Paths& paths, const Sizes& sizes, const std::filesystem::path& dir) {
  const int port = free_tcp_port();
  Child server({paths.nats_server.string(), "-js", "-a", "127.0.0.1", "-p", std::to_string(port), "-sd",
                (dir / "store").string()},
               dir / "nats-server.log", Child::Output::kStderrPiped);
  // nats-server logs this line once its client listener accepts connections.
  server.wait_for_line([](const std::string& l) { return l.find("Server is ready") != std::string::npos; },
                       std::chrono::seconds(20));
  // The port could in principle be taken between our probe and the server's bind: then the server exits
  // and the connection attempts fail with its log.
  auto nc = connect_nats(fmt::format("nats://127.0.0.1:{}", port), [&] { return server.running(); });
  const double rate = publish_async_rate(nc.get(), sizes, sizes.nats_messages, "BENCH", "bench.events", 1);
  nc.reset();
  // nats-server exits 1 on SIGTERM even when its shutdown is clean, and 0 on SIGINT.
  if (const int code = server.terminate(SIGINT); code != 0) {
    throw BenchError(fmt::format("nats-server exited with {}; see {}", code, (dir / "nats-server.log").string()));
  }
  return rate;
}

// ---- a three-node JetStream cluster (gridhub-bench --jetstream) ----

NatsCluster::NatsCluster(const Paths& paths, const std::filesystem::path& dir) {
  int client[3];
  int route[3];
  for (int i = 0; i < 3; ++i) {
    client[i] = free_tcp_port();
    route[i] = free_tcp_port();
  }
  std::string routes;
  for (int i = 0; i < 3; ++i) routes += fmt::format("{}\"nats://127.0.0.1:{}\"", i == 0 ? "" : ", ", route[i]);
  for (int i = 0; i < 3; ++i) {
    const auto node = dir / fmt::format("n{}", i + 1);
    std::filesystem::create_directories(node / "store");
    std::ofstream(node / "nats.conf") << fmt::format(
        "server_name: n{}\nlisten: 127.0.0.1:{}\njetstream {{ store_dir: \"{}\" }}\n"
        "cluster {{\n  name: bench\n  listen: 127.0.0.1:{}\n  routes: [ {} ]\n}}\n",
        i + 1, client[i], (node / "store").string(), route[i], routes);
    auto child = std::make_unique<Child>(std::vector<std::string>{paths.nats_server.string(), "-c", (node / "nats.conf").string()},
                                         node / "nats.log", Child::Output::kStderrPiped);
    child->wait_for_line([](const std::string& l) { return l.find("Server is ready") != std::string::npos; },
                         std::chrono::seconds(20));
    nodes_.push_back(std::move(child));
    urls_ += fmt::format("{}nats://127.0.0.1:{}", i == 0 ? "" : ",", client[i]);
  }
}

NatsCluster::~NatsCluster() {
  for (auto& n : nodes_) ::kill(n->pid(), SIGINT);   // all at once: each flushes its store meanwhile
  for (auto& n : nodes_) n->wait();
}

double jetstream_cluster_async_rate(const NatsCluster& cluster, const Sizes& sizes, const std::string& stream) {
  auto nc = connect_nats(cluster.urls(), [] { return true; });
  return publish_async_rate(nc.get(), sizes, sizes.nats_messages, stream, "bench." + stream, 3);
}

}  // namespace gridhub::bench
