// gridhubctl erase: erase a ticket's personal data on lawful request (hub stopped) — a logged, chained
// erasure (docs/audit.md, "Erasure").
#include <cstdio>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "command.hpp"
#include "gridhub/common/clock.hpp"
#include "gridhub/core/hub_config.hpp"
#include "gridhub/core/sequencer.hpp"
#include "gridhub/log/event_log.hpp"
#include "gridhub/log/jetstream_event_log.hpp"
#include "gridhub/log/log_queries.hpp"

namespace gridhub::ctl {
namespace {

struct EraseArgs {
  std::string config;
  std::string db;
  std::string ticket_id;
  std::string request_ref;
  std::string requested_by;
};

/// Exit 0 done; 3 when a running hub holds the log; 1 otherwise (no such ticket, storage error).
int run_erase(const EraseArgs& a) {
  const gridhub::SystemClock clock;
  // Opened as the hub's writer opens it: the single-writer lock, the schema, the chain head; a log on
  // JetStream through its stream (the replica alone must not take a record the stream lacks).
  EraseArgs args = a;
  std::optional<gridhub::log::JetStreamOptions> js;
  if (!a.config.empty()) {
    try {
      const auto cfg = gridhub::core::load_hub_config(a.config);
      if (args.db.empty()) args.db = cfg.log_db.string();
      js = cfg.jetstream;
    } catch (const std::exception& e) {
      std::cerr << "gridhubctl: " << e.what() << "\n";
      return 2;
    }
  } else if (a.db.empty()) {
    std::cerr << "gridhubctl: erase needs --db or -c/--config\n";
    return 2;
  }
  auto log = [&]() -> gridhub::Result<std::unique_ptr<gridhub::core::SequencedLog>> {
    if (!js) return gridhub::core::open_log(args.db, gridhub::log::LogOptions{}, clock);
    auto storage = gridhub::log::open_jetstream_event_log(args.db, *js, gridhub::log::LogOptions{}, clock);
    if (!storage) return storage.error();
    return std::make_unique<gridhub::core::SequencedLog>(std::move(storage.value()), clock);
  }();
  if (!log) {
    std::cerr << "gridhubctl: cannot erase: " << log.error().message() << "\n";
    return log.error().code == gridhub::make_error_code(gridhub::Errc::unavailable) ? 3 : 1;
  }
  std::vector<gridhub::log::AppendItem> items;
  items.emplace_back(gridhub::log::ErasureItem{a.ticket_id, a.request_ref, a.requested_by});
  std::vector<gridhub::log::AppendOutcome> out;
  if (auto s = log.value()->append(items, out); !s) {
    std::cerr << "gridhubctl: cannot erase: " << s.error().message() << "\n";
    return 1;
  }
  log.value().reset();
  if (out.front().duplicate) {
    std::printf("%s: personal data already erased (log record %llu); nothing written\n", a.ticket_id.c_str(),
                static_cast<unsigned long long>(out.front().seq));
    return 0;
  }
  // Old page images holding the key can sit in the WAL until a checkpoint: fold it into the database
  // (where secure_delete zeroed the key) and truncate it.
  if (!gridhub::log::truncate_wal(args.db)) {
    std::cerr << "gridhubctl: erased, but the write-ahead log could not be checkpointed; run it again when idle\n";
  }
  std::printf("erased personal data of %s: log record %llu, key %s destroyed\n", a.ticket_id.c_str(),
              static_cast<unsigned long long>(out.front().seq), a.ticket_id.c_str());
  return 0;
}

}  // namespace

void add_erase(CLI::App& app, Context& ctx) {
  auto a = std::make_shared<EraseArgs>();
  auto* erase = app.add_subcommand("erase", "erase a ticket's personal data on lawful request (hub stopped): a logged, chained erasure");
  erase->add_option("--db", a->db, "the hub's log database (a SQLite log)")->check(CLI::ExistingFile);
  erase->add_option("-c,--config", a->config,
                    "the hub's config instead: its log_db, and a log on JetStream is erased through its stream");
  erase->add_option("--ticket", a->ticket_id, "the ticket, e.g. T00000042 (its merged reports go with it)")->required();
  erase->add_option("--ref", a->request_ref, "the lawful request's reference (case number)")->required();
  erase->add_option("--by", a->requested_by, "who ordered the erasure")->required();
  ctx.on_run(erase, [a] { return run_erase(*a); });
}

}  // namespace gridhub::ctl
