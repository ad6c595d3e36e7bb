// gridhub-ops: the live operations page. Parses arguments, loads config and the world folder,
// runs the service until SIGINT/SIGTERM.
#include <CLI/CLI.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <spdlog/spdlog.h>

#include <iostream>
#include <optional>

#include "gridhub/common/clock.hpp"
#include "gridhub/common/logging.hpp"
#include "gridhub/ops/config.hpp"
#include "gridhub/ops/service.hpp"
#include "gridhub/ops/world.hpp"

int main(int argc, char** argv) {
  CLI::App app{"gridhub-ops: the live operations page for the command centre (a read-only subscriber of the hub)"};
  std::string config_file;
  std::string listen;
  app.add_option("-c,--config", config_file, "configuration (TOML, an [ops] table)")->required()->check(CLI::ExistingFile);
  app.add_option("--listen", listen, "overrides ops.listen (host:port; port 0 = any free port)");
  CLI11_PARSE(app, argc, argv);

  gridhub::ops::OpsConfig cfg;
  std::optional<gridhub::ops::World> world;
  try {
    cfg = gridhub::ops::load_ops_config(config_file);
    if (!listen.empty()) cfg.listen = listen;
    gridhub::logging::setup("gridhub-ops", cfg.log_level, cfg.log_format);
  } catch (const std::exception& e) {
    std::cerr << "gridhub-ops: " << e.what() << "\n";
    return 2;
  }
  auto w = gridhub::ops::load_world(cfg.world_dir);
  if (!w) {
    std::cerr << "gridhub-ops: ops.world_dir: " << w.error().detail << "\n";
    return 2;
  }
  spdlog::info("ops: world {}: {} grids, {} communities, {} departments", cfg.world_dir.string(), w.value().grids.size(),
               w.value().communities.size(), w.value().departments.size());

  boost::asio::io_context io;
  gridhub::SystemClock clock;
  gridhub::ops::OpsService service(io, cfg, std::move(w.value()), clock);
  if (auto st = service.start(); !st) {
    std::cerr << "gridhub-ops: cannot start: " << st.error().detail << "\n";
    return st.error().code == gridhub::Errc::config_invalid ? 2 : 1;
  }
  std::cout << service.ready_line() << std::endl;
  spdlog::info("{}", service.ready_line());

  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int) {
    if (ec) return;
    spdlog::info("ops: stopping");
    service.stop();   // the stream's last acknowledgement, then the page closes; io.run() returns
  });
  io.run();
  return service.refused() ? 1 : 0;
}
