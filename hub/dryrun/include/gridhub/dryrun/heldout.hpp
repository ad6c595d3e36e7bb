#pragma once
/// Held-out evaluation for `gridhubctl route --labels --heldout families,channels`: for each split the
/// classifier is retrained on the rest with the same training code as `gridhubctl train`, the whole
/// pipeline runs over every record (so merging and location pairing see what they see live), and only
/// the held-out records are scored. A score on wordings the model was trained on measures memory;
/// these measure what a county will see on reports it has never seen.
///
/// Schemes:
///   families   k folds over phrasing families (below); a family is never in both train and test.
///   channels   leave one channel out (hotline, wechat, webform), one split per channel present.
///   in-sample  train on every labelled record and score them all (the baseline the others drop from).
///
/// A phrasing family: the labels carry no template column, so families come from the text. Each
/// record's normalized text is cut into clauses at punctuation and spaces; a clause's skeleton drops
/// ASCII letters and digits (house numbers, dates, ids). A skeleton seen under three or more labels
/// (category codes, "not a ticket" counting as one) is boilerplate — openers, closers, urgency — and is
/// ignored. A remaining clause of five or more characters is keyed by its last five (places and times
/// fill a clause's front, the template's wording ends it). Two records with the same label belong to
/// one family when they share a key that occurs under that label only; families are the connected
/// components. A record with no such key is a family of its own.

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "gridhub/common/result.hpp"
#include "gridhub/dryrun/dry_run.hpp"
#include "gridhub/dryrun/score.hpp"
#include "gridhub/dryrun/train.hpp"
#include "gridhub/pipeline/pipeline.hpp"

namespace gridhub::dryrun {

enum class HeldoutScheme { kInSample, kFamilies, kChannels };

/// "families,channels" (also "in-sample"); an unknown name is an error listing the known ones.
Result<std::vector<HeldoutScheme>> parse_heldout(std::string_view list);
std::string_view scheme_name(HeldoutScheme s);

/// What the labels say about one input record.
struct RecordLabel {
  bool labelled = false;
  bool malformed = false;
  bool is_ticket = false;
  std::string category;   // "" when not a ticket
};

/// One label per record (matched on record_key and the end of the file path, as scoring matches).
Result<std::vector<RecordLabel>> label_records(const std::vector<InputRecord>& records,
                                               const std::filesystem::path& labels);

/// Phrasing family per record (see above); -1 for records without a label. `texts` are normalized.
std::vector<int> phrasing_families(const std::vector<std::string>& texts, const std::vector<RecordLabel>& labels);

/// One train/test split: `held_out[i]` is true for the records scored (and not trained on).
struct Split {
  std::string name;
  std::vector<bool> held_out;
};

/// `folds` folds of whole families, balanced by record count (largest family first into the emptiest
/// fold); deterministic. Records with family -1 are never held out.
std::vector<Split> family_folds(const std::vector<int>& family, int folds);
/// One split per channel that has labelled records.
std::vector<Split> channel_splits(const std::vector<InputRecord>& records, const std::vector<RecordLabel>& labels);

struct HeldoutOptions {
  pipeline::PipelineOptions pipeline;   // pipeline.classifier must be classifier_ngram
  std::filesystem::path labels;
  std::filesystem::path categories;     // the category table training adds as prior examples
  int folds = 5;
  std::uint64_t seed = 1;
  Knowledge knowledge;                  // what training adds to the history
};

struct HeldoutResult {
  HeldoutScheme scheme = HeldoutScheme::kInSample;
  std::size_t splits = 0;
  std::size_t families = 0;   // kFamilies only
  Score score;                // held-out records of every split together (merge pairs counted within each split)
};

/// The pipeline options with [plugins.classifier_ngram] `model` replaced by `model` (a candidate model
/// tried with the rest of the configuration as it is).
Result<pipeline::PipelineOptions> with_classifier_model(pipeline::PipelineOptions o, const std::filesystem::path& model);

/// Retrains and scores per split; models go to a temporary folder removed afterwards.
Result<HeldoutResult> evaluate_heldout(const std::vector<InputRecord>& records, HeldoutScheme scheme,
                                       const HeldoutOptions& options);

/// Per-field accuracy side by side: `baseline` (the configured model on every record), then each
/// result, then the gap in points: in-sample (the kInSample result, else `baseline`) minus each other.
std::string heldout_report(const Score& baseline, const std::vector<HeldoutResult>& results);

}  // namespace gridhub::dryrun
