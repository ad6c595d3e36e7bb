#pragma once
/// A working-hours calendar: which instants count towards an SLA clock.
///
/// Config keys (a TOML file of its own, e.g. examples/wugong/calendar.toml):
///   utc_offset       string  "+08:00"          local offset, fixed (China has no DST)
///   periods          [string] required         working periods of a working day, "HH:MM-HH:MM", ascending
///   weekend          [string] ["Sat","Sun"]    weekdays not worked (Mon..Sun)
///   holidays         [string] []               dates "YYYY-MM-DD" or ranges "YYYY-MM-DD..YYYY-MM-DD" not worked
///   makeup_workdays  [string] []               dates that ARE worked although they fall on a weekend (调休)
///
/// All instants are Unix microseconds, UTC (gridhub::v1::Timestamp::unix_micros). A working day is a
/// make-up day, or a day that is neither a holiday nor a weekend day. Errors name file:line (key).

#include <cstdint>
#include <filesystem>
#include <limits>
#include <set>
#include <string_view>
#include <utility>
#include <vector>

#include "gridhub/common/config.hpp"

namespace gridhub::sla {

/// Returned by add_working() when no working time follows within ten years (a calendar that is all
/// holidays): the clock never runs out.
inline constexpr std::int64_t kNever = std::numeric_limits<std::int64_t>::max();

inline constexpr std::int64_t kMicrosPerMinute = 60'000'000;
inline constexpr std::int64_t kMicrosPerHour = 60 * kMicrosPerMinute;

class WorkCalendar {
 public:
  struct Period {
    int begin_minute;   // minutes after local midnight, inclusive
    int end_minute;     // exclusive
  };

  /// The keys above, for callers that embed them in a larger declared config.
  static const config::Spec& spec();
  /// Throws config::ConfigError naming file:line (key).
  static WorkCalendar load_file(const std::filesystem::path& file);
  static WorkCalendar from_config(const config::Config& cfg);

  /// The instant at which `amount` micros of working time have passed since `start`. If `start` is
  /// outside working time the clock starts at the next working period. A due time that lands exactly
  /// on the end of a period is that end (12:00), not the start of the next one (14:00).
  std::int64_t add_working(std::int64_t start, std::int64_t amount) const;
  std::int64_t add_working_hours(std::int64_t start, std::int64_t hours) const {
    return add_working(start, hours * kMicrosPerHour);
  }
  std::int64_t add_working_minutes(std::int64_t start, std::int64_t minutes) const {
    return add_working(start, minutes * kMicrosPerMinute);
  }
  /// Working time in [from, to); 0 when to <= from.
  std::int64_t working_between(std::int64_t from, std::int64_t to) const;
  bool is_working(std::int64_t instant) const;
  /// Whether the local date (days since 1970-01-01, local) is a working day.
  bool is_working_day(std::int64_t local_day) const;

  int utc_offset_minutes() const noexcept { return offset_minutes_; }
  const std::vector<Period>& periods() const noexcept { return periods_; }

 private:
  int offset_minutes_ = 8 * 60;
  std::vector<Period> periods_;
  unsigned weekend_mask_ = 0;            // bit d set: weekday d (0 = Sunday .. 6 = Saturday) is off
  std::set<std::int64_t> holidays_;      // local days
  std::set<std::int64_t> makeup_days_;   // local days
};

}  // namespace gridhub::sla
