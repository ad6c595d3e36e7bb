#pragma once
/// router_tiered: "small matters stay in the grid, big ones stay in the community, and only then
/// county departments". Each category's initial tier (categories.csv) decides the assignee:
///   1. out-of-county address                         -> center, CTR_12345 (manual dispatch)
///   2. initial tier county                           -> county, the category's county department
///   3. initial tier grid and the grid is known       -> grid, the grid
///   4. initial tier grid/community, community known  -> community, the community office
///   5. otherwise (unknown category or place)         -> center, CTR_12345
/// The SLA clock starts at the report time with the category's hours for that tier (wall-clock hours
/// for now; the working-hours calendar comes with SLA escalation).
///
/// Config ([plugins.router_tiered]): categories (path to categories.csv, required),
/// center_code (default "CTR_12345").

#include <filesystem>
#include <map>
#include <string>

#include "gridhub/common/result.hpp"
#include "gridhub/plugin/api.hpp"

namespace gridhub::plugins {

struct CategoryRule {
  std::string code;
  std::string name;
  std::string initial_tier;   // grid | community | county
  std::string county_dept;
  int sla_hours_grid = 0;     // 0 = tier not in this category's chain
  int sla_hours_community = 0;
  int sla_hours_county = 0;
};

/// Reads categories.csv (category_code, category_name, description, initial_tier, county_dept_code,
/// sla_hours_grid, sla_hours_community, sla_hours_county); errors name file, line and column.
Result<std::map<std::string, CategoryRule>> load_categories(const std::filesystem::path& file);

class TieredRouter final : public plugin::Router {
 public:
  TieredRouter(std::map<std::string, CategoryRule> categories, std::string center_code, std::string data_version);
  plugin::Routing route(const plugin::Record& record, const plugin::Resolution& resolution,
                        const plugin::Classification& classification) noexcept override;
  std::string_view data_version() const noexcept override { return data_version_; }

 private:
  std::map<std::string, CategoryRule> categories_;
  std::string center_code_;
  std::string data_version_;
};

}  // namespace gridhub::plugins

const gridhub::plugin::Descriptor* router_tiered_descriptor() noexcept;
