#pragma once
/// router_tiered: "small matters stay in the grid, big ones stay in the community, and only then
/// county departments". Each category's initial tier (categories.csv) decides the assignee:
///   1. out-of-county address                         -> center, CTR_12345 (manual dispatch)
///   1a. the classifier abstained (no category, suggestions) -> center, CTR_12345 (manual dispatch)
///   2. initial tier county                           -> county, the category's county department
///   3. initial tier grid and the grid is known       -> grid, the grid
///   4. initial tier grid/community, community known  -> community, the community office
///   5. otherwise (unknown category or place)         -> center, CTR_12345
/// The router sets no deadline: the hub's [sla] policy starts the clock on the working calendar when it
/// stores the assignment (the same categories.csv, read by the same loader).
///
/// Config ([plugins.router_tiered]): categories (path to categories.csv, required, read by the one
/// loader in gridhub/categories), center_code (default categories::kDefaultCenterCode, "CTR_12345").

#include <filesystem>
#include <string>

#include "gridhub/categories/categories.hpp"
#include "gridhub/plugin/api.hpp"

namespace gridhub::plugins {

using CategoryRule = categories::Category;
using categories::load_categories;

class TieredRouter final : public plugin::Router {
 public:
  TieredRouter(categories::CategoryTable categories, std::string center_code, std::string data_version);
  plugin::Routing route(const plugin::Record& record, const plugin::Resolution& resolution,
                        const plugin::Classification& classification) noexcept override;
  std::string_view data_version() const noexcept override { return data_version_; }

 private:
  categories::CategoryTable categories_;
  std::string center_code_;
  std::string data_version_;
};

}  // namespace gridhub::plugins

const gridhub::plugin::Descriptor* router_tiered_descriptor() noexcept;
