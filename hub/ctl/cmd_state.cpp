// gridhubctl state: every ticket (or the named ones) as it stood at a past time, from the log alone.
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "command.hpp"
#include "gridhub/audit/replay.hpp"
#include "gridhub/audit/state.hpp"
#include "gridhub/common/progress.hpp"

namespace gridhub::ctl {
namespace {

struct StateArgs {
  std::string db;
  std::string as_of;
  std::vector<std::string> ticket_ids;
  bool show_pii = false;
};

/// Exit 0 with one JSON line per ticket; 2 when the time does not parse; 1 when the log cannot be read.
int run_state(const StateArgs& a) {
  auto t = gridhub::audit::parse_time(a.as_of);
  if (!t) {
    std::cerr << "gridhubctl: --as-of: " << t.error().detail << "\n";
    return 2;
  }
  auto progress = gridhub::Progress::on_terminal(stderr, "state");
  auto n = gridhub::audit::write_state(a.db, t.value(), a.ticket_ids, a.show_pii, stdout, &progress);
  std::fflush(stdout);
  if (!n) {
    std::cerr << "gridhubctl: " << n.error().message() << "\n";
    return 1;
  }
  return 0;
}

}  // namespace

void add_state(CLI::App& app, Context& ctx) {
  auto a = std::make_shared<StateArgs>();
  auto* state = app.add_subcommand("state", "every ticket (or the named ones) as it stood at a past time, from the log alone (read-only)");
  state->add_option("--db", a->db, "the log database (or a copy)")->required()->check(CLI::ExistingFile);
  state->add_option("--as-of", a->as_of, "RFC 3339 or YYYY-MM-DD (UTC); records at or before it count")->required();
  state->add_option("tickets", a->ticket_ids, "ticket ids (default: every ticket)");
  state->add_flag("--show-pii", a->show_pii, "print reporters' names and phone numbers unmasked");
  ctx.on_run(state, [a] { return run_state(*a); });
}

}  // namespace gridhub::ctl
