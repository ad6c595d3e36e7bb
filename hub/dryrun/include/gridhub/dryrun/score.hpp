#pragma once
/// Scoring a dry run against labelled truth (the columns of the example county's labels.csv):
/// per-field accuracy, the most confused pairs, duplicate-merge F1 (pairwise, over tickets) and
/// out-of-area recall. This is how a county tests a rule set before going live.

#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "gridhub/common/result.hpp"

namespace gridhub::dryrun {

/// One routed record, in the labels' columns.
struct RouteRow {
  std::string channel;
  std::string file;
  std::string record_key;
  bool is_ticket = false;
  bool malformed = false;
  std::string category_code;
  std::string community_code;
  std::string grid_code;
  std::string tier;
  std::string assignee_code;
  std::string incident_id;
  bool out_of_area = false;
  int run = 0;   // not printed: rows of different pipeline runs (held-out splits) never form a pair
  // Confidence and abstention (tickets only).
  double confidence = 0;      // the classifier's calibrated category confidence
  bool abstained = false;     // below the classifier's min_confidence: left to the 12345 centre
  struct Suggestion {
    std::string category_code, tier, assignee_code;
    double confidence = 0;
  };
  std::vector<Suggestion> suggestions;   // when abstained: the top three, routed, best first
};

/// One JSON object per row, keys in the labels' order.
std::string to_json(const RouteRow& row);

struct FieldScore {
  std::size_t right = 0;
  std::size_t total = 0;
  std::map<std::pair<std::string, std::string>, std::size_t> confused;   // (truth, predicted) -> count
  double accuracy() const { return total == 0 ? 1.0 : static_cast<double>(right) / static_cast<double>(total); }
};

/// One scored ticket for precision at coverage: its confidence, whether it was auto-dispatched at the
/// configured threshold, and whether its first choice (the category and assignee it gets when
/// dispatched automatically) was right.
struct DispatchPoint {
  double confidence = 0;
  bool abstained = false;
  bool category_right = false;
  bool assignee_right = false;
};

/// Accuracy of the auto-dispatched tickets and the share auto-dispatched.
struct Coverage {
  std::size_t tickets = 0, dispatched = 0, category_right = 0, assignee_right = 0;
  double coverage() const { return tickets == 0 ? 1.0 : static_cast<double>(dispatched) / static_cast<double>(tickets); }
  double category_accuracy() const {
    return dispatched == 0 ? 1.0 : static_cast<double>(category_right) / static_cast<double>(dispatched);
  }
  double assignee_accuracy() const {
    return dispatched == 0 ? 1.0 : static_cast<double>(assignee_right) / static_cast<double>(dispatched);
  }
};

struct Score {
  std::size_t matched = 0;            // rows found in the labels
  std::size_t unlabelled = 0;         // rows with no label row
  std::size_t missing = 0;            // label rows (of the files given) with no row
  std::map<std::string, FieldScore> fields;   // is_ticket, malformed, category_code, community_code, grid_code, tier, assignee_code
  double merge_precision = 1, merge_recall = 1, merge_f1 = 1;   // over pairs of tickets (truth and output)
  /// Pairwise merge over every pair of labelled, well-formed reports (tickets, merged location messages,
  /// reports the pipeline did not take for tickets): "one incident in the labels" vs "one ticket in the
  /// output". A report the output leaves out of every ticket pairs with nothing.
  std::size_t pairs_tp = 0, pairs_fp = 0, pairs_fn = 0;
  double pairs_precision() const { return pairs_tp + pairs_fp == 0 ? 1.0 : double(pairs_tp) / double(pairs_tp + pairs_fp); }
  double pairs_recall() const { return pairs_tp + pairs_fn == 0 ? 1.0 : double(pairs_tp) / double(pairs_tp + pairs_fn); }
  double pairs_f1() const {
    const double p = pairs_precision(), r = pairs_recall();
    return p + r == 0 ? 0 : 2 * p * r / (p + r);
  }
  std::size_t out_of_area_truth = 0, out_of_area_found = 0;
  double out_of_area_recall() const {
    return out_of_area_truth == 0 ? 1.0 : static_cast<double>(out_of_area_found) / static_cast<double>(out_of_area_truth);
  }
  // Tickets in truth and in the output, out-of-area ones aside (they go to the centre whatever the
  // confidence). category_code and assignee_code above score an abstained ticket's first suggestion,
  // so they measure the classifier; `dispatch` measures what abstention leaves to people.
  std::vector<DispatchPoint> dispatch;
  std::size_t abstained = 0;
  /// At the configured threshold (as the run abstained).
  Coverage configured_coverage() const;
  /// As if the threshold were `threshold` (auto-dispatched when confidence >= threshold).
  Coverage coverage_at(double threshold) const;
};

/// `labels` is a labels.csv; its `file` column is matched against the end of each row's file path.
Result<Score> score(const std::vector<RouteRow>& rows, const std::filesystem::path& labels);

/// A readable report: one line per field with accuracy, then the top confusions, then precision at
/// coverage (coverage_report).
std::string report(const Score& s, std::size_t top_confusions = 5);

/// "  confused: 1102->1101 x17, ..." — a field's `top` most frequent (truth -> predicted) pairs.
std::string confusions(const FieldScore& f, std::size_t top = 5);

/// Precision at coverage: the configured threshold's line, then a table over thresholds so a county
/// can choose its own (`indent` prefixes every line).
std::string coverage_report(const Score& s, std::string_view indent = "");

/// Reliability of the category confidence: ten bins of confidence, each bin's mean confidence vs its
/// category accuracy, and the expected calibration error (the count-weighted mean gap), one line.
std::string reliability_report(const Score& s);

}  // namespace gridhub::dryrun
