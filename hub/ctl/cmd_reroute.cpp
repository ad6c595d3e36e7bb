// gridhubctl reroute: replay the logged intake through a candidate configuration; list decisions that
// would change.
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>

#include "command.hpp"
#include "gridhub/audit/reroute.hpp"
#include "gridhub/common/progress.hpp"
#include "gridhub/dryrun/heldout.hpp"
#include "pipeline_config.hpp"

namespace gridhub::ctl {
namespace {

struct RerouteArgs {
  std::string db;
  std::string config_file;
  std::string format = "text";
  std::string model;
};

/// Exit 0 whether or not decisions would change (the listing is the answer); 2 on a bad candidate
/// configuration; 1 when the log cannot be read.
int run_reroute(const RerouteArgs& a) {
  auto loaded = load_pipeline_config(a.config_file);
  if (!loaded) return 2;
  auto& cfg = *loaded;
  if (!a.model.empty()) {
    // A candidate model (gridhubctl train) tried with everything else as configured.
    auto o = gridhub::dryrun::with_classifier_model(*cfg.pipeline, std::filesystem::absolute(a.model));
    if (!o) {
      std::cerr << "gridhubctl: " << o.error().message() << "\n";
      return 2;
    }
    cfg.pipeline = std::move(o).value();
  }
  auto pipeline = gridhub::pipeline::Pipeline::create(*cfg.pipeline);
  if (!pipeline) {
    std::cerr << "gridhubctl: " << pipeline.error().message() << "\n";
    return 2;
  }
  const bool json = a.format == "jsonl";
  auto progress = gridhub::Progress::on_terminal(stderr, "reroute");
  auto summary = gridhub::audit::reroute(
      a.db, *pipeline.value(),
      [&](const gridhub::audit::DecisionChange& c) { std::printf("%s\n", gridhub::audit::format_change(c, json).c_str()); },
      &progress);
  if (!summary) {
    std::fflush(stdout);
    std::cerr << "gridhubctl: " << summary.error().message() << "\n";
    return 1;
  }
  std::printf("%s\n", gridhub::audit::format_summary(summary.value(), json).c_str());
  std::fflush(stdout);
  return 0;
}

}  // namespace

void add_reroute(CLI::App& app, Context& ctx) {
  auto a = std::make_shared<RerouteArgs>();
  auto* reroute = app.add_subcommand("reroute", "replay the logged intake through a candidate configuration; list decisions that would change");
  reroute->add_option("--db", a->db, "the log database (or a copy)")->required()->check(CLI::ExistingFile);
  reroute->add_option("-c,--config", a->config_file, "hub configuration with the candidate [pipeline]")->required()->check(CLI::ExistingFile);
  reroute->add_option("--model", a->model, "a candidate classifier_ngram model (gridhubctl train) in place of the configured one")
      ->check(CLI::ExistingFile);
  reroute->add_option("--format", a->format, "text or jsonl")->check(CLI::IsMember({"text", "jsonl"}));
  ctx.on_run(reroute, [a] { return run_reroute(*a); });
}

}  // namespace gridhub::ctl
