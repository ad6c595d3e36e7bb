#include "gridhub/plugins/router_tiered.hpp"

#include <fmt/format.h>

#include <fstream>
#include <sstream>

#include "gridhub/common/config.hpp"
#include "gridhub/common/fingerprint.hpp"

namespace gridhub::plugins {

TieredRouter::TieredRouter(categories::CategoryTable categories, std::string center_code, std::string data_version)
    : categories_(std::move(categories)), center_code_(std::move(center_code)), data_version_(std::move(data_version)) {}

plugin::Routing TieredRouter::route(const plugin::Record& /*record*/, const plugin::Resolution& res,
                                    const plugin::Classification& cls) noexcept {
  plugin::Routing r;
  if (res.out_of_area) {
    r.tier = "center";
    r.assignee_code = center_code_;
    r.why = {"out_of_area", "address outside the county: manual dispatch by the 12345 centre"};
    return r;
  }
  if (cls.category_code.empty() && !cls.suggestions.empty()) {
    // The classifier abstained: a person at the centre chooses, from the suggestions it recorded.
    r.tier = "center";
    r.assignee_code = center_code_;
    // (The hub routes each suggestion with this same router and appends them to this detail.)
    r.why = {"low_confidence", fmt::format("category confidence {:.2f} below the classifier's threshold: manual "
                                           "dispatch by the 12345 centre",
                                           cls.confidence)};
    return r;
  }
  auto it = categories_.find(cls.category_code);
  if (it == categories_.end()) {
    r.tier = "center";
    r.assignee_code = center_code_;
    r.why = {"unknown_category", fmt::format("category '{}' is not in the category table", cls.category_code)};
    return r;
  }
  const CategoryRule& c = it->second;
  if (c.initial_tier == categories::Tier::kCounty) {
    r.tier = "county";
    r.assignee_code = c.county_dept;
    r.why = {"category_county", fmt::format("{} {} is handled at county tier by {}", c.code, c.name, c.county_dept)};
    return r;
  }
  if (c.initial_tier == categories::Tier::kGrid && !res.grid_code.empty()) {
    r.tier = "grid";
    r.assignee_code = res.grid_code;
    r.why = {"category_grid", fmt::format("{} {} stays in grid {}", c.code, c.name, res.grid_code)};
    return r;
  }
  if (!res.community_code.empty()) {
    r.tier = "community";
    r.assignee_code = res.community_code;
    r.why = {c.initial_tier == categories::Tier::kGrid ? "category_grid_no_grid" : "category_community",
             c.initial_tier == categories::Tier::kGrid
                 ? fmt::format("{} {} is a grid matter but only community {} is known", c.code, c.name, res.community_code)
                 : fmt::format("{} {} stays in community {}", c.code, c.name, res.community_code)};
    return r;
  }
  r.tier = "center";
  r.assignee_code = center_code_;
  r.why = {"place_unknown", fmt::format("{} {} needs a place and none is known: manual dispatch", c.code, c.name)};
  return r;
}

}  // namespace gridhub::plugins

namespace {

using gridhub::plugins::TieredRouter;

gridhub::plugin::Stage* create(const char* config_toml, const char* base_dir, char* error, std::size_t error_size) noexcept {
  try {
    using gridhub::config::Type;
    const gridhub::config::Spec spec = {
        {"categories", Type::kString, true, "path to categories.csv"},
        {"center_code", Type::kString, false, "assignee for manual dispatch"},
    };
    auto cfg = gridhub::config::Config::parse(config_toml, "[plugins.router_tiered]", base_dir, spec);
    auto path = cfg.get_path("categories");
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error(path.string() + ": cannot open categories file");
    std::stringstream ss;
    ss << in.rdbuf();
    const std::string text = ss.str();
    auto cats = gridhub::categories::parse_categories(text, path.string());
    if (!cats) throw std::runtime_error(cats.error().detail);
    const auto version = gridhub::fingerprint("categories", text);
    return new TieredRouter(std::move(cats.value()), cfg.get_string("center_code", gridhub::categories::kDefaultCenterCode),
                            version);
  } catch (const std::exception& e) {
    std::snprintf(error, error_size, "%s", e.what());
    return nullptr;
  }
}

void destroy(gridhub::plugin::Stage* s) noexcept { delete s; }

const gridhub::plugin::Descriptor kDescriptor{
    gridhub::plugin::kAbiVersion, sizeof(gridhub::plugin::Descriptor), "router_tiered",
    gridhub::plugin::Kind::kRouter, "1.0", &create, &destroy};

}  // namespace

const gridhub::plugin::Descriptor* router_tiered_descriptor() noexcept { return &kDescriptor; }
