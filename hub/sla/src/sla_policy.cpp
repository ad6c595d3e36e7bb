#include "gridhub/sla/sla_policy.hpp"

#include <fmt/format.h>

namespace gridhub::sla {

using config::ConfigError;
using config::Type;

const config::Spec& SlaSettings::spec() {
  static const config::Spec kSpec = {
      {"sla.calendar", Type::kString, true, "working-hours calendar file (docs/lifecycle.md)"},
      {"sla.categories", Type::kString, true, "categories.csv with sla_hours_grid/community/county"},
      {"sla.max_returns", Type::kInteger, false,
       fmt::format("\"not ours\" returns before manual dispatch (default {})", kDefaultMaxReturns)},
      {"sla.center_code", Type::kString, false,
       fmt::format("assignee code of the 12345 centre (default {})", categories::kDefaultCenterCode)},
  };
  return kSpec;
}

SlaSettings SlaSettings::from_config(const config::Config& cfg) {
  SlaSettings s;
  s.calendar = cfg.get_path("sla.calendar");
  s.categories = cfg.get_path("sla.categories");
  s.max_returns = static_cast<int>(cfg.get_int("sla.max_returns", kDefaultMaxReturns, 0, 100));
  s.center_code = cfg.get_string("sla.center_code", categories::kDefaultCenterCode);
  if (s.center_code.empty()) throw ConfigError(fmt::format("{}: must not be empty", cfg.where("sla.center_code")));
  return s;
}

SlaPolicy SlaPolicy::load(const std::filesystem::path& file, int max_returns, std::string center_code) {
  auto table = categories::load_categories(file);
  if (!table) throw ConfigError(table.error().detail);
  return SlaPolicy(std::move(table.value()), max_returns, std::move(center_code));
}

const CategorySla* SlaPolicy::category(const std::string& code) const {
  auto it = categories_.find(code);
  return it == categories_.end() ? nullptr : &it->second;
}

std::optional<int> SlaPolicy::hours(const std::string& code, v1::Tier tier) const {
  const CategorySla* c = category(code);
  if (c == nullptr) return std::nullopt;
  switch (tier) {
    case v1::TIER_GRID: return c->hours(categories::Tier::kGrid);
    case v1::TIER_COMMUNITY: return c->hours(categories::Tier::kCommunity);
    case v1::TIER_COUNTY: return c->hours(categories::Tier::kCounty);
    case v1::TIER_UNSPECIFIED:
    case v1::TIER_CENTER:
    case v1::Tier_INT_MIN_SENTINEL_DO_NOT_USE_:
    case v1::Tier_INT_MAX_SENTINEL_DO_NOT_USE_:
      return std::nullopt;
  }
  return std::nullopt;
}

std::optional<std::int64_t> SlaPolicy::due(const WorkCalendar& calendar, const std::string& category, v1::Tier tier,
                                           std::int64_t start) const {
  const auto h = hours(category, tier);
  if (!h || *h <= 0) return std::nullopt;
  const std::int64_t at = calendar.add_working_hours(start, *h);
  if (at == kNever) return std::nullopt;
  return at;
}

}  // namespace gridhub::sla
