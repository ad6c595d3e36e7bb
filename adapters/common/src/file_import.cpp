#include "gridhub/adapter/file_import.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <csignal>
#include <iostream>

#include <thread>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include "gridhub/adapter/event_bounds.hpp"
#include "gridhub/adapter/http_server.hpp"
#include "gridhub/adapter/hub_client.hpp"

namespace gridhub::adapter {

namespace {

std::atomic<bool> g_stop{false};
extern "C" void on_stop_signal(int) { g_stop = true; }

}  // namespace

const std::atomic<bool>& install_stop_signals() {
  std::signal(SIGINT, on_stop_signal);
  std::signal(SIGTERM, on_stop_signal);
  return g_stop;
}

/// GET /metrics for a file import: its own io_context on its own thread, so the importer's
/// synchronous parse and drain never wait on HTTP.
class MetricsServer {
 public:
  MetricsServer(Metrics& metrics, std::string listen) : server_(io_, HttpServerOptions{.listen = std::move(listen)}, &metrics) {}
  ~MetricsServer() {
    boost::asio::post(io_, [this] { server_.stop(); });
    if (thread_.joinable()) thread_.join();
  }
  Status start() {
    if (auto s = server_.start(); !s) return s;
    std::cout << server_.ready_line() << std::endl;
    thread_ = std::thread([this] { io_.run(); });
    return Ok{};
  }

 private:
  boost::asio::io_context io_;
  HttpServer server_;
  std::thread thread_;
};

FileImporter::FileImporter(AdapterConfig config, const Clock& clock, int utc_offset_minutes)
    : config_(std::move(config)), clock_(clock), utc_offset_minutes_(utc_offset_minutes) {}

FileImporter::~FileImporter() = default;

bool FileImporter::open() {
  auto ob = Outbox::open(config_.outbox, config_.max_pending, clock_);
  if (!ob) {
    spdlog::critical("cannot open outbox: {}", ob.error().message());
    return false;
  }
  outbox_.emplace(std::move(ob.value()));
  if (!config_.metrics_listen.empty()) {
    auto* outbox = &*outbox_;
    metrics_.gauge_fn("gridhub_adapter_outbox_pending", "events in the outbox not yet acknowledged by the hub", [outbox] {
      auto n = outbox->pending_count();
      return n ? static_cast<double>(n.value()) : -1.0;
    });
    metrics_server_ = std::make_unique<MetricsServer>(metrics_, config_.metrics_listen);
    if (auto s = metrics_server_->start(); !s) {
      spdlog::critical("adapter.metrics_listen: {}", s.error().message());
      return false;
    }
  }
  return true;
}

FileOutcome FileImporter::add(const std::string& file, Result<std::vector<gridhub::v1::Event>> parsed) {
  ++files_;
  FileOutcome outcome;
  outcome.file = file;
  if (!parsed) {
    spdlog::error("{}", parsed.error().message());
    ++file_errors_;
    outcome.error = parsed.error().message();
    return outcome;
  }
  auto& events = parsed.value();
  const auto now = clock_.now_micros();
  std::size_t rejected = 0;
  for (auto& ev : events) {
    bound_event(ev, config_.client.max_frame_bytes);
    ev.set_adapter_id(config_.id);
    ev.mutable_received_at()->set_unix_micros(now);
    ev.mutable_received_at()->set_utc_offset_minutes(utc_offset_minutes_);
  }
  auto results = outbox_->enqueue(events);
  if (!results) {
    spdlog::critical("outbox {}: {}; {} is not imported — run again", config_.outbox.string(), results.error().message(), file);
    ++file_errors_;
    outcome.retry = true;
    outcome.error = results.error().message();
    return outcome;
  }
  rows_ += events.size();
  outcome.records = events.size();
  for (std::size_t i = 0; i < events.size(); ++i) {
    if (events[i].has_rejection()) {
      const auto& r = events[i].rejection();
      outcome.rejected.push_back({r.location(), r.reason_code(), r.field(), r.detail()});
    }
    switch (results.value()[i]) {
      case EnqueueResult::kQueued:
        ++outcome.queued;
        if (events[i].has_rejection()) {
          const auto& r = events[i].rejection();
          ++rejected_[r.reason_code()];
          counters_.rejected(r.reason_code()).inc();
          ++rejected;
          spdlog::warn("{}: rejected ({} in '{}'): {}", r.location(), r.reason_code(), r.field(), r.detail());
        }
        break;
      case EnqueueResult::kCorrected:
        ++corrected_;
        ++outcome.corrected;
        spdlog::info("{}: record {} replaces an earlier version that made no ticket (rejected or refused); sending it",
                     file, events[i].source_key());
        break;
      case EnqueueResult::kAlreadyKnown:
        ++already_known_;
        ++outcome.already_known;
        counters_.duplicates_outbox.inc();
        break;
      case EnqueueResult::kFull:
        ++outbox_full_;
        outcome.retry = true;
        counters_.refused_outbox_full.inc();
        break;
    }
  }
  // Counted after the per-record outcomes, so a scrape that sees them received sees their rejections.
  counters_.received.inc(events.size());
  spdlog::info("{}: {} records, {} rejected", file, events.size(), rejected);
  return outcome;
}

int FileImporter::finish(bool json, const std::atomic<bool>& stop) {
  if (outbox_full_ > 0) {
    spdlog::error("outbox full: {} records were not taken (adapter.max_pending = {}); they stay in their files — "
                  "import them again once the hub has caught up", outbox_full_, config_.max_pending);
  }
  zmq::context_t zmq(1);
  HubClient client(zmq, *outbox_, config_.client, &counters_);
  auto stats = client.drain([&] { return !stop.load(); });
  if (!stats) {
    spdlog::critical("outbox {}: {}", config_.outbox.string(), stats.error().message());
    return 1;
  }
  auto pending = outbox_->pending_count();
  const std::size_t left = pending ? pending.value() : 0;
  std::map<std::string, std::size_t> all = rejected_;
  for (const auto& [k, v] : stats->refused) all["hub_" + k] += v;
  if (json) {
    std::string rej;
    for (const auto& [k, v] : all) rej += fmt::format("{}\"{}\":{}", rej.empty() ? "" : ",", k, v);
    std::cout << fmt::format(
                     "{{\"files\":{},\"file_errors\":{},\"rows\":{},\"sent\":{},\"already_known\":{},\"corrected\":{},\"dead_lettered\":{},"
                     "\"outbox_full\":{},\"pending\":{},\"reconnects\":{},\"unreachable_waits\":{},\"resent_after_restore\":{},"
                     "\"rejected\":{{{}}}}}",
                     files_, file_errors_, rows_, stats->accepted, already_known_ + stats->duplicates,
                     corrected_, stats->dead_lettered, outbox_full_, left, stats->reconnects, stats->unreachable_waits,
                     stats->resent_after_restore, rej)
              << std::endl;
  } else {
    std::size_t rejected = 0;
    for (const auto& [k, v] : rejected_) rejected += v;
    std::cout << fmt::format("files {} ({} unreadable), rows {}\n", files_, file_errors_, rows_);
    std::cout << fmt::format("sent {} new, already known {}, rejected {}", stats->accepted,
                             already_known_ + stats->duplicates, rejected);
    for (const auto& [k, v] : rejected_) std::cout << fmt::format(" [{} {}]", k, v);
    for (const auto& [k, v] : stats->refused) std::cout << fmt::format(" [hub refused {} {}]", k, v);
    std::cout << "\n";
    if (!stats->refused.empty()) {
      std::cout << "events the hub refused for good are not sent again; fix their source records and import again\n";
    }
    if (corrected_ > 0) {
      std::cout << fmt::format("{} corrected records re-sent after an earlier rejection or refusal\n", corrected_);
    }
    if (stats->resent_after_restore > 0) {
      std::cout << fmt::format("{} events acknowledged before were sent again: the hub's log no longer held them "
                               "(restored from a backup)\n", stats->resent_after_restore);
    }
    if (left > 0) std::cout << fmt::format("{} events still pending in the outbox (sent on the next run)\n", left);
  }
  if (left > 0) return 3;
  if (file_errors_ > 0) return 1;
  // Refused for good (too large, invalid): final, never resent — the operator has to look.
  return stats->refused.empty() ? 0 : 4;
}

}  // namespace gridhub::adapter
