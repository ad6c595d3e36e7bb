// gridhubctl: the operator's and auditor's command line. Each command lives in its own file
// (cmd_*.cpp, listed in command.hpp); this builds the app, registers them and runs the one given.
#include <CLI/CLI.hpp>

#include "command.hpp"

int main(int argc, char** argv) {
  CLI::App app{"gridhubctl: operate and audit a gridhub"};
  app.require_subcommand(1);

  gridhub::ctl::Context ctx;
  // The order here is the order `gridhubctl --help` lists them in.
  for (auto add : {gridhub::ctl::add_tail, gridhub::ctl::add_subscribe, gridhub::ctl::add_update, gridhub::ctl::add_status,
                   gridhub::ctl::add_reload, gridhub::ctl::add_tickets, gridhub::ctl::add_dead_letters,
                   gridhub::ctl::add_rebuild_projection, gridhub::ctl::add_backup,
                   gridhub::ctl::add_route, gridhub::ctl::add_train,
                   gridhub::ctl::add_verify, gridhub::ctl::add_replay, gridhub::ctl::add_state, gridhub::ctl::add_reroute,
                   gridhub::ctl::add_report, gridhub::ctl::add_erase, gridhub::ctl::add_migrate, gridhub::ctl::add_keygen}) {
    add(app, ctx);
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? 0 : 2;   // usage errors exit 2, like every gridhubctl refusal to start
  }
  return ctx.run_parsed();
}
