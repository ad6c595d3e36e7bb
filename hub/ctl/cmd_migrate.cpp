// gridhubctl migrate: copy a SQLite log into the JetStream stream a hub config names, verified
// (docs/jetstream.md, "Migrating a SQLite log").
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>

#include "command.hpp"
#include "gridhub/common/clock.hpp"
#include "gridhub/core/hub_config.hpp"
#include "gridhub/log/jetstream_event_log.hpp"

namespace gridhub::ctl {
namespace {

struct MigrateArgs {
  std::string config;
  std::string db;
};

/// Exit 0 copied and verified; 2 usage or config; 1 the copy failed (the message says where).
int run_migrate(const MigrateArgs& a) {
  namespace fs = std::filesystem;
  gridhub::core::HubConfig cfg;
  try {
    cfg = gridhub::core::load_hub_config(a.config);
  } catch (const std::exception& e) {
    std::cerr << "gridhubctl: " << e.what() << "\n";
    return 2;
  }
  if (!cfg.jetstream) {
    std::cerr << "gridhubctl: migrate: " << a.config << " has no [log] backend = \"jetstream\" to copy into\n";
    return 2;
  }
  const fs::path from = a.db.empty() ? cfg.log_db : fs::path(a.db);
  if (std::error_code ec; !fs::is_regular_file(from, ec)) {
    std::cerr << "gridhubctl: migrate: " << from.string() << ": no such log file\n";
    return 2;
  }
  const gridhub::SystemClock clock;
  auto r = gridhub::log::migrate_to_jetstream(from, *cfg.jetstream, from.parent_path(), clock);
  if (!r) {
    std::cerr << "gridhubctl: migrate failed: " << r.error().message() << "\n";
    return 1;
  }
  std::printf("migrated %llu records and %llu personal-data keys from %s into stream %s; read back from the stream, "
              "identical\n",
              static_cast<unsigned long long>(r->records), static_cast<unsigned long long>(r->keys), from.c_str(),
              cfg.jetstream->stream.c_str());
  return 0;
}

}  // namespace

void add_migrate(CLI::App& app, Context& ctx) {
  auto a = std::make_shared<MigrateArgs>();
  auto* cmd = app.add_subcommand("migrate", "copy a SQLite log into the JetStream stream of a hub config (hub stopped), "
                                            "verified by reading it back");
  cmd->add_option("-c,--config", a->config, "the hub's config with [log] backend = \"jetstream\"")->required();
  cmd->add_option("--db", a->db, "the SQLite log to copy (default: the config's hub.log_db, which then is the replica)");
  ctx.on_run(cmd, [a] { return run_migrate(*a); });
}

}  // namespace gridhub::ctl
