#pragma once
/// The county's category table (world/categories.csv): one loader, one set of rules, for every reader
/// that needs tiers, departments or SLA hours (the tiered router, the SLA policy).
///
/// Columns, by header name (order free, other columns ignored):
///   category_code        required, non-empty, unique
///   category_name        optional column (used in explanations)
///   initial_tier         required: grid | community | county
///   county_dept_code     required, non-empty: the department a ticket reaches at county tier
///   sla_hours_grid, sla_hours_community, sla_hours_county
///                        required columns; a cell is whole hours in 1..8760, or empty or "-" for
///                        "this tier has no clock for the category"
/// The file is UTF-8, with or without a byte-order mark, LF or CRLF line ends; blank lines are
/// skipped; quoted cells follow RFC 4180. Every error names file:line (column).

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "gridhub/common/result.hpp"

namespace gridhub::categories {

/// The 12345 centre's assignee code (manual dispatch) when a config does not name one. Defined once,
/// here, for the router plugin, the SLA policy and the lifecycle.
inline constexpr std::string_view kDefaultCenterCode = "CTR_12345";

/// The largest SLA a cell may give one tier: a year.
inline constexpr int kMaxHours = 24 * 365;

enum class Tier { kGrid, kCommunity, kCounty };

/// "grid", "community", "county".
std::string_view tier_name(Tier tier) noexcept;

struct Category {
  std::string code;
  std::string name;
  Tier initial_tier = Tier::kGrid;
  std::string county_dept;
  std::optional<int> hours_grid;        // nullopt: no clock at that tier
  std::optional<int> hours_community;
  std::optional<int> hours_county;

  std::optional<int> hours(Tier tier) const noexcept;
};

using CategoryTable = std::map<std::string, Category, std::less<>>;

/// Parses a categories.csv already read into memory; `file` names it in errors.
Result<CategoryTable> parse_categories(std::string_view text, const std::string& file);
/// Reads and parses the file.
Result<CategoryTable> load_categories(const std::filesystem::path& file);

}  // namespace gridhub::categories
