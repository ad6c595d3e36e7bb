#pragma once
/// The whole life of an HTTP adapter process (`gridhub-wechat serve`, `gridhub-webform serve`): open the
/// outbox, start delivery to the hub beside the io_context, serve HTTP with /metrics, print the READY
/// line, stop on SIGINT/SIGTERM leaving pending events in the outbox. A channel adds only its routes.

#include <functional>
#include <memory>
#include <string>

#include "gridhub/adapter/adapter_config.hpp"
#include "gridhub/adapter/http_intake.hpp"
#include "gridhub/adapter/http_server.hpp"
#include "gridhub/adapter/hub_lookup.hpp"
#include "gridhub/adapter/metrics.hpp"
#include "gridhub/common/clock.hpp"

namespace gridhub::adapter {

/// What a channel's routes are built on.
struct HttpAdapterParts {
  HttpIntake& intake;
  AdapterCounters& counters;
  HttpServer& server;
  const Clock& clock;
  HubLookup& lookup;   // residents' progress lookups (docs/residents.md)
};

/// Installs the channel's routes on `parts.server`; returns whatever must live while the server runs
/// (its endpoint objects) and sets `describe` to the start-up log line's details.
using InstallRoutes = std::function<std::shared_ptr<void>(HttpAdapterParts& parts, std::string& describe)>;

/// Whether the channel's senders resend after an error answer. Browsers, form builders and Open311
/// clients do (kRetry: a full outbox answers 503 + Retry-After); WeChat does not (kCannotRetry: the
/// outbox keeps accepting beyond adapter.max_pending and alerts, up to adapter.min_free_disk_mb).
enum class SenderRetries { kRetry, kCannotRetry };

/// Runs until SIGINT/SIGTERM; the process exit code (0 stopped, 1 outbox or listen failure).
int run_http_adapter(const AdapterConfig& acfg, const HttpServerOptions& http, int utc_offset_minutes,
                     const InstallRoutes& install, SenderRetries senders = SenderRetries::kRetry);

}  // namespace gridhub::adapter
