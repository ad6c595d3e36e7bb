#pragma once
/// The hub: the event log, the ingest endpoint and the stream endpoint wired on one io_context.

#include <boost/asio/io_context.hpp>

#include <functional>
#include <memory>

#include "gridhub/common/clock.hpp"
#include "gridhub/core/hub_config.hpp"
#include "gridhub/v1/wire.pb.h"

namespace gridhub::core {

class Hub {
 public:
  /// Opens the log and binds every endpoint; throws (with a message naming what failed) at start-up.
  Hub(boost::asio::io_context& io, const HubConfig& config, const Clock& clock);
  ~Hub();

  void start();
  /// Orderly stop: no new events, commit and ack what was received, close the endpoints; then `done`.
  void stop(std::function<void()> done);

  /// Re-reads the config file's pipeline and reference data; swaps it in only if all of it is valid
  /// (io thread: SIGHUP handler or `gridhubctl reload`). Logged and counted either way.
  gridhub::v1::ReloadReply reload();
  std::uint64_t reloads() const;
  std::uint64_t reload_failures() const;

  /// Test hook (io thread only): runs the SLA watcher's check now instead of at its timer, which
  /// re-arms at most every 60 s of steady time — so a test that moved its fake Clock escalates at once.
  /// No-op without [sla].
  void check_sla_now();

  /// The hub's metrics in the Prometheus text format (io thread; gridhub/core/hub_metrics.hpp).
  std::string render_metrics();
  /// "" once started and while the last commit succeeded; otherwise why the hub is not ready
  /// (draining, commit failing). Any thread.
  std::string not_ready() const;

  const std::vector<std::string>& ingest_endpoints() const;
  const std::vector<std::string>& stream_endpoints() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace gridhub::core
