#pragma once
/// merger_window: reports of the same incident from different channels join one incident.
/// Two tickets are the same incident when they have the same category, the same place — the same
/// grid, or (when only the community is known) the same community and similar text; never two
/// different compounds or buildings the resolver recognised — and were
/// reported within `window_hours` of each other (either order: exports arrive late). The earliest
/// matching incident wins; each report keeps its own provenance on the ticket.
/// Decisions depend only on the records' own times and order, so replaying the log reproduces them.
///
/// Config ([plugins.merger_window]): window_hours (default 6), min_similarity (default 0.2, character
/// bigram Jaccard, used when only the community is known), max_open (default 100000 incidents kept),
/// max_reports (default 500 reports per incident, so one ticket's provenance stays bounded).

#include <cstdint>
#include <deque>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "gridhub/plugin/api.hpp"

namespace gridhub::plugins {

struct MergerOptions {
  double window_hours = 6;
  double min_similarity = 0.2;
  std::size_t max_open = 100000;
  std::size_t max_reports = 500;   // reports per incident; beyond it a new incident starts (bounded tickets)
};

class WindowMerger final : public plugin::Merger {
 public:
  explicit WindowMerger(MergerOptions options);
  plugin::MergeResult merge(const plugin::MergeInput& input) noexcept override;
  /// Rebuilds the open incidents newest first: the last max_open incidents opened, each with the
  /// reports merged into it, in their log order (as merge() left them). Stops after max_open.
  bool recall(const plugin::MergeRecall& past) noexcept override;
  std::string_view data_version() const noexcept override { return version_; }

  /// Character-bigram Jaccard similarity of two UTF-8 texts (0..1).
  static double similarity(std::string_view a, std::string_view b);

 private:
  struct Open {
    std::int64_t at_us;
    std::string incident_id;
    std::vector<std::uint64_t> bigrams;   // sorted, unique
    std::string compound;                 // what the resolver recognised, if anything
    std::string building;
    std::size_t reports = 1;
  };
  MergerOptions options_;
  std::string version_;
  std::unordered_map<std::string, std::vector<Open>> by_place_;
  std::deque<std::pair<std::int64_t, std::string>> order_;   // (time, place key) for eviction
  std::unordered_map<std::string, std::size_t> recalled_reports_;   // recall: merged reports not yet matched to their incident
};

}  // namespace gridhub::plugins

const gridhub::plugin::Descriptor* merger_window_descriptor() noexcept;
