// gridhubctl replay: print the log read-only, one line per record.
#include <cstdint>
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>

#include "command.hpp"
#include "gridhub/audit/replay.hpp"
#include "gridhub/common/progress.hpp"
#include "time_options.hpp"

namespace gridhub::ctl {
namespace {

struct ReplayArgs {
  std::string db;
  std::uint64_t from_seq = 1;
  std::string since;
  std::string until;
  std::string format = "jsonl";
  bool show_pii = false;
};

int run_replay(const ReplayArgs& a) {
  gridhub::audit::ReplayOptions opts;
  opts.from_seq = a.from_seq;
  opts.format = a.format == "csv" ? gridhub::audit::ReplayFormat::kCsv : gridhub::audit::ReplayFormat::kJsonl;
  opts.show_pii = a.show_pii;
  if (!parse_since_until(a.since, a.until, opts.since_micros, opts.until_micros)) return 2;
  auto progress = gridhub::Progress::on_terminal(stderr, "replay");
  opts.progress = &progress;
  auto n = gridhub::audit::replay(a.db, opts, stdout);
  std::fflush(stdout);
  if (!n) {
    std::cerr << "gridhubctl: " << n.error().message() << "\n";
    return 1;
  }
  return 0;
}

}  // namespace

void add_replay(CLI::App& app, Context& ctx) {
  auto a = std::make_shared<ReplayArgs>();
  auto* replay = app.add_subcommand("replay", "print the log read-only, one line per record");
  replay->add_option("--db", a->db, "the log database (or a copy)")->required()->check(CLI::ExistingFile);
  replay->add_option("--from-seq", a->from_seq, "first seq (default 1)");
  replay->add_option("--since", a->since, "records at or after this time (RFC 3339 or YYYY-MM-DD, UTC)");
  replay->add_option("--until", a->until, "records before this time (exclusive)");
  replay->add_option("--format", a->format, "jsonl or csv")->check(CLI::IsMember({"jsonl", "csv"}));
  replay->add_flag("--show-pii", a->show_pii, "print reporters' names and phone numbers unmasked");
  ctx.on_run(replay, [a] { return run_replay(*a); });
}

}  // namespace gridhub::ctl
