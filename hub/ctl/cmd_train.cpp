// gridhubctl train: learn the classifier model from labelled intake files.
#include <fmt/format.h>

#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "command.hpp"
#include "gridhub/categories/categories.hpp"
#include "gridhub/dryrun/dry_run.hpp"
#include "gridhub/dryrun/log_labels.hpp"
#include "gridhub/dryrun/train.hpp"

namespace gridhub::ctl {
namespace {

struct TrainArgs {
  std::vector<std::string> inputs;
  std::string labels;
  std::string categories;
  std::string out;
  std::string field_map;
  std::string from_log;
};

int run_train(const TrainArgs& a) {
  if (a.from_log.empty() && (a.inputs.empty() || a.labels.empty())) {
    std::cerr << "gridhubctl: train needs labelled intake files and --labels, or --from-log, or both\n";
    return 2;
  }
  if (a.inputs.empty() != a.labels.empty()) {
    std::cerr << "gridhubctl: train: intake files and --labels go together\n";
    return 2;
  }
  std::vector<gridhub::dryrun::LogLabel> from_log;
  if (!a.from_log.empty()) {
    auto table = gridhub::categories::load_categories(a.categories);
    if (!table) {
      std::cerr << "gridhubctl: " << table.error().message() << "\n";
      return 1;
    }
    auto l = gridhub::dryrun::labels_from_log(a.from_log, table.value());
    if (!l) {
      std::cerr << "gridhubctl: " << l.error().message() << "\n";
      return 1;
    }
    std::cout << fmt::format("from the log: {} intake records, {} tickets; {} confirmed by their resolution, {} corrected "
                             "by a department ({} corrections named a desk of several categories none of which was "
                             "ranked: left out); {} reports labelled\n",
                             l->intake, l->tickets, l->confirmed, l->corrected, l->ambiguous, l->labels.size());
    from_log = std::move(l->labels);
  }
  gridhub::dryrun::ReadOptions ro;
  ro.field_map = a.field_map;
  std::vector<gridhub::dryrun::InputRecord> records;
  for (const auto& in : a.inputs) {
    auto r = gridhub::dryrun::read_input(in, ro);
    if (!r) {
      std::cerr << "gridhubctl: " << r.error().message() << "\n";
      return 1;
    }
    for (auto& x : r.value()) records.push_back(std::move(x));
  }
  records = gridhub::dryrun::pair_locations(std::move(records));
  auto rep = gridhub::dryrun::train_classifier(records, a.labels, a.categories, a.out, 1, {}, from_log);
  if (!rep) {
    std::cerr << "gridhubctl: " << rep.error().message() << "\n";
    return 1;
  }
  std::cout << "trained on " << rep->examples << " labelled records (" << rep->tickets << " tickets, "
            << rep->not_tickets << " not) + " << rep->prior_examples << " category-table examples; "
            << rep->unlabelled << " records had no label\nwrote " << a.out << " (" << rep->data_version << ", confidence temperature "
            << fmt::format("{:.3f}", rep->temperature) << ")\n";
  return 0;
}

}  // namespace

void add_train(CLI::App& app, Context& ctx) {
  auto a = std::make_shared<TrainArgs>();
  auto* train = app.add_subcommand("train", "learn the classifier model from labelled intake files");
  train->add_option("inputs", a->inputs, "labelled intake files of any channel");
  train->add_option("--labels", a->labels, "labels CSV (file, record_key, is_ticket, malformed, category_code)")->check(CLI::ExistingFile);
  train->add_option("--from-log", a->from_log,
                    "a hub's log (or a copy): its resolved tickets and the departments' corrections become labels")
      ->check(CLI::ExistingFile);
  train->add_option("--categories", a->categories, "the county's categories.csv")->required()->check(CLI::ExistingFile);
  train->add_option("-o,--out", a->out, "model artefact to write")->required();
  train->add_option("--field-map", a->field_map, "form-builder field map (JSON) for jinshuju-jsonl inputs");
  ctx.on_run(train, [a] { return run_train(*a); });
}

}  // namespace gridhub::ctl
