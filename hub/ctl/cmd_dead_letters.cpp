// gridhubctl dead-letters: every rejected record, where it came from and why.
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>

#include "command.hpp"
#include "gridhub/log/log_queries.hpp"
#include "output.hpp"

namespace gridhub::ctl {
namespace {

struct DeadLettersArgs {
  std::string db;
  bool json = false;
  bool show_pii = false;
};

int run_dead_letters(const DeadLettersArgs& a) {
  auto log = gridhub::log::LogQueries::open(a.db);
  if (!log) {
    std::cerr << "gridhubctl: " << log.error().message() << "\n";
    return 1;
  }
  auto letters = log->dead_letters();
  if (!letters) {
    std::cerr << "gridhubctl: " << a.db << " is not a gridhub log: " << letters.error().message() << "\n";
    return 1;
  }
  gridhub::log::DeadLetter d;
  for (;;) {
    auto more = letters->next(d);
    if (!more) {
      std::cerr << "gridhubctl: " << more.error().message() << "\n";
      return 1;
    }
    if (!more.value()) break;
    // "[sealed]" (or "[erased]" once its key is gone) unless --show-pii; then opened.
    const std::string payload = log->dead_letter_payload(d.payload, a.show_pii);
    if (a.json) {
      std::printf("{\"id\":%lld,\"recorded_at_us\":%lld,\"adapter_id\":%s,\"channel\":%lld,\"source_key\":%s,"
                  "\"reason\":%s,\"field\":%s,\"detail\":%s,\"location\":%s,\"payload\":%s}\n",
                  static_cast<long long>(d.id), static_cast<long long>(d.recorded_at_us), json_quote(d.adapter_id).c_str(),
                  static_cast<long long>(d.channel), json_quote(d.source_key).c_str(), json_quote(d.reason_code).c_str(),
                  json_quote(d.field).c_str(), json_quote(d.detail).c_str(), json_quote(d.location).c_str(),
                  json_quote(payload).c_str());
    } else {
      // One line an operator can read: where, which record, why.
      std::printf("%s  %s  %s%s%s: %s\n", d.location.c_str(), d.source_key.c_str(), d.reason_code.c_str(),
                  d.field.empty() ? "" : " in ", d.field.c_str(), d.detail.c_str());
      if (a.show_pii && !payload.empty()) std::printf("    row: %s\n", payload.c_str());
    }
  }
  return 0;
}

}  // namespace

void add_dead_letters(CLI::App& app, Context& ctx) {
  auto a = std::make_shared<DeadLettersArgs>();
  auto* dead = app.add_subcommand("dead-letters", "every rejected record: where it came from and why");
  dead->add_option("--db", a->db, "the hub's log database")->required()->check(CLI::ExistingFile);
  dead->add_flag("--json", a->json, "one JSON object per line");
  dead->add_flag("--show-pii", a->show_pii, "also the rejected rows as received (sealed: they hold names and numbers)");
  ctx.on_run(dead, [a] { return run_dead_letters(*a); });
}

}  // namespace gridhub::ctl
