#pragma once
/// Scoring a dry run against labelled truth (the columns of the example county's labels.csv):
/// per-field accuracy, the most confused pairs, duplicate-merge F1 (pairwise, over tickets) and
/// out-of-area recall. This is how a county tests a rule set before going live.

#include <filesystem>
#include <map>
#include <string>
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
};

/// One JSON object per row, keys in the labels' order.
std::string to_json(const RouteRow& row);

struct FieldScore {
  std::size_t right = 0;
  std::size_t total = 0;
  std::map<std::pair<std::string, std::string>, std::size_t> confused;   // (truth, predicted) -> count
  double accuracy() const { return total == 0 ? 1.0 : static_cast<double>(right) / static_cast<double>(total); }
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
};

/// `labels` is a labels.csv; its `file` column is matched against the end of each row's file path.
Result<Score> score(const std::vector<RouteRow>& rows, const std::filesystem::path& labels);

/// A readable report: one line per field with accuracy, then the top confusions.
std::string report(const Score& s, std::size_t top_confusions = 5);

}  // namespace gridhub::dryrun
