#include "gridhub/adapter/http_adapter.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <spdlog/spdlog.h>

#include <iostream>

#include "gridhub/adapter/hub_delivery.hpp"
#include "gridhub/adapter/outbox.hpp"

namespace gridhub::adapter {

int run_http_adapter(const AdapterConfig& acfg, const HttpServerOptions& http, int utc_offset_minutes,
                     const InstallRoutes& install) {
  SystemClock clock;
  auto outbox = Outbox::open(acfg.outbox, acfg.max_pending, clock);
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
  HttpIntake intake(io, outbox.value(), clock, counters, io_opts, &delivery);
  HttpServer server(io, http, &metrics);
  HttpAdapterParts parts{intake, counters, server, clock};
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
  });
  std::cout << server.ready_line() << std::endl;
  spdlog::info("{} ({}, outbox bound {})", server.ready_line(), describe, acfg.max_pending);
  io.run();
  delivery.stop();
  spdlog::info("stopped");
  return 0;
}

}  // namespace gridhub::adapter
