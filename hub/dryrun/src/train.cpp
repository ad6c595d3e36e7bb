#include "gridhub/dryrun/train.hpp"

#include <fmt/format.h>

#include <fstream>
#include <map>
#include <sstream>

#include "gridhub/plugins/classifier_ngram.hpp"
#include "gridhub/text/csv_reader.hpp"
#include "labels_file.hpp"

namespace gridhub::dryrun {

using detail::ends_with_path;
using detail::read_labels_text;

namespace {

struct Label {
  bool is_ticket = false;
  bool malformed = false;
  std::string category;
};

Result<std::vector<std::pair<std::pair<std::string, std::string>, Label>>> read_labels(const std::filesystem::path& file) {
  auto text = read_labels_text(file);
  if (!text) return text.error();
  text::CsvReader reader(text.value());
  text::CsvRecord rec;
  std::map<std::string, std::size_t> col;
  std::vector<std::pair<std::pair<std::string, std::string>, Label>> out;
  while (reader.next(rec)) {
    if (col.empty()) {
      for (std::size_t i = 0; i < rec.fields.size(); ++i) col[rec.fields[i]] = i;
      for (const char* need : {"file", "record_key", "is_ticket", "malformed", "category_code"}) {
        if (!col.count(need)) return Error(Errc::missing_field, fmt::format("{}: column '{}' is missing", file.string(), need));
      }
      continue;
    }
    if (rec.fields.size() < col.size()) continue;
    Label l{rec.fields[col["is_ticket"]] == "1", rec.fields[col["malformed"]] == "1", rec.fields[col["category_code"]]};
    out.push_back({{rec.fields[col["file"]], rec.fields[col["record_key"]]}, l});
  }
  return out;
}

}  // namespace

Result<TrainReport> train_classifier(const std::vector<InputRecord>& records, const std::filesystem::path& labels,
                                     const std::filesystem::path& categories, const std::filesystem::path& out,
                                     std::uint64_t seed) {
  auto lab = read_labels(labels);
  if (!lab) return lab.error();
  std::map<std::string, std::vector<std::pair<std::string, Label>>> by_key;   // record_key -> (file, label)
  for (auto& [k, l] : lab.value()) by_key[k.second].emplace_back(k.first, l);

  // Normalize exactly as the hub does: a pipeline with no stages is the normalizer alone.
  pipeline::PipelineOptions none;
  none.resolver = none.classifier = none.merger = none.router = "";
  auto norm = pipeline::Pipeline::create(none);
  if (!norm) return norm.error();

  TrainReport report;
  std::vector<classifier_ngram::TrainingExample> examples;
  for (const auto& r : records) {
    const Label* label = nullptr;
    auto it = by_key.find(r.record_key);
    if (it != by_key.end()) {
      for (const auto& [file, l] : it->second) {
        if (ends_with_path(r.file, file)) label = &l;
      }
    }
    if (label == nullptr) {
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
