#pragma once
// gridhubctl's commands: each file adds one subcommand (or a small family) to the CLI and the action
// that runs when it is given. main.cpp only builds the app, registers them and runs the chosen one.

#include <functional>
#include <utility>
#include <vector>

#include <CLI/CLI.hpp>

namespace gridhub::ctl {

/// Where each command registers the action its subcommand runs once the command line has parsed.
class Context {
 public:
  /// `run` returns the process's exit code; it is called when `cmd` was the subcommand given.
  void on_run(CLI::App* cmd, std::function<int()> run) { actions_.emplace_back(cmd, std::move(run)); }

  /// The exit code of the subcommand given (0 when none was).
  int run_parsed() const {
    for (const auto& [cmd, run] : actions_) {
      if (cmd->parsed()) return run();
    }
    return 0;
  }

 private:
  std::vector<std::pair<CLI::App*, std::function<int()>>> actions_;
};

// Stream and control: talk to a running hub.
void add_tail(CLI::App& app, Context& ctx);                 // cmd_tail.cpp
void add_subscribe(CLI::App& app, Context& ctx);            // cmd_subscribe.cpp
void add_update(CLI::App& app, Context& ctx);               // cmd_update.cpp: accept, note, resolve, return, extend
void add_status(CLI::App& app, Context& ctx);               // cmd_control.cpp
void add_reload(CLI::App& app, Context& ctx);               // cmd_control.cpp
// The log database, read through the log library's readers.
void add_tickets(CLI::App& app, Context& ctx);              // cmd_tickets.cpp
void add_dead_letters(CLI::App& app, Context& ctx);         // cmd_dead_letters.cpp
void add_rebuild_projection(CLI::App& app, Context& ctx);   // cmd_rebuild_projection.cpp
void add_backup(CLI::App& app, Context& ctx);               // cmd_backup.cpp
// Offline routing.
void add_route(CLI::App& app, Context& ctx);                // cmd_route.cpp
void add_train(CLI::App& app, Context& ctx);                // cmd_train.cpp
// Audit.
void add_verify(CLI::App& app, Context& ctx);               // cmd_verify.cpp
void add_replay(CLI::App& app, Context& ctx);               // cmd_replay.cpp
void add_state(CLI::App& app, Context& ctx);                // cmd_state.cpp
void add_reroute(CLI::App& app, Context& ctx);              // cmd_reroute.cpp
void add_report(CLI::App& app, Context& ctx);               // cmd_report.cpp
void add_erase(CLI::App& app, Context& ctx);                // cmd_erase.cpp
void add_migrate(CLI::App& app, Context& ctx);              // cmd_migrate.cpp
void add_keygen(CLI::App& app, Context& ctx);               // cmd_keygen.cpp

}  // namespace gridhub::ctl
