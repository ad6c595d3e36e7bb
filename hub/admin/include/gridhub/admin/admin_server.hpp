#pragma once
/// The hub's admin endpoint: Prometheus metrics and health over HTTP, for dashboards and supervisors.
///
///   GET /healthz   200 "ok" while the process answers at all
///   GET /readyz    200 "ready" once the hub has started (log open and replayed, every endpoint bound) and
///                  its last commit succeeded; 503 with the reason otherwise (starting, draining, commit failed)
///   GET /metrics   the hub's metrics in the Prometheus text format 0.0.4 (gridhub/core/hub_metrics.hpp);
///                  503 while the hub is starting
///
/// It runs its own io_context on its own thread, started before the hub opens its log: so it answers
/// /healthz and /readyz ("starting") while the hub replays, and a scrape never takes the hub's io thread
/// for more than the moment it needs to read its counters, nor the writer thread at all.
///
/// Config keys ([admin], gridhub/core/hub_config.hpp): listen ("127.0.0.1:9464"; off when absent),
/// allow_remote (false: listen must be a loopback address; the endpoint has no authentication).

#include <functional>
#include <memory>
#include <string>

#include "gridhub/common/result.hpp"

namespace gridhub::admin {

struct AdminOptions {
  std::string listen;          // host:port; port 0 = any free port
  bool allow_remote = false;   // false: only a loopback address may be bound
};

/// Throws std::invalid_argument naming what is wrong: not host:port, or not loopback without allow_remote.
void validate(const AdminOptions& options);

class AdminServer {
 public:
  /// Produces the metrics text; calls `reply` exactly once, from any thread.
  using Scrape = std::function<void(std::function<void(std::string)> reply)>;
  /// "" when ready, otherwise why not. Called on the admin thread: read only what is thread-safe.
  using Readiness = std::function<std::string()>;

  explicit AdminServer(AdminOptions options);
  ~AdminServer();   // stops the server and joins its thread
  AdminServer(const AdminServer&) = delete;
  AdminServer& operator=(const AdminServer&) = delete;

  /// Binds and starts the thread. The error names the address.
  Status start();
  /// "ADMIN http=127.0.0.1:PORT": printed once bound, before the hub's READY line.
  std::string ready_line() const;
  unsigned short port() const;

  /// Connects the hub (any thread). Until then, and after detach(), /readyz and /metrics answer 503.
  void attach(Scrape scrape, Readiness readiness);
  void detach();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace gridhub::admin
