// gridhubctl route: run the routing pipeline offline over intake files, one JSON line per record.
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "command.hpp"
#include "gridhub/dryrun/dry_run.hpp"
#include "gridhub/dryrun/heldout.hpp"
#include "pipeline_config.hpp"

namespace gridhub::ctl {
namespace {

struct RouteArgs {
  std::string config_file;
  std::vector<std::string> inputs;
  std::string format = "auto";
  std::string chat_groups;
  std::string labels;
  std::string field_map;
  std::string heldout;                // --heldout; "" = none
  std::string heldout_categories;     // --categories; default: the config's sla.categories
  std::string knowledge = "descriptions,lexicon,terms";   // --knowledge
  int folds = 5;
};

/// Exit 0: every record routed; 1: an input could not be read, or the labels not scored; 2: a bad
/// configuration or option.
int run_route(const RouteArgs& a) {
  auto loaded = load_pipeline_config(a.config_file);
  if (!loaded) return 2;
  auto& cfg = *loaded;
  if (!a.chat_groups.empty()) cfg.pipeline->chat_groups = a.chat_groups;
  auto pipeline = gridhub::pipeline::Pipeline::create(*cfg.pipeline);
  if (!pipeline) {
    std::cerr << "gridhubctl: " << pipeline.error().message() << "\n";
    return 2;
  }
  gridhub::dryrun::ReadOptions ro;
  auto f = gridhub::dryrun::parse_format(a.format);
  if (!f) {
    std::cerr << "gridhubctl: " << f.error().detail << "\n";
    return 2;
  }
  ro.format = f.value();
  ro.field_map = a.field_map;
  std::vector<gridhub::dryrun::InputRecord> records;
  int rc = 0;
  for (const auto& in : a.inputs) {
    auto r = gridhub::dryrun::read_input(in, ro);
    if (!r) {
      std::cerr << "gridhubctl: " << r.error().message() << "\n";
      rc = 1;
      continue;
    }
    for (auto& x : r.value()) records.push_back(std::move(x));
  }
  records = gridhub::dryrun::pair_locations(std::move(records));
  auto rows = gridhub::dryrun::run(*pipeline.value(), records);
  for (const auto& row : rows) std::printf("%s\n", gridhub::dryrun::to_json(row).c_str());
  std::fflush(stdout);
  if (a.labels.empty()) return rc;
  auto sc = gridhub::dryrun::score(rows, a.labels);
  if (!sc) {
    std::cerr << "gridhubctl: " << sc.error().message() << "\n";
    return 1;
  }
  std::cerr << gridhub::dryrun::report(sc.value());
  if (a.heldout.empty()) return rc;
  auto schemes = gridhub::dryrun::parse_heldout(a.heldout);
  if (!schemes) {
    std::cerr << "gridhubctl: " << schemes.error().detail << "\n";
    return 2;
  }
  gridhub::dryrun::HeldoutOptions ho;
  ho.pipeline = *cfg.pipeline;
  ho.labels = a.labels;
  ho.folds = a.folds;
  auto knowledge = gridhub::dryrun::parse_knowledge(a.knowledge);
  if (!knowledge) {
    std::cerr << "gridhubctl: " << knowledge.error().detail << "\n";
    return 2;
  }
  ho.knowledge = knowledge.value();
  if (!a.heldout_categories.empty()) {
    ho.categories = a.heldout_categories;
  } else if (cfg.sla) {
    ho.categories = cfg.sla->categories;
  } else {
    std::cerr << "gridhubctl: --heldout retrains the classifier and needs the category table: give --categories "
                 "(or an [sla] categories in " << a.config_file << ")\n";
    return 2;
  }
  // In-sample first: the gaps are measured from it, with the same training.
  std::vector<gridhub::dryrun::HeldoutScheme> order{gridhub::dryrun::HeldoutScheme::kInSample};
  for (auto s : schemes.value()) {
    if (s != gridhub::dryrun::HeldoutScheme::kInSample) order.push_back(s);
  }
  std::vector<gridhub::dryrun::HeldoutResult> results;
  for (auto s : order) {
    auto r = gridhub::dryrun::evaluate_heldout(records, s, ho);
    if (!r) {
      std::cerr << "gridhubctl: " << r.error().message() << "\n";
      return 1;
    }
    results.push_back(std::move(r).value());
  }
  std::cerr << gridhub::dryrun::heldout_report(sc.value(), results);
  return rc;
}

}  // namespace

void add_route(CLI::App& app, Context& ctx) {
  auto a = std::make_shared<RouteArgs>();
  auto* route = app.add_subcommand("route", "run the routing pipeline offline over intake files; one JSON line per record");
  route->add_option("-c,--config", a->config_file, "hub configuration with the [pipeline] to try")->required()->check(CLI::ExistingFile);
  route->add_option("inputs", a->inputs, "intake files of any channel")->required();
  route->add_option("--format", a->format, "auto, hotline-csv, hotline-xlsx, memotrace-csv, memotrace-txt, oa-xml, jinshuju-jsonl, urlencoded");
  route->add_option("--chat-groups", a->chat_groups, "chat groups' deployment context (CSV), overriding pipeline.chat_groups");
  route->add_option("--labels", a->labels, "labelled truth (labels.csv): print per-field accuracy and confusions to stderr");
  route->add_option("--field-map", a->field_map, "form-builder field map (JSON) for jinshuju-jsonl inputs");
  route->add_option("--heldout", a->heldout,
                    "with --labels: also score held-out splits, retraining the classifier per split "
                    "(families, channels; comma-separated)")->needs("--labels");
  route->add_option("--folds", a->folds, "folds of phrasing families for --heldout families")
      ->check(CLI::Range(2, 100));
  route->add_option("--categories", a->heldout_categories,
                    "category table for retraining under --heldout (default: the config's sla.categories)")
      ->check(CLI::ExistingFile);
  route->add_option("--knowledge", a->knowledge,
                    "what --heldout retraining adds to the history: descriptions, lexicon, terms (the lexicon's "
                    "terms also as features), words (friso dictionary words), comma-separated, or none")
      ->capture_default_str();
  ctx.on_run(route, [a] { return run_route(*a); });
}

}  // namespace gridhub::ctl
