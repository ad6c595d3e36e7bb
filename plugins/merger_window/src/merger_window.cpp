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

}  // namespace

WindowMerger::WindowMerger(MergerOptions options)
    : options_(options),
      version_(fmt::format("window={}h,sim={}", options.window_hours, options.min_similarity)) {}

double WindowMerger::similarity(std::string_view a, std::string_view b) { return jaccard(bigrams(a), bigrams(b)); }

plugin::MergeResult WindowMerger::merge(const plugin::MergeInput& in) noexcept {
  plugin::MergeResult r;
  r.incident_id = std::string(in.ticket_id);
  try {
    const auto& res = *in.resolution;
    const auto& cls = *in.classification;
    const auto& rec = *in.record;
    if (res.out_of_area || cls.category_code.empty() || (res.grid_code.empty() && res.community_code.empty())) {
      r.why = {"no_place", "not merged: no category or no place to compare"};
      return r;
    }
    const bool grid_level = !res.grid_code.empty();
    const std::string key = cls.category_code + "|" + (grid_level ? res.grid_code : "C" + res.community_code);
    // window_hours <= 720 (config bound), so this fits; the differences below are taken saturated
    // because reported_at comes from outside and may be anything an int64 holds.
    const auto window_us = static_cast<std::uint64_t>(options_.window_hours * 3600.0 * 1e6);
    auto grams = bigrams(rec.text);
    auto& open = by_place_[key];
    Open* best = nullptr;
    double best_sim = -1;
    for (auto& o : open) {
      if (abs_diff_micros(o.at_us, rec.reported_at_us) > window_us) continue;
      if (o.reports >= options_.max_reports) continue;
      // Two named places in one grid are two incidents, however alike the complaint.
      if (!o.compound.empty() && !res.compound.empty() && o.compound != res.compound) continue;
      if (!o.building.empty() && !res.building.empty() && o.building != res.building) continue;
      const double sim = jaccard(grams, o.bigrams);
      if (!grid_level && sim < options_.min_similarity) continue;
      // The earliest incident in the window wins; similarity breaks ties.
      if (best == nullptr || o.at_us < best->at_us || (o.at_us == best->at_us && sim > best_sim)) {
        best = &o;
        best_sim = sim;
      }
    }
    if (best != nullptr) {
      ++best->reports;
      r.incident_id = best->incident_id;
      r.merged = true;
      r.why = {grid_level ? "same_grid_category_window" : "same_community_category_similar_text",
               fmt::format("joins {}: category {}, {} {}, {:.1f} h apart, text similarity {:.2f}", best->incident_id,
                           cls.category_code, grid_level ? "grid" : "community",
                           grid_level ? res.grid_code : res.community_code,
                           static_cast<double>(abs_diff_micros(best->at_us, rec.reported_at_us)) / 3.6e9, best_sim)};
      return r;
    }
    open.push_back(Open{rec.reported_at_us, r.incident_id, std::move(grams), res.compound, res.building});
    order_.emplace_back(rec.reported_at_us, key);
    // Bounded memory: forget the oldest incidents beyond max_open.
    while (order_.size() > options_.max_open) {
      const std::int64_t t = order_.front().first;
      const std::string k = order_.front().second;
      order_.pop_front();
      auto it = by_place_.find(k);
      if (it != by_place_.end()) {
        auto& v = it->second;
        v.erase(std::remove_if(v.begin(), v.end(), [&](const Open& o) { return o.at_us == t; }), v.end());
        if (v.empty()) by_place_.erase(it);
      }
    }
    r.why = {"new_incident", fmt::format("no open incident of category {} at this place within {} h", cls.category_code,
                                         options_.window_hours)};
  } catch (const std::exception& e) {
    r.why = {"error", e.what()};
  }
  return r;
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
    if (res.out_of_area || cls.category_code.empty() || (res.grid_code.empty() && res.community_code.empty())) {
      return true;
    }
    const bool grid_level = !res.grid_code.empty();
    const std::string key = cls.category_code + "|" + (grid_level ? res.grid_code : "C" + res.community_code);
    // Older incidents go in front: each place's list and the eviction order end up in log order, as
    // merge() would have left them.
    auto& open = by_place_[key];
    open.insert(open.begin(), Open{in.record->reported_at_us, std::string(past.incident_id), bigrams(in.record->text),
                                   res.compound, res.building, reports});
    order_.emplace_front(in.record->reported_at_us, key);
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
        {"max_open", Type::kInteger, false, "incidents remembered at most"},
        {"max_reports", Type::kInteger, false, "reports per incident at most"},
    };
    auto cfg = gridhub::config::Config::parse(config_toml, "[plugins.merger_window]", base_dir, spec);
    gridhub::plugins::MergerOptions o;
    o.window_hours = cfg.get_float("window_hours", 6, 0, 24 * 30);
    o.min_similarity = cfg.get_float("min_similarity", 0.2, 0, 1);
    o.max_open = static_cast<std::size_t>(cfg.get_int("max_open", 100000, 1, 100000000));
    o.max_reports = static_cast<std::size_t>(cfg.get_int("max_reports", 500, 1, 1000000));
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
