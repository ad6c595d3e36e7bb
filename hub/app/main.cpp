// gridhub: the hub process. Parses arguments, loads config, wires the hub, runs the loop.
#include <CLI/CLI.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <functional>
#include <iostream>

#include "gridhub/admin/admin_server.hpp"
#include "gridhub/common/clock.hpp"
#include "gridhub/common/logging.hpp"
#include "gridhub/core/hub.hpp"
#include "gridhub/transport/frames.hpp"

int main(int argc, char** argv) {
  CLI::App app{"gridhub: the civic ticket integration hub"};
  std::string config_file;
  std::string log_level;
  app.add_option("-c,--config", config_file, "hub configuration (TOML)")->required()->check(CLI::ExistingFile);
  app.add_option("--log-level", log_level, "overrides hub.log_level");
  std::string log_format;
  app.add_option("--log-format", log_format, "overrides hub.log_format: text or json (one JSON object per line)")
      ->check(CLI::IsMember({"text", "json"}));
  bool accept_restored_log = false;
  app.add_flag("--accept-restored-log", accept_restored_log,
               "resume from a log that is behind the newest signed checkpoint (a restored backup); adapters then "
               "resend what they were acknowledged after its head (docs/audit.md)");
  CLI11_PARSE(app, argc, argv);

  gridhub::core::HubConfig cfg;
  try {
    cfg = gridhub::core::load_hub_config(config_file);
    gridhub::logging::setup("gridhub", log_level.empty() ? cfg.log_level : log_level,
                            log_format.empty() ? cfg.log_format : log_format);
    // Any peer can make protobuf complain about its frames; that goes through our rate-limited log.
    gridhub::transport::route_library_logging();
    if (accept_restored_log) {
      if (cfg.audit) {
        cfg.audit->accept_restored_log = true;
      } else {
        spdlog::warn("--accept-restored-log: no [audit] in the config, so no checkpoints to be behind of; ignored");
      }
    }
  } catch (const std::exception& e) {
    std::cerr << "gridhub: " << e.what() << "\n";
    return 2;
  }

  boost::asio::io_context io;
  gridhub::SystemClock clock;
  // The admin endpoint first, on its own thread: it answers /healthz and /readyz ("starting") while the
  // hub opens and replays its log. Its line comes before READY, so a supervisor can poll it meanwhile.
  std::unique_ptr<gridhub::admin::AdminServer> admin;
  if (cfg.admin) {
    admin = std::make_unique<gridhub::admin::AdminServer>(*cfg.admin);
    if (auto st = admin->start(); !st) {
      spdlog::critical("cannot start: [admin] {}", st.error().message());
      return 1;
    }
    std::cout << admin->ready_line() << std::endl;
    spdlog::info("{}", admin->ready_line());
  }
  std::unique_ptr<gridhub::core::Hub> hub;
  try {
    hub = std::make_unique<gridhub::core::Hub>(io, cfg, clock);
  } catch (const std::exception& e) {
    spdlog::critical("cannot start: {}", e.what());
    return 1;
  }

  // SIGHUP: reload the pipeline's configuration and reference data (refused, and logged, if invalid).
  boost::asio::signal_set hup(io, SIGHUP);
  std::function<void()> wait_hup = [&] {
    hup.async_wait([&](const boost::system::error_code& ec, int) {
      if (ec) return;
      spdlog::info("SIGHUP: reloading the pipeline");
      (void)hub->reload();
      wait_hup();
    });
  };
  wait_hup();

  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int sig) {
    if (ec) return;
    spdlog::info("signal {}: draining", sig);
    hup.cancel();
    hub->stop([&] { io.stop(); });
  });

  hub->start();
  if (admin) {
    gridhub::core::Hub* h = hub.get();
    admin->attach(
        [&io, h](std::function<void(std::string)> reply) {
          // Counters belong to the io thread: read them there, between two of its handlers.
          boost::asio::post(io, [h, reply = std::move(reply)] { reply(h->render_metrics()); });
        },
        [h] { return h->not_ready(); });
  }
  // The ready line: tests and scripts wait for it instead of sleeping. Endpoints are the bound ones.
  std::string line = "READY ingest=";
  for (std::size_t i = 0; i < hub->ingest_endpoints().size(); ++i) line += (i ? "," : "") + hub->ingest_endpoints()[i];
  line += " stream=";
  for (std::size_t i = 0; i < hub->stream_endpoints().size(); ++i) line += (i ? "," : "") + hub->stream_endpoints()[i];
  std::cout << line << std::endl;
  spdlog::info("{}", line);

  io.run();
  if (admin) admin->detach();
  hub.reset();
  spdlog::info("stopped");
  return 0;
}
