#include "gridhub/dryrun/train.hpp"

#include <fmt/format.h>

#include "gridhub/dryrun/heldout.hpp"
#include "gridhub/plugins/classifier_ngram.hpp"

namespace gridhub::dryrun {

Result<Knowledge> parse_knowledge(std::string_view spec) {
  Knowledge k{false, false, false};
  if (spec == "none") return k;
  std::size_t start = 0;
  while (start <= spec.size()) {
    std::size_t comma = spec.find(',', start);
    if (comma == std::string_view::npos) comma = spec.size();
    const std::string_view item = spec.substr(start, comma - start);
    if (item == "descriptions") {
      k.descriptions = true;
    } else if (item == "lexicon") {
      k.lexicon = true;
    } else if (item == "terms") {
      k.terms = true;
    } else if (item == "words") {
      k.words = true;
    } else {
      return Error(Errc::bad_value, fmt::format("--knowledge: unknown item '{}' (descriptions, lexicon, terms, words or none)", item));
    }
    start = comma + 1;
  }
  return k;
}

namespace {

// Confidence is calibrated on reports of wordings the model did not see, as a county's new intake
// will be: whole phrasing families held out (heldout.hpp), kCalibrationFolds folds.
constexpr int kCalibrationFolds = 4;

std::vector<int> calibration_folds(const std::vector<InputRecord>& records, const std::vector<RecordLabel>& labels,
                                   const pipeline::Pipeline& normalizer) {
  std::vector<std::string> texts;
  texts.reserve(records.size());
  for (const auto& r : records) texts.push_back(r.event.has_rejection() ? std::string{} : normalizer.assess(r.event).text);
  const auto splits = family_folds(phrasing_families(texts, labels), kCalibrationFolds);
  std::vector<int> fold(records.size(), -1);
  for (std::size_t k = 0; k < splits.size(); ++k) {
    for (std::size_t i = 0; i < records.size(); ++i) {
      if (splits[k].held_out[i]) fold[i] = static_cast<int>(k);
    }
  }
  return fold;
}

classifier_ngram::TrainingExample example_of(const pipeline::Assessment& a) {
  classifier_ngram::TrainingExample ex;
  ex.text = a.text;
  ex.category_hint = a.category_hint;
  ex.message_kind = a.message_kind;
  ex.from_staff = a.from_staff;
  ex.request_kind = a.request_kind;
  ex.channel = a.channel;
  return ex;
}

}  // namespace

Result<TrainReport> train_classifier(const std::vector<InputRecord>& records, const std::filesystem::path& labels,
                                     const std::filesystem::path& categories, const std::filesystem::path& out,
                                     std::uint64_t seed, const Knowledge& knowledge, const std::vector<LogLabel>& from_log) {
  auto lab = records.empty() && labels.empty() ? Result<std::vector<RecordLabel>>(std::vector<RecordLabel>{})
                                                : label_records(records, labels);
  if (!lab) return lab.error();

  // Normalize exactly as the hub does: a pipeline with no stages is the normalizer alone.
  pipeline::PipelineOptions none;
  none.resolver = none.classifier = none.merger = none.router = "";
  auto norm = pipeline::Pipeline::create(none);
  if (!norm) return norm.error();

  TrainReport report;
  std::vector<classifier_ngram::TrainingExample> examples;
  std::vector<int> folds;   // calibration fold per example
  const std::vector<int> fold_of = calibration_folds(records, lab.value(), *norm.value());
  for (std::size_t i = 0; i < records.size(); ++i) {
    const auto& r = records[i];
    const RecordLabel* label = &lab.value()[i];
    if (!label->labelled) {
      ++report.unlabelled;
      continue;
    }
    if (label->malformed || r.event.has_rejection()) continue;
    auto a = norm.value()->assess(r.event);
    classifier_ngram::TrainingExample ex = example_of(a);
    ex.label = label->is_ticket ? label->category : std::string{};
    (label->is_ticket ? report.tickets : report.not_tickets)++;
    examples.push_back(std::move(ex));
    folds.push_back(fold_of[i]);
  }
  for (const auto& l : from_log) {
    // The log holds the event as the adapter sent it: normalized here exactly as the hub did.
    auto a = norm.value()->assess(l.event);
    classifier_ngram::TrainingExample ex = example_of(a);
    ex.label = l.category;
    ++report.tickets;
    ++report.log_examples;
    examples.push_back(std::move(ex));
    folds.push_back(-1);
  }
  report.examples = examples.size();
  auto prior = classifier_ngram::category_examples(categories);
  if (!prior) return prior.error();
  std::vector<std::string> codes;
  for (const auto& ex : prior.value()) codes.push_back(ex.label);
  // The county's lexicon sits beside its category table; a county without one trains on
  // names, descriptions and history alone.
  const auto lexicon = categories.parent_path() / classifier_ngram::kLexiconFile;
  std::vector<std::pair<std::string, std::string>> lexicon_features;   // (code, term): the terms as features too
  if (knowledge.lexicon && std::filesystem::exists(lexicon)) {
    auto lex = classifier_ngram::lexicon_examples(lexicon, codes);
    if (!lex) return lex.error();
    for (auto& ex : lex.value()) {
      if (knowledge.terms) lexicon_features.emplace_back(ex.label, ex.text);
      prior->push_back(std::move(ex));
    }
  }
  if (!knowledge.descriptions) {
    // The table's own examples come first; the lexicon's follow them.
    const auto table = static_cast<std::ptrdiff_t>(codes.size());
    prior->erase(prior->begin(), prior->begin() + table);
  }
  report.prior_examples = prior->size();
  for (auto& ex : prior.value()) {
    examples.push_back(std::move(ex));
    folds.push_back(-1);   // knowledge, not a report: always trained on, never held out
  }
  if (report.examples == 0) {
    return Error(Errc::bad_value, fmt::format("no labelled records: do the labels' file and record_key columns match the inputs?"));
  }
  classifier_ngram::TrainOptions opts;
  opts.seed = seed;
  opts.calibration_folds = std::move(folds);
  opts.lexicon_features = std::move(lexicon_features);
  if (knowledge.words) {
    auto words = classifier_ngram::load_word_dictionary();
    if (!words) return words.error();
    opts.words = std::move(words).value();
  }
  auto model = classifier_ngram::train(examples, opts);
  if (auto s = model.save(out); !s) return s.error();
  report.data_version = model.data_version();
  report.temperature = model.temperature();
  return report;
}

}  // namespace gridhub::dryrun
