#pragma once
/// How long each tier may hold a ticket of a category, and where a breached ticket goes next.
///
/// Hours come from the county's categories.csv (category_code, initial_tier, county_dept_code,
/// sla_hours_grid, sla_hours_community, sla_hours_county; an empty cell = that tier has no clock).
/// Hub config keys (declared in settings_spec(), under [sla]):
///   sla.calendar     path    required   the working-hours calendar (WorkCalendar)
///   sla.categories   path    required   categories.csv
///   sla.max_returns  int     3          "not ours" returns before a ticket goes to the centre
///   sla.center_code  string  CTR_12345  the 12345 centre's assignee code (manual dispatch)

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>

#include "gridhub/common/config.hpp"
#include "gridhub/v1/ticket.pb.h"

namespace gridhub::sla {

/// "Not ours" returns before a ticket goes to the centre, when sla.max_returns is not set — and the
/// limit the lifecycle applies when the hub runs without an [sla] policy. Defined once, here.
inline constexpr int kDefaultMaxReturns = 3;

struct SlaSettings {
  std::filesystem::path calendar;
  std::filesystem::path categories;
  int max_returns = kDefaultMaxReturns;
  std::string center_code = "CTR_12345";

  static const config::Spec& spec();
  static SlaSettings from_config(const config::Config& cfg);
};

struct CategorySla {
  std::string code;
  v1::Tier initial_tier = v1::TIER_UNSPECIFIED;
  std::string county_dept;
  std::optional<int> hours_grid;
  std::optional<int> hours_community;
  std::optional<int> hours_county;
};

class SlaPolicy {
 public:
  /// Throws config::ConfigError naming file:line (column) for a bad or missing value.
  static SlaPolicy load(const std::filesystem::path& categories_csv, int max_returns = kDefaultMaxReturns,
                        std::string center_code = "CTR_12345");
  static SlaPolicy load(const SlaSettings& settings) {
    return load(settings.categories, settings.max_returns, settings.center_code);
  }
  SlaPolicy(std::map<std::string, CategorySla> categories, int max_returns, std::string center_code)
      : categories_(std::move(categories)), max_returns_(max_returns), center_code_(std::move(center_code)) {}

  /// Working hours `tier` has for `category`; nullopt = no clock (unknown category, or empty cell).
  std::optional<int> hours(const std::string& category, v1::Tier tier) const;
  const CategorySla* category(const std::string& code) const;

  int max_returns() const noexcept { return max_returns_; }
  const std::string& center_code() const noexcept { return center_code_; }

 private:
  std::map<std::string, CategorySla> categories_;
  int max_returns_;
  std::string center_code_;
};

}  // namespace gridhub::sla
