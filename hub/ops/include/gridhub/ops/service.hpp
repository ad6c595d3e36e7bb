#pragma once
/// gridhub-ops as objects: the hub's stream (a named, read-only subscription, its own thread) feeds
/// the Picture on the io_context's thread; the page, a JSON summary and the server-sent-events
/// stream are served from there (lib/http). Design: docs/ops-page.md.
///
///   GET /         the page (HTML, CSS, script and the grid map in one document)
///   GET /events   text/event-stream: a "summary" event at once, then one whenever the picture
///                 changed (at most one per ops.push_interval_ms) and at least every 5 s
///   GET /summary  the same JSON once (for scripts and checks)
///   GET /healthz  "ok"

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "gridhub/common/clock.hpp"
#include "gridhub/common/result.hpp"
#include "gridhub/http/server.hpp"
#include "gridhub/ops/config.hpp"
#include "gridhub/ops/picture.hpp"
#include "gridhub/ops/world.hpp"

namespace gridhub::ops {

class OpsService {
 public:
  OpsService(boost::asio::io_context& io, OpsConfig config, World world, const Clock& clock);
  ~OpsService();
  OpsService(const OpsService&) = delete;
  OpsService& operator=(const OpsService&) = delete;

  /// Loads the CURVE key, binds the page, starts the stream. Errors name the key or address.
  Status start();
  /// Stops the stream (its last acknowledgement sent) and closes the page. Idempotent.
  void stop();
  /// "READY http=127.0.0.1:PORT"
  std::string ready_line() const { return http_.ready_line(); }
  /// Set when the hub refused the subscription (the process should exit 1).
  bool refused() const { return refused_; }
  /// One stored log record for the picture, from any thread, in seq order: what the stream thread
  /// does with each delivery. With an empty ops.stream no stream is opened and this is the only
  /// source (the ops bench feeds the service so).
  void deliver(std::uint64_t seq, std::string record);

 private:
  struct Inbox {
    std::mutex mu;
    std::vector<std::pair<std::uint64_t, std::string>> records;
  };

  void run_stream();
  void drain();
  void push(bool force);
  void arm_push();
  void scrape_admin();
  void arm_scrape();
  void save_state();
  void arm_save();

  boost::asio::io_context& io_;
  OpsConfig config_;
  World world_;
  const Clock& clock_;
  Picture picture_;
  std::string page_;
  http::HttpServer http_;
  std::vector<std::shared_ptr<http::EventStream>> streams_;
  boost::asio::steady_timer push_timer_;
  boost::asio::steady_timer scrape_timer_;
  boost::asio::steady_timer save_timer_;
  std::uint64_t saved_version_ = 0;
  std::uint64_t pushed_version_ = 0;
  std::int64_t pushed_at_us_ = 0;
  std::shared_ptr<Inbox> inbox_ = std::make_shared<Inbox>();
  std::atomic<bool> stop_{false};
  std::thread stream_thread_;
  bool refused_ = false;
  bool stopped_ = false;
};

/// The figures of the hub's /metrics that the page shows: the log head, and the dead letters the hub
/// stored since it started (gridhub_hub_ingest_dead_letters_total summed over channel and reason).
struct AdminFigures {
  std::optional<std::uint64_t> head_seq;
  std::optional<std::uint64_t> dead_letters;
};
AdminFigures parse_admin_metrics(std::string_view text);

}  // namespace gridhub::ops
