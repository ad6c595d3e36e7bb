#pragma once
/// How long each tier may hold a ticket of a category, and where a breached ticket goes next.
///
/// Hours come from the county's categories.csv, read by the one loader the tiered router uses too
/// (gridhub/categories/categories.hpp: its columns and rules; an empty or "-" cell = no clock).
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

#include "gridhub/categories/categories.hpp"
#include "gridhub/common/config.hpp"
#include "gridhub/sla/work_calendar.hpp"
#include "gridhub/v1/ticket.pb.h"

namespace gridhub::sla {

/// "Not ours" returns before a ticket goes to the centre, when sla.max_returns is not set — and the
/// limit the lifecycle applies when the hub runs without an [sla] policy. Defined once, here.
inline constexpr int kDefaultMaxReturns = 3;

struct SlaSettings {
  std::filesystem::path calendar;
  std::filesystem::path categories;
  int max_returns = kDefaultMaxReturns;
  std::string center_code{categories::kDefaultCenterCode};

  static const config::Spec& spec();
  static SlaSettings from_config(const config::Config& cfg);
};

using CategorySla = categories::Category;

class SlaPolicy {
 public:
  /// Throws config::ConfigError naming file:line (column) for a bad or missing value.
  static SlaPolicy load(const std::filesystem::path& categories_csv, int max_returns = kDefaultMaxReturns,
                        std::string center_code = std::string(categories::kDefaultCenterCode));
  static SlaPolicy load(const SlaSettings& settings) {
    return load(settings.categories, settings.max_returns, settings.center_code);
  }
  SlaPolicy(categories::CategoryTable categories, int max_returns, std::string center_code)
      : categories_(std::move(categories)), max_returns_(max_returns), center_code_(std::move(center_code)) {}

  /// Working hours `tier` has for `category`; nullopt = no clock (unknown category, or empty cell).
  std::optional<int> hours(const std::string& category, v1::Tier tier) const;
  const CategorySla* category(const std::string& code) const;

  int max_returns() const noexcept { return max_returns_; }
  const std::string& center_code() const noexcept { return center_code_; }

  /// THE due time: when a ticket of `category` handed to `tier` at `start` (Unix micros, the hub's
  /// injected clock) must be answered — start plus the tier's hours counted on `calendar`. nullopt:
  /// no clock (unknown category, empty cell, the centre's tier, or a calendar without working time).
  /// Intake, returns, escalations and the escalation plan all take their deadline from here.
  std::optional<std::int64_t> due(const WorkCalendar& calendar, const std::string& category, v1::Tier tier,
                                  std::int64_t start) const;

 private:
  categories::CategoryTable categories_;
  int max_returns_;
  std::string center_code_;
};

}  // namespace gridhub::sla
