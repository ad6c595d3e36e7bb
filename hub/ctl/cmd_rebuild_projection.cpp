// gridhubctl rebuild-projection: recompute the tickets table from the log (hub stopped).
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>

#include "command.hpp"
#include "gridhub/common/progress.hpp"
#include "gridhub/log/event_log.hpp"

namespace gridhub::ctl {
namespace {

int run_rebuild_projection(const std::string& db) {
  auto progress = gridhub::Progress::on_terminal(stderr, "rebuild-projection");
  auto n = gridhub::log::rebuild_projection(db, &progress);
  if (!n) {
    std::cerr << "gridhubctl: " << n.error().message() << "\n";
    return 1;
  }
  std::cout << "rebuilt " << n.value() << " tickets from the log\n";
  return 0;
}

}  // namespace

void add_rebuild_projection(CLI::App& app, Context& ctx) {
  auto db = std::make_shared<std::string>();
  auto* rebuild = app.add_subcommand("rebuild-projection", "recompute the tickets table from the log (hub stopped)");
  rebuild->add_option("--db", *db, "the hub's log database")->required()->check(CLI::ExistingFile);
  ctx.on_run(rebuild, [db] { return run_rebuild_projection(*db); });
}

}  // namespace gridhub::ctl
