// gridhubctl backup: a consistent copy of a running hub's log, with its signed checkpoints.
#include <chrono>
#include <cstdio>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "command.hpp"
#include "gridhub/common/progress.hpp"
#include "gridhub/core/hub_config.hpp"
#include "gridhub/log/backup.hpp"
#include "gridhub/log/chain.hpp"
#include "gridhub/log/checkpoint.hpp"

namespace gridhub::ctl {
namespace {

struct BackupArgs {
  std::string hub;
  std::string out;
  std::string checkpoints_dir;
  std::string public_key;
  gridhub::log::BackupMethod method = gridhub::log::BackupMethod::kBackupApi;
};

bool is_endpoint(const std::string& s) { return s.find("://") != std::string::npos; }

/// Exit 0: the backup is complete at OUT; 1: it failed (nothing at OUT); 2: bad arguments.
int run_backup(const BackupArgs& a) {
  namespace fs = std::filesystem;
  if (is_endpoint(a.hub)) {
    std::cerr << "gridhubctl: backup --hub " << a.hub
              << ": give the hub's config file or its log database; the copy is read from the database file beside the "
                 "running hub (a WAL snapshot), not sent over the network\n";
    return 2;
  }
  if (std::error_code ec; !fs::is_regular_file(a.hub, ec)) {
    std::cerr << "gridhubctl: backup --hub " << a.hub << ": no such file\n";
    return 2;
  }
  gridhub::log::BackupOptions o;
  o.out = a.out;
  o.method = a.method;
  if (fs::path(a.hub).extension() == ".toml") {
    if (!a.checkpoints_dir.empty() || !a.public_key.empty()) {
      std::cerr << "gridhubctl: backup: --checkpoints and --public-key go with a database file; the config names them\n";
      return 2;
    }
    try {
      const auto cfg = gridhub::core::load_hub_config(a.hub);
      o.db = cfg.log_db;
      if (cfg.audit) {
        o.checkpoint_dir = cfg.audit->dir;
        // gridhubctl keygen writes the public key beside the secret one.
        const fs::path pub = cfg.audit->signing_key.parent_path() / gridhub::log::kPublicKeyFile;
        if (std::error_code ec; fs::is_regular_file(pub, ec)) o.public_key = pub;
      }
    } catch (const std::exception& e) {
      std::cerr << "gridhubctl: " << e.what() << "\n";
      return 2;
    }
  } else {
    o.db = a.hub;
    if (!a.checkpoints_dir.empty()) o.checkpoint_dir = a.checkpoints_dir;
    if (!a.public_key.empty()) o.public_key = a.public_key;
  }
  auto progress = gridhub::Progress::on_terminal(stderr, "backup (pages)");
  o.progress = &progress;
  o.now_micros =
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  auto r = gridhub::log::take_backup(o);
  if (!r) {
    std::cerr << "gridhubctl: backup failed: " << r.error().message() << "\n";
    return 1;
  }
  const auto& rep = r.value();
  std::printf("backup %s: head seq %llu hash %s, %llu checkpoint(s), %llu bytes (%s)\n", a.out.c_str(),
              static_cast<unsigned long long>(rep.head_seq), gridhub::log::to_hex(rep.head_hash).c_str(),
              static_cast<unsigned long long>(rep.checkpoints), static_cast<unsigned long long>(rep.bytes),
              std::string(gridhub::log::backup_method_name(a.method)).c_str());
  return 0;
}

}  // namespace

void add_backup(CLI::App& app, Context& ctx) {
  auto a = std::make_shared<BackupArgs>();
  auto* backup = app.add_subcommand(
      "backup", "copy a running hub's log and its signed checkpoints into a new folder OUT (consistent, fsynced, atomic)");
  backup->add_option("--hub", a->hub, "the hub's config file (hub.toml: log, checkpoints and public key from it) or its log database")
      ->required();
  backup->add_option("out", a->out, "the backup folder to create (must not exist)")->required();
  backup->add_option("--checkpoints", a->checkpoints_dir, "with a database file: the hub's checkpoint folder")
      ->check(CLI::ExistingDirectory);
  backup->add_option("--public-key", a->public_key, "with a database file: the signer's checkpoint.pub, kept in the backup")
      ->check(CLI::ExistingFile);
  backup
      ->add_option("--method", a->method, "sqlite-backup-api (default) or vacuum-into (compacted, slower; docs/audit.md)")
      ->transform(CLI::CheckedTransformer(
          std::map<std::string, gridhub::log::BackupMethod>{{"sqlite-backup-api", gridhub::log::BackupMethod::kBackupApi},
                                                            {"vacuum-into", gridhub::log::BackupMethod::kVacuumInto}}));
  ctx.on_run(backup, [a] { return run_backup(*a); });
}

}  // namespace gridhub::ctl
