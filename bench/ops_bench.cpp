// gridhub-ops-bench: how far the operations page lags behind the log with a county's worth of open
// tickets and a steady stream of updates. The real OpsService (picture, summaries, lib/http's event
// stream) is fed records as its stream thread would feed them; an event-stream client on loopback
// reads every summary and times each update from its hand-over to the service to the first summary
// that includes it. A browser's own redraw of that summary (a few KB of JSON into ~150 DOM nodes) is
// not in the figure.
//
//   gridhub-ops-bench [--tickets 50000] [--rate 100] [--seconds 10] [--push-interval-ms 250]
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <map>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/write.hpp>

#include "gridhub/common/clock.hpp"
#include "gridhub/ops/service.hpp"
#include "gridhub/ops/world.hpp"
#include "gridhub/v1/log.pb.h"

namespace {

namespace v1 = gridhub::v1;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using Steady = std::chrono::steady_clock;

struct Names {
  std::vector<std::string> grids, communities, assignees;
};

std::string record(std::uint64_t seq, const std::string& id, const Names& n, std::mt19937_64& rng, std::int64_t now_us, bool update) {
  v1::LogRecord r;
  r.set_seq(seq);
  r.set_ticket_id(id);
  v1::Ticket* t = update ? r.mutable_ticket_update()->mutable_ticket() : r.mutable_intake_accepted()->mutable_ticket();
  if (update) r.mutable_ticket_update()->set_action(v1::UPDATE_ACTION_ACCEPT);
  const std::size_t g = rng() % n.grids.size();
  t->set_ticket_id(id);
  t->set_status(update ? v1::TICKET_STATUS_ACCEPTED : v1::TICKET_STATUS_ASSIGNED);
  t->set_grid_code(n.grids[g]);
  t->set_community_code(n.communities[g]);
  t->set_assignee_code(n.assignees[rng() % n.assignees.size()]);
  t->set_category_code("0102");
  t->set_tier(v1::TIER_GRID);
  // Due from an hour ago to three days ahead: some breached, most running.
  t->mutable_sla_due()->set_unix_micros(now_us + static_cast<std::int64_t>(rng() % (73ULL * 3600'000'000ULL)) - 3600'000'000LL);
  return r.SerializeAsString();
}

double pct(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())))];
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"gridhub-ops-bench: update-to-page latency of gridhub-ops with many open tickets"};
  std::size_t tickets = 50000;
  double rate = 100;
  double seconds = 10;
  int push_ms = 250;
  std::string world_dir = std::string(GRIDHUB_SOURCE_DIR) + "/examples/wugong/world";
  app.add_option("--tickets", tickets, "open tickets before the run (default 50000)");
  app.add_option("--rate", rate, "updates per second during the run (default 100)")->check(CLI::Range(1.0, 100000.0));
  app.add_option("--seconds", seconds, "length of the run (default 10)")->check(CLI::Range(0.1, 3600.0));
  app.add_option("--push-interval-ms", push_ms, "ops.push_interval_ms (default 250)")->check(CLI::Range(10, 60000));
  app.add_option("--world", world_dir, "the world folder (default examples/wugong/world)");
  CLI11_PARSE(app, argc, argv);

  auto world = gridhub::ops::load_world(world_dir);
  if (!world) {
    std::fprintf(stderr, "gridhub-ops-bench: %s\n", world.error().detail.c_str());
    return 2;
  }
  Names names;
  for (const auto& g : world.value().grids) {
    names.grids.push_back(g.code);
    names.communities.push_back(g.community);
  }
  for (const auto& [code, name] : world.value().departments) names.assignees.push_back(code);
  for (const auto& g : world.value().grids) names.assignees.push_back(g.code);

  net::io_context io;
  gridhub::SystemClock clock;
  gridhub::ops::OpsConfig cfg;
  cfg.listen = "127.0.0.1:0";
  cfg.push_interval_ms = push_ms;
  gridhub::ops::OpsService service(io, cfg, std::move(world.value()), clock);
  if (auto st = service.start(); !st) {
    std::fprintf(stderr, "gridhub-ops-bench: %s\n", st.error().message().c_str());
    return 1;
  }
  const std::string port = service.ready_line().substr(service.ready_line().rfind(':') + 1);
  std::thread io_thread([&] { io.run(); });

  std::mt19937_64 rng(42);
  const std::int64_t now_us = clock.now_micros();
  std::vector<std::string> ids;
  ids.reserve(tickets);
  const auto load_start = Steady::now();
  for (std::size_t i = 0; i < tickets; ++i) {
    ids.push_back("T" + std::to_string(10000000 + i));
    service.deliver(i + 1, record(i + 1, ids.back(), names, rng, now_us, false));
  }

  // The page's event stream, read on this thread's own socket.
  net::io_context cio;
  tcp::socket sock(cio);
  sock.connect({net::ip::make_address("127.0.0.1"), static_cast<unsigned short>(std::stoi(port))});
  net::write(sock, net::buffer(std::string("GET /events HTTP/1.1\r\nHost: bench\r\n\r\n")));
  std::string buf;
  net::read_until(sock, net::dynamic_buffer(buf), "\r\n\r\n");
  buf.erase(0, buf.find("\r\n\r\n") + 4);
  std::mutex mu;
  std::map<std::uint64_t, Steady::time_point> sent;   // seq -> handed over
  std::vector<double> latencies_ms;
  std::atomic<std::uint64_t> seen_seq{0};
  std::size_t summaries = 0;
  std::size_t summary_bytes = 0;
  std::atomic<bool> done{false};
  std::thread reader([&] {
    boost::system::error_code ec;
    while (!done.load()) {
      const std::size_t n = net::read_until(sock, net::dynamic_buffer(buf), "\n\n", ec);
      if (ec) break;
      const std::string event = buf.substr(0, n);
      buf.erase(0, n);
      const auto at = Steady::now();
      const std::size_t p = event.find("\"seq\":");
      if (p == std::string::npos) continue;
      const std::uint64_t seq = std::stoull(event.substr(p + 6));
      std::lock_guard lock(mu);
      ++summaries;
      summary_bytes += event.size();
      for (auto it = sent.begin(); it != sent.end() && it->first <= seq;) {
        latencies_ms.push_back(std::chrono::duration<double, std::milli>(at - it->second).count());
        it = sent.erase(it);
      }
      seen_seq = seq;
    }
  });
  while (seen_seq.load() < tickets) std::this_thread::sleep_for(std::chrono::milliseconds(5));   // the load is applied
  const double load_s = std::chrono::duration<double>(Steady::now() - load_start).count();
  {
    std::lock_guard lock(mu);
    summaries = 0;
    summary_bytes = 0;
  }

  // Updates at `rate` per second: each moves one random ticket (new assignee, grid, due time).
  const auto start = Steady::now();
  const auto every = std::chrono::duration<double>(1.0 / rate);
  std::uint64_t seq = tickets;
  std::size_t updates = 0;
  while (std::chrono::duration<double>(Steady::now() - start).count() < seconds) {
    const auto due = start + std::chrono::duration_cast<Steady::duration>(every * static_cast<double>(updates));
    std::this_thread::sleep_until(due);   // pacing the load generator, not synchronising a test
    std::string rec = record(++seq, ids[rng() % ids.size()], names, rng, now_us, true);
    {
      std::lock_guard lock(mu);
      sent.emplace(seq, Steady::now());
    }
    service.deliver(seq, std::move(rec));
    ++updates;
  }
  const auto drain_deadline = Steady::now() + std::chrono::seconds(30);
  while (seen_seq.load() < seq && Steady::now() < drain_deadline) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  done = true;
  boost::system::error_code ignored;
  sock.shutdown(tcp::socket::shutdown_both, ignored);
  reader.join();
  net::post(io, [&] { service.stop(); });
  io_thread.join();

  std::lock_guard lock(mu);
  std::printf("ops page: %zu open tickets loaded and summarised in %.2f s; %zu updates at %.0f/s over %.1f s, push interval %d ms\n",
              tickets, load_s, updates, rate, seconds, push_ms);
  std::printf("  update -> summary at the page's event stream: p50 %.1f ms, p99 %.1f ms, max %.1f ms (%zu timed, %zu not seen)\n",
              pct(latencies_ms, 0.5), pct(latencies_ms, 0.99), pct(latencies_ms, 1.0), latencies_ms.size(), sent.size());
  std::printf("  summaries sent: %zu (%.1f/s), %.1f KB each\n", summaries, static_cast<double>(summaries) / seconds,
              summaries == 0 ? 0.0 : static_cast<double>(summary_bytes) / static_cast<double>(summaries) / 1024.0);
  return sent.empty() ? 0 : 1;
}
