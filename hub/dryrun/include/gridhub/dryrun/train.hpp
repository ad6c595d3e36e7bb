#pragma once
/// `gridhubctl train`: learns the n-gram classifier from labelled history — intake files of any
/// channel joined with a labels CSV (channel, file, record_key, is_ticket, malformed, category_code,
/// ...) — plus the category table, and writes the versioned model artefact the classifier_ngram
/// plugin loads. Text is normalized exactly as the hub normalizes it before classifying.

#include <filesystem>
#include <string>
#include <vector>

#include "gridhub/common/result.hpp"
#include "gridhub/dryrun/dry_run.hpp"
#include "gridhub/dryrun/log_labels.hpp"

namespace gridhub::dryrun {

struct TrainReport {
  std::size_t examples = 0;      // labelled, well-formed records used
  std::size_t tickets = 0;
  std::size_t not_tickets = 0;
  std::size_t unlabelled = 0;    // records with no label row (skipped)
  std::size_t prior_examples = 0;   // from the category table and the lexicon beside it
  std::size_t log_examples = 0;     // reports labelled by the log (confirmed or corrected)
  std::string data_version;
  double temperature = 1;        // confidence calibration fitted on held-out phrasing families
};

/// Which county knowledge training adds to the labelled history (docs/routing_knowledge.md).
struct Knowledge {
  bool descriptions = true;   // categories.csv names and descriptions as prior examples
  bool lexicon = true;        // lexicon.csv beside categories.csv, when there is one
  bool terms = true;          // with the lexicon: each of its terms also a full-weight feature of its category
  bool words = false;         // friso dictionary words as features (costs per-record time)
};

/// Parses "descriptions,lexicon,terms,words" (any subset; "none" for the history alone).
Result<Knowledge> parse_knowledge(std::string_view spec);

/// `records` are labelled by the `labels` CSV (both may be empty when `from_log` has labels); the
/// reports `from_log` labels (labels_from_log) join them, normalized the same way, and are always
/// trained on (never held out for calibration).
Result<TrainReport> train_classifier(const std::vector<InputRecord>& records, const std::filesystem::path& labels,
                                     const std::filesystem::path& categories, const std::filesystem::path& out,
                                     std::uint64_t seed = 1, const Knowledge& knowledge = {},
                                     const std::vector<LogLabel>& from_log = {});

}  // namespace gridhub::dryrun
