#include "gridhub/adapter/http_adapter.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <spdlog/spdlog.h>

#include <iostream>
#include <limits>

#include "gridhub/adapter/hub_delivery.hpp"
#include "gridhub/adapter/outbox.hpp"

namespace gridhub::adapter {

int run_http_adapter(const AdapterConfig& acfg, const HttpServerOptions& http, int utc_offset_minutes,
                     const InstallRoutes& install, SenderRetries senders) {
  SystemClock clock;
  const bool overflow = senders == SenderRetries::kCannotRetry;
  // A sender that cannot retry gets no count bound in the outbox: the intake alerts beyond
  // max_pending and refuses only at the disk bound.
  auto outbox = Outbox::open(acfg.outbox, overflow ? std::numeric_limits<std::size_t>::max() : acfg.max_pending, clock);
  if (!outbox) {
    spdlog::critical("cannot open outbox: {}", outbox.error().message());
    return 1;
  }
  boost::asio::io_context io;
  Metrics metrics;
  AdapterCounters counters(metrics);
  HubDelivery delivery(outbox.value(), acfg.client, counters);
  IntakeOptions io_opts;
  io_opts.adapter_id = acfg.id;
  io_opts.utc_offset_minutes = utc_offset_minutes;
  io_opts.retry_after = acfg.retry_after;
  io_opts.overflow = overflow;
  io_opts.soft_bound = acfg.max_pending;
  io_opts.min_free_bytes = acfg.min_free_disk_bytes;
  HttpIntake intake(io, outbox.value(), clock, counters, io_opts, &delivery);
  HttpServer server(io, http, &metrics);
  zmq::context_t zmq(1);   // the lookups' socket; delivery has its own thread and context
  HubLookup lookup(io, zmq, acfg.client);
  HttpAdapterParts parts{intake, counters, server, clock, lookup};
  std::string describe;
  auto routes = install(parts, describe);
  if (auto s = server.start(); !s) {
    spdlog::critical("{}", s.error().message());
    return 1;
  }
  delivery.start();
  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int sig) {
    if (ec) return;
    spdlog::info("signal {}: stopping; pending events stay in the outbox {}", sig, acfg.outbox.string());
    server.stop();
    lookup.stop();
  });
  std::cout << server.ready_line() << std::endl;
  if (overflow) {
    spdlog::info("{} ({}, outbox alerts beyond {} pending, refuses below {} MiB free disk)", server.ready_line(), describe,
                 acfg.max_pending, acfg.min_free_disk_bytes >> 20);
  } else {
    spdlog::info("{} ({}, outbox bound {})", server.ready_line(), describe, acfg.max_pending);
  }
  io.run();
  delivery.stop();
  spdlog::info("stopped");
  return 0;
}

}  // namespace gridhub::adapter
