#include "gridhub/sla/work_calendar.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <optional>
#include <string>

namespace gridhub::sla {

namespace {

using config::ConfigError;
using config::Type;

constexpr std::int64_t kMicrosPerDay = 24 * kMicrosPerHour;
// Longest run of non-working days the calendar walks before it gives up (kNever).
constexpr std::int64_t kMaxDaysWalked = 3660;
// A single holiday range longer than this is a typo (a wrong year), not a holiday.
constexpr std::int64_t kMaxHolidayRangeDays = 60;

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  std::int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

std::optional<int> parse_int(std::string_view s) {
  int v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || p != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

// "HH:MM" -> minutes after midnight; "24:00" allowed as an end.
std::optional<int> parse_hhmm(std::string_view s) {
  if (s.size() != 5 || s[2] != ':') return std::nullopt;
  auto h = parse_int(s.substr(0, 2));
  auto m = parse_int(s.substr(3, 2));
  if (!h || !m || *h < 0 || *m < 0 || *m > 59 || *h > 24 || (*h == 24 && *m != 0)) return std::nullopt;
  return *h * 60 + *m;
}

// "YYYY-MM-DD" -> days since 1970-01-01 (a calendar date, no time zone).
std::optional<std::int64_t> parse_date(std::string_view s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return std::nullopt;
  auto y = parse_int(s.substr(0, 4));
  auto m = parse_int(s.substr(5, 2));
  auto d = parse_int(s.substr(8, 2));
  if (!y || !m || !d) return std::nullopt;
  const std::chrono::year_month_day ymd{std::chrono::year{*y}, std::chrono::month{static_cast<unsigned>(*m)},
                                        std::chrono::day{static_cast<unsigned>(*d)}};
  if (!ymd.ok()) return std::nullopt;
  return std::chrono::sys_days{ymd}.time_since_epoch().count();
}

std::optional<int> parse_weekday(std::string_view s) {
  static constexpr std::array<std::string_view, 7> kNames = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  for (std::size_t i = 0; i < kNames.size(); ++i) {
    if (s == kNames[i]) return static_cast<int>(i);
  }
  return std::nullopt;
}

int weekday_of(std::int64_t day) {
  return static_cast<int>(
      std::chrono::weekday{std::chrono::sys_days{std::chrono::days{day}}}.c_encoding());
}

// "+08:00" / "-05:30" / "Z"
std::optional<int> parse_offset(std::string_view s) {
  if (s == "Z") return 0;
  if (s.size() != 6 || (s[0] != '+' && s[0] != '-')) return std::nullopt;
  auto hm = parse_hhmm(s.substr(1));
  if (!hm || *hm > 14 * 60) return std::nullopt;
  return s[0] == '-' ? -*hm : *hm;
}

}  // namespace

const config::Spec& WorkCalendar::spec() {
  static const config::Spec kSpec = {
      {"utc_offset", Type::kString, false, "local UTC offset, \"+08:00\" (fixed; no DST)"},
      {"periods", Type::kStringArray, true, "working periods of a working day, \"HH:MM-HH:MM\", ascending"},
      {"weekend", Type::kStringArray, false, "weekdays not worked, Mon..Sun (default Sat, Sun)"},
      {"holidays", Type::kStringArray, false, "statutory holidays: \"YYYY-MM-DD\" or \"YYYY-MM-DD..YYYY-MM-DD\""},
      {"makeup_workdays", Type::kStringArray, false, "weekend dates that are worked (调休), \"YYYY-MM-DD\""},
  };
  return kSpec;
}

WorkCalendar WorkCalendar::load_file(const std::filesystem::path& file) {
  return from_config(config::Config::load_file(file, spec()));
}

WorkCalendar WorkCalendar::from_config(const config::Config& cfg) {
  WorkCalendar cal;
  const std::string offset = cfg.get_string("utc_offset", "+08:00");
  auto off = parse_offset(offset);
  if (!off) {
    throw ConfigError(fmt::format("{}: '{}' is not a UTC offset like \"+08:00\"", cfg.where("utc_offset"), offset));
  }
  cal.offset_minutes_ = *off;

  const auto periods = cfg.get_strings("periods");
  if (periods.empty()) throw ConfigError(fmt::format("{}: at least one working period is needed", cfg.where("periods")));
  for (std::size_t i = 0; i < periods.size(); ++i) {
    const std::string key = fmt::format("periods[{}]", i);
    const std::string& p = periods[i];
    const auto dash = p.find('-');
    std::optional<int> b;
    std::optional<int> e;
    if (dash != std::string::npos) {
      b = parse_hhmm(std::string_view(p).substr(0, dash));
      e = parse_hhmm(std::string_view(p).substr(dash + 1));
    }
    if (!b || !e) throw ConfigError(fmt::format("{}: '{}' is not a period \"HH:MM-HH:MM\"", cfg.where(key), p));
    if (*b >= *e) throw ConfigError(fmt::format("{}: period '{}' ends before it begins", cfg.where(key), p));
    if (!cal.periods_.empty() && *b < cal.periods_.back().end_minute) {
      throw ConfigError(fmt::format("{}: period '{}' overlaps or precedes the one before it", cfg.where(key), p));
    }
    cal.periods_.push_back({*b, *e});
  }

  const auto weekend = cfg.has("weekend") ? cfg.get_strings("weekend") : std::vector<std::string>{"Sat", "Sun"};
  for (std::size_t i = 0; i < weekend.size(); ++i) {
    auto d = parse_weekday(weekend[i]);
    if (!d) {
      throw ConfigError(fmt::format("{}: '{}' is not a weekday (Mon, Tue, Wed, Thu, Fri, Sat, Sun)",
                                    cfg.where(fmt::format("weekend[{}]", i)), weekend[i]));
    }
    cal.weekend_mask_ |= 1U << static_cast<unsigned>(*d);
  }
  if (cal.weekend_mask_ == 0x7FU) throw ConfigError(fmt::format("{}: every weekday is a weekend day", cfg.where("weekend")));

  const auto holidays = cfg.get_strings("holidays");
  for (std::size_t i = 0; i < holidays.size(); ++i) {
    const std::string key = fmt::format("holidays[{}]", i);
    const std::string& h = holidays[i];
    const auto dots = h.find("..");
    auto first = parse_date(std::string_view(h).substr(0, dots));
    auto last = dots == std::string::npos ? first : parse_date(std::string_view(h).substr(dots + 2));
    if (!first || !last) {
      throw ConfigError(fmt::format("{}: '{}' is not a date \"YYYY-MM-DD\" or range \"YYYY-MM-DD..YYYY-MM-DD\"",
                                    cfg.where(key), h));
    }
    if (*last < *first) throw ConfigError(fmt::format("{}: range '{}' ends before it begins", cfg.where(key), h));
    if (*last - *first >= kMaxHolidayRangeDays) {
      throw ConfigError(fmt::format("{}: range '{}' is longer than {} days", cfg.where(key), h, kMaxHolidayRangeDays));
    }
    for (auto d = *first; d <= *last; ++d) cal.holidays_.insert(d);
  }

  const auto makeup = cfg.get_strings("makeup_workdays");
  for (std::size_t i = 0; i < makeup.size(); ++i) {
    const std::string key = fmt::format("makeup_workdays[{}]", i);
    auto d = parse_date(makeup[i]);
    if (!d) throw ConfigError(fmt::format("{}: '{}' is not a date \"YYYY-MM-DD\"", cfg.where(key), makeup[i]));
    if (cal.holidays_.count(*d) != 0) {
      throw ConfigError(fmt::format("{}: '{}' is also listed as a holiday", cfg.where(key), makeup[i]));
    }
    // A make-up day on a weekday changes nothing; it is almost always a wrong date.
    if ((cal.weekend_mask_ & (1U << static_cast<unsigned>(weekday_of(*d)))) == 0) {
      throw ConfigError(fmt::format("{}: '{}' is not a weekend day, so it is a working day anyway", cfg.where(key),
                                    makeup[i]));
    }
    cal.makeup_days_.insert(*d);
  }
  return cal;
}

bool WorkCalendar::is_working_day(std::int64_t local_day) const {
  if (makeup_days_.count(local_day) != 0) return true;
  if (holidays_.count(local_day) != 0) return false;
  return (weekend_mask_ & (1U << static_cast<unsigned>(weekday_of(local_day)))) == 0;
}

bool WorkCalendar::is_working(std::int64_t instant) const {
  const std::int64_t local = instant + offset_minutes_ * kMicrosPerMinute;
  const std::int64_t day = floor_div(local, kMicrosPerDay);
  if (!is_working_day(day)) return false;
  const std::int64_t tod = local - day * kMicrosPerDay;
  return std::any_of(periods_.begin(), periods_.end(), [tod](const Period& p) {
    return tod >= p.begin_minute * kMicrosPerMinute && tod < p.end_minute * kMicrosPerMinute;
  });
}

std::int64_t WorkCalendar::add_working(std::int64_t start, std::int64_t amount) const {
  const std::int64_t offset = offset_minutes_ * kMicrosPerMinute;
  const std::int64_t local = start + offset;
  std::int64_t day = floor_div(local, kMicrosPerDay);
  std::int64_t tod = local - day * kMicrosPerDay;
  std::int64_t remaining = std::max<std::int64_t>(amount, 0);
  std::int64_t idle_days = 0;
  while (idle_days <= kMaxDaysWalked) {
    if (is_working_day(day)) {
      idle_days = 0;
      for (const Period& p : periods_) {
        const std::int64_t b = p.begin_minute * kMicrosPerMinute;
        const std::int64_t e = p.end_minute * kMicrosPerMinute;
        if (tod >= e) continue;
        const std::int64_t from = std::max(tod, b);
        const std::int64_t avail = e - from;
        if (remaining <= avail) return day * kMicrosPerDay + from + remaining - offset;
        remaining -= avail;
        tod = e;
      }
    } else {
      ++idle_days;
    }
    ++day;
    tod = 0;
  }
  return kNever;
}

std::int64_t WorkCalendar::working_between(std::int64_t from, std::int64_t to) const {
  if (to <= from) return 0;
  const std::int64_t offset = offset_minutes_ * kMicrosPerMinute;
  const std::int64_t lf = from + offset;
  const std::int64_t lt = to + offset;
  std::int64_t total = 0;
  for (std::int64_t day = floor_div(lf, kMicrosPerDay); day * kMicrosPerDay < lt; ++day) {
    if (!is_working_day(day)) continue;
    for (const Period& p : periods_) {
      const std::int64_t b = std::max(day * kMicrosPerDay + p.begin_minute * kMicrosPerMinute, lf);
      const std::int64_t e = std::min(day * kMicrosPerDay + p.end_minute * kMicrosPerMinute, lt);
      if (e > b) total += e - b;
    }
  }
  return total;
}

}  // namespace gridhub::sla
