#pragma once
/// merger_window: reports of the same incident from different channels join one incident.
/// Two reports are compared only within one community of the street (never across communities) and
/// within `window_hours` of each other (either order: exports arrive late). Their place must agree:
/// the same grid, or both known only to the community — never two different grids, compounds or
/// buildings the resolver recognised. Their meaning must agree:
///   same category at one grid                                  -> same_grid_category_window
///   same category, community only, text similarity >= min_similarity -> same_community_category_similar_text
///   related categories (same first related_prefix digits) at one grid, similarity >= related_similarity
///                                                              -> same_place_related_category
///   one report's category is the other's second guess (the classifier's runner-up; for an open
///   incident only when it was abstained on, since the log keeps no other suggestions), at one grid
///   or with min_similarity where only the community is known, similarity >= second_guess_similarity
///                                                              -> same_place_second_guess
///   any categories, text similarity >= text_similarity          -> same_place_similar_text
/// A ticket the classifier abstained on (no category, suggestions only) is compared on its first
/// suggestion: it is still a report of an incident at its place.
/// so two different problems at one address stay two incidents unless their words say otherwise.
/// The strongest meaning wins, then the earliest incident. Each report keeps its own provenance on the
/// ticket. Decisions depend only on the records' own times and order, so replaying the log reproduces
/// them; the host calls merge() in log order, never concurrently.
///
/// Config ([plugins.merger_window]); defaults measured with `gridhubctl route --labels --heldout`
/// on the example county (docs/routing_incidents.md):
/// | key                | default | meaning                                                        |
/// |--------------------|---------|----------------------------------------------------------------|
/// | window_hours       | 6       | how far apart reports of one incident may be                   |
/// | min_similarity     | 0.3     | character-bigram Jaccard needed when only the community is known |
/// | related_prefix     | 0 (off) | leading category-code digits related categories share          |
/// | related_similarity | 0.1     | similarity needed to join a related category at one grid      |
/// | text_similarity    | 0.3     | similarity that joins reports whatever their categories        |
/// | second_guess_similarity | 0.2 | similarity that joins a second-guess category at one place (1: off) |
/// | max_open           | 100000  | incidents remembered at most                                   |
/// | max_reports        | 500     | reports per incident (one ticket's provenance stays bounded)   |

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
  double min_similarity = 0.3;
  std::size_t related_prefix = 0;     // 2: 1501 and 1502 share "15" and are related (off: measured worse)
  double related_similarity = 0.1;
  double text_similarity = 0.3;
  double second_guess_similarity = 0.2;   // measured: 0.1-0.15 cost in-sample precision
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

  /// Whether the merger compares this record at all: a ticket category and a community of the street.
  static bool mergeable(const plugin::Resolution& res, const plugin::Classification& cls);

 private:
  bool related(std::string_view a, std::string_view b) const;
  static std::string place_key(const plugin::Resolution& res);
  static std::string open_second_guess(const plugin::Classification& cls);
  void evict();

  struct Open {   // an incident, as its first report described it
    std::int64_t at_us;
    std::string incident_id;
    std::vector<std::uint64_t> bigrams;   // sorted, unique
    std::string category;                 // the classifier's, or its first suggestion when it abstained
    std::string second_guess;             // an abstained ticket's second suggestion (the log keeps no other's)
    std::string grid;                     // what the resolver recognised, if anything
    std::string compound;
    std::string building;
    std::size_t reports = 1;
  };
  MergerOptions options_;
  std::string version_;
  // By community and grid ("C|" when only the community is known): never merged across communities.
  std::unordered_map<std::string, std::vector<Open>> by_place_;
  std::deque<std::pair<std::string, std::string>> order_;   // (place key, incident) in opening order, for eviction
  std::unordered_map<std::string, std::size_t> recalled_reports_;   // recall: merged reports not yet matched to their incident
};

}  // namespace gridhub::plugins

const gridhub::plugin::Descriptor* merger_window_descriptor() noexcept;
