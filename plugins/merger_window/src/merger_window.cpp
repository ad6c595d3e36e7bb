#include "gridhub/plugins/merger_window.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "gridhub/common/config.hpp"
#include "gridhub/common/time_math.hpp"

namespace gridhub::plugins {

namespace {

std::vector<std::uint64_t> bigrams(std::string_view s) {
  // Code points first, so bigrams are characters, not bytes.
  std::vector<std::uint32_t> cps;
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    const std::size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : 4;
    std::uint32_t cp = 0;
    for (std::size_t k = 0; k < len && i + k < s.size(); ++k) cp = (cp << 8) | static_cast<unsigned char>(s[i + k]);
    i += len;
    // Punctuation and spaces say nothing about the incident.
    if (len == 1 && !std::isalnum(c)) continue;
    if (cp == 0xEFBC8C || cp == 0xE38082 || cp == 0xEFBC81 || cp == 0xEFBC9F) continue;   // ，。！？
    cps.push_back(cp);
  }
  std::vector<std::uint64_t> out;
  for (std::size_t i = 0; i + 1 < cps.size(); ++i) out.push_back((std::uint64_t{cps[i]} << 32) | cps[i + 1]);
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

double jaccard(const std::vector<std::uint64_t>& a, const std::vector<std::uint64_t>& b) {
  if (a.empty() || b.empty()) return 0;
  std::size_t inter = 0;
  std::size_t i = 0;
  std::size_t j = 0;
  while (i < a.size() && j < b.size()) {
    if (a[i] == b[j]) {
      ++inter;
      ++i;
      ++j;
    } else if (a[i] < b[j]) {
      ++i;
    } else {
      ++j;
    }
  }
  return static_cast<double>(inter) / static_cast<double>(a.size() + b.size() - inter);
}

/// How two reports' places relate, from the resolver's answers. Never compared across communities.
enum class Place { kConflict, kCommunity, kGrid };

Place compare_places(const std::string& grid_a, const std::string& compound_a, const std::string& building_a,
                     const plugin::Resolution& b) {
  // Two named places in one community are two incidents, however alike the complaint.
  if (!compound_a.empty() && !b.compound.empty() && compound_a != b.compound) return Place::kConflict;
  if (!building_a.empty() && !b.building.empty() && building_a != b.building) return Place::kConflict;
  if (grid_a.empty() && b.grid_code.empty()) return Place::kCommunity;
  if (grid_a == b.grid_code) return Place::kGrid;
  // Another grid, or one report knows the grid and the other only the community. Measured on the
  // example county's labels, the latter were different incidents in one chat group far more often
  // than one incident (a compound named only by the group's context is no certain place either).
  return Place::kConflict;
}

const char* place_name(Place p) {
  switch (p) {
    case Place::kConflict: return "different places";
    case Place::kCommunity: return "community";
    case Place::kGrid: return "grid";
  }
  return "?";
}

/// What the two reports are about: the strongest evidence first.
enum class Meaning { kNone, kSimilarText, kSecondGuess, kRelatedCategory, kSameCategory };

// The category a report is compared on: the classifier's category, or its first suggestion when it
// abstained (the centre will dispatch it, but it is still a report of some incident at its place).
std::string_view category_of(const plugin::Classification& cls) {
  if (!cls.category_code.empty()) return cls.category_code;
  return cls.suggestions.empty() ? std::string_view{} : std::string_view(cls.suggestions.front().category_code);
}

// The classifier's next most probable category after category_of(): two wordings of one incident are
// often read as two neighbouring categories (暴露垃圾 and 垃圾清运), each the other's second guess.
std::string_view second_guess_of(const plugin::Classification& cls) {
  const std::string_view first = category_of(cls);
  for (const auto& s : cls.suggestions) {
    if (s.category_code != first) return s.category_code;
  }
  return {};
}

}  // namespace

WindowMerger::WindowMerger(MergerOptions options)
    : options_(options),
      version_(fmt::format("window={}h,sim={},related={}:{},text={},second={}", options.window_hours, options.min_similarity,
                           options.related_prefix, options.related_similarity, options.text_similarity,
                           options.second_guess_similarity)) {}

double WindowMerger::similarity(std::string_view a, std::string_view b) { return jaccard(bigrams(a), bigrams(b)); }

bool WindowMerger::related(std::string_view a, std::string_view b) const {
  const std::size_t n = options_.related_prefix;
  return n > 0 && a.size() > n && b.size() > n && a.substr(0, n) == b.substr(0, n);
}

plugin::MergeResult WindowMerger::merge(const plugin::MergeInput& in) noexcept {
  plugin::MergeResult r;
  r.incident_id = std::string(in.ticket_id);
  try {
    const auto& res = *in.resolution;
    const auto& cls = *in.classification;
    const auto& rec = *in.record;
    if (!mergeable(res, cls)) {
      r.why = {"no_place", "not merged: no category or no place in the street to compare"};
      return r;
    }
    // window_hours <= 720 (config bound), so this fits; the differences below are taken saturated
    // because reported_at comes from outside and may be anything an int64 holds.
    const auto window_us = static_cast<std::uint64_t>(options_.window_hours * 3600.0 * 1e6);
    auto grams = bigrams(rec.text);
    const std::string category(category_of(cls));
    const std::string second(second_guess_of(cls));
    auto& open = by_place_[place_key(res)];
    Open* best = nullptr;
    Meaning best_meaning = Meaning::kNone;
    Place best_place = Place::kConflict;
    double best_sim = -1;
    for (auto& o : open) {
      if (abs_diff_micros(o.at_us, rec.reported_at_us) > window_us) continue;
      if (o.reports >= options_.max_reports) continue;
      const Place place = compare_places(o.grid, o.compound, o.building, res);
      if (place == Place::kConflict) continue;
      const double sim = jaccard(grams, o.bigrams);
      // At one grid the category says it is the same matter; where only the community is known, the
      // category and some shared words. When the categories disagree (a classifier's slip, or two
      // readings of one message) only clearly the same words do — two different problems at one
      // address stay two incidents. Related categories (related_prefix, off by default) sit between.
      // A second guess (the new report's, or the open incident's when it was abstained on) counts
      // only with some shared words: two problems at one address are rarely each other's second
      // guess and never also say the same things.
      Meaning meaning = Meaning::kNone;
      const bool second_guess = (!second.empty() && o.category == second) || (!o.second_guess.empty() && o.second_guess == category);
      if (o.category == category) {
        if (place == Place::kGrid || sim >= options_.min_similarity) meaning = Meaning::kSameCategory;
      } else if (related(o.category, category) && place == Place::kGrid && sim >= options_.related_similarity) {
        meaning = Meaning::kRelatedCategory;
      } else if (options_.second_guess_similarity < 1 && second_guess && sim >= options_.second_guess_similarity &&
                 (place == Place::kGrid || sim >= options_.min_similarity)) {
        meaning = Meaning::kSecondGuess;
      } else if (sim >= options_.text_similarity) {
        meaning = Meaning::kSimilarText;
      }
      if (meaning == Meaning::kNone) continue;
      // The strongest evidence wins; then the earliest incident; then similarity.
      const bool better = best == nullptr || meaning > best_meaning ||
                          (meaning == best_meaning &&
                           (o.at_us < best->at_us || (o.at_us == best->at_us && sim > best_sim)));
      if (better) {
        best = &o;
        best_meaning = meaning;
        best_place = place;
        best_sim = sim;
      }
    }
    if (best != nullptr) {
      ++best->reports;
      r.incident_id = best->incident_id;
      r.merged = true;
      const char* rule = "same_grid_category_window";
      switch (best_meaning) {
        case Meaning::kSameCategory:
          rule = best_place == Place::kCommunity ? "same_community_category_similar_text" : "same_grid_category_window";
          break;
        case Meaning::kRelatedCategory: rule = "same_place_related_category"; break;
        case Meaning::kSecondGuess: rule = "same_place_second_guess"; break;
        case Meaning::kSimilarText: rule = "same_place_similar_text"; break;
        case Meaning::kNone: break;
      }
      r.why = {rule, fmt::format("joins {}: category {} ({}), {} {}, {:.1f} h apart, text similarity {:.2f}",
                                 best->incident_id, category, best->category, place_name(best_place),
                                 best_place == Place::kGrid ? res.grid_code : res.community_code,
                                 static_cast<double>(abs_diff_micros(best->at_us, rec.reported_at_us)) / 3.6e9, best_sim)};
      return r;
    }
    open.push_back(Open{rec.reported_at_us, r.incident_id, std::move(grams), category, open_second_guess(cls),
                        res.grid_code, res.compound, res.building});
    order_.emplace_back(place_key(res), r.incident_id);
    evict();
    r.why = {"new_incident", fmt::format("no open incident of category {} or like it at this place within {} h",
                                         category, options_.window_hours)};
  } catch (const std::exception& e) {
    r.why = {"error", e.what()};
  }
  return r;
}

std::string WindowMerger::place_key(const plugin::Resolution& res) {
  // Only reports of one grid, or of one community with no grid, can be one incident (compare_places):
  // keeping them apart keeps each scan short.
  return res.community_code + "|" + res.grid_code;
}

bool WindowMerger::mergeable(const plugin::Resolution& res, const plugin::Classification& cls) {
  return !res.out_of_area && !res.other_town && !category_of(cls).empty() && !res.community_code.empty();
}

std::string WindowMerger::open_second_guess(const plugin::Classification& cls) {
  // Only an abstained ticket's: the log keeps the suggestions of those alone (Ticket.suggestions), so
  // recall() after a restart rebuilds exactly what merge() kept.
  return cls.category_code.empty() ? std::string(second_guess_of(cls)) : std::string{};
}

void WindowMerger::evict() {
  // Bounded memory: forget the oldest incidents beyond max_open.
  while (order_.size() > options_.max_open) {
    const auto [key, incident] = std::move(order_.front());
    order_.pop_front();
    auto it = by_place_.find(key);
    if (it == by_place_.end()) continue;
    auto& v = it->second;
    v.erase(std::remove_if(v.begin(), v.end(), [&](const Open& o) { return o.incident_id == incident; }), v.end());
    if (v.empty()) by_place_.erase(it);
  }
}

bool WindowMerger::recall(const plugin::MergeRecall& past) noexcept {
  try {
    if (past.merged) {
      // Newest first: the reports merged into an incident come before the record that opened it.
      ++recalled_reports_[std::string(past.incident_id)];
      return true;
    }
    const auto& in = past.input;
    const auto& res = *in.resolution;
    const auto& cls = *in.classification;
    std::size_t reports = 1;
    if (auto it = recalled_reports_.find(std::string(past.incident_id)); it != recalled_reports_.end()) {
      reports += it->second;
      recalled_reports_.erase(it);
    }
    // merge() opened no incident for these; neither does recall.
    if (!mergeable(res, cls)) return true;
    // Older incidents go in front: each community's list and the eviction order end up in log order,
    // as merge() would have left them.
    auto& open = by_place_[place_key(res)];
    open.insert(open.begin(), Open{in.record->reported_at_us, std::string(past.incident_id), bigrams(in.record->text),
                                   std::string(category_of(cls)), open_second_guess(cls), res.grid_code, res.compound,
                                   res.building, reports});
    order_.emplace_front(place_key(res), std::string(past.incident_id));
    if (order_.size() < options_.max_open) return true;
    recalled_reports_.clear();   // what was not matched belongs to incidents merge() had already forgotten
    return false;
  } catch (const std::exception&) {
    return false;   // out of memory: what was recalled stands
  }
}

}  // namespace gridhub::plugins

namespace {

gridhub::plugin::Stage* create(const char* config_toml, const char* base_dir, char* error, std::size_t error_size) noexcept {
  try {
    using gridhub::config::Type;
    const gridhub::config::Spec spec = {
        {"window_hours", Type::kFloat, false, "how far apart reports of one incident may be"},
        {"min_similarity", Type::kFloat, false, "text similarity needed when only the community is known"},
        {"related_prefix", Type::kInteger, false, "leading category-code digits two related categories share (0: none)"},
        {"related_similarity", Type::kFloat, false, "text similarity needed to join a related category at one place"},
        {"text_similarity", Type::kFloat, false, "text similarity that joins any categories at one place"},
        {"second_guess_similarity", Type::kFloat, false,
         "text similarity that joins a report to an incident of its classifier's second guess at one place (1: off)"},
        {"max_open", Type::kInteger, false, "incidents remembered at most"},
        {"max_reports", Type::kInteger, false, "reports per incident at most"},
    };
    auto cfg = gridhub::config::Config::parse(config_toml, "[plugins.merger_window]", base_dir, spec);
    gridhub::plugins::MergerOptions o;
    o.window_hours = cfg.get_float("window_hours", o.window_hours, 0, 24 * 30);
    o.min_similarity = cfg.get_float("min_similarity", o.min_similarity, 0, 1);
    o.related_prefix = static_cast<std::size_t>(cfg.get_int("related_prefix", static_cast<std::int64_t>(o.related_prefix), 0, 8));
    o.related_similarity = cfg.get_float("related_similarity", o.related_similarity, 0, 1);
    o.text_similarity = cfg.get_float("text_similarity", o.text_similarity, 0, 1);
    o.second_guess_similarity = cfg.get_float("second_guess_similarity", o.second_guess_similarity, 0, 1);
    o.max_open = static_cast<std::size_t>(cfg.get_int("max_open", static_cast<std::int64_t>(o.max_open), 1, 100000000));
    o.max_reports = static_cast<std::size_t>(cfg.get_int("max_reports", static_cast<std::int64_t>(o.max_reports), 1, 1000000));
    return new gridhub::plugins::WindowMerger(o);
  } catch (const std::exception& e) {
    std::snprintf(error, error_size, "%s", e.what());
    return nullptr;
  }
}

void destroy(gridhub::plugin::Stage* s) noexcept { delete s; }

const gridhub::plugin::Descriptor kDescriptor{
    gridhub::plugin::kAbiVersion, sizeof(gridhub::plugin::Descriptor), "merger_window",
    gridhub::plugin::Kind::kMerger, "1.0", &create, &destroy};

}  // namespace

const gridhub::plugin::Descriptor* merger_window_descriptor() noexcept { return &kDescriptor; }
