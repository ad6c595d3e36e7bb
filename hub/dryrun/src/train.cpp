#include "gridhub/dryrun/train.hpp"

#include <fmt/format.h>

#include "gridhub/dryrun/heldout.hpp"
#include "gridhub/plugins/classifier_ngram.hpp"

namespace gridhub::dryrun {

Result<TrainReport> train_classifier(const std::vector<InputRecord>& records, const std::filesystem::path& labels,
                                     const std::filesystem::path& categories, const std::filesystem::path& out,
                                     std::uint64_t seed) {
  auto lab = label_records(records, labels);
  if (!lab) return lab.error();

  // Normalize exactly as the hub does: a pipeline with no stages is the normalizer alone.
  pipeline::PipelineOptions none;
  none.resolver = none.classifier = none.merger = none.router = "";
  auto norm = pipeline::Pipeline::create(none);
  if (!norm) return norm.error();

  TrainReport report;
  std::vector<classifier_ngram::TrainingExample> examples;
  for (std::size_t i = 0; i < records.size(); ++i) {
    const auto& r = records[i];
    const RecordLabel* label = &lab.value()[i];
    if (!label->labelled) {
      ++report.unlabelled;
      continue;
    }
    if (label->malformed || r.event.has_rejection()) continue;
    auto a = norm.value()->assess(r.event);
    classifier_ngram::TrainingExample ex;
    ex.text = a.text;
    ex.category_hint = a.category_hint;
    ex.message_kind = a.message_kind;
    ex.from_staff = a.from_staff;
    ex.request_kind = a.request_kind;
    ex.channel = a.channel;
    ex.label = label->is_ticket ? label->category : std::string{};
    (label->is_ticket ? report.tickets : report.not_tickets)++;
    examples.push_back(std::move(ex));
  }
  report.examples = examples.size();
  auto prior = classifier_ngram::category_examples(categories);
  if (!prior) return prior.error();
  report.prior_examples = prior->size();
  for (auto& ex : prior.value()) examples.push_back(std::move(ex));
  if (report.examples == 0) {
    return Error(Errc::bad_value, fmt::format("no labelled records: do the labels' file and record_key columns match the inputs?"));
  }
  classifier_ngram::TrainOptions opts;
  opts.seed = seed;
  auto model = classifier_ngram::train(examples, opts);
  if (auto s = model.save(out); !s) return s.error();
  report.data_version = model.data_version();
  return report;
}

}  // namespace gridhub::dryrun
