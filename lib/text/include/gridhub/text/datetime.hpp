#pragma once
/// Strict parsing of the local date-times found in exports.
///
/// Accepted (surrounding whitespace ignored):
///   2024/5/6 9:12        2024/5/6 9:12:05       (slash dates, 1-2 digit month/day/hour)
///   2024-05-17 09:12     2024-05-17 09:12:33    2024-05-17T09:12:33
///   2024-05-17T09:12:33+08:00   2024-05-17T09:12:33Z   (ISO 8601 with an explicit offset)
/// Seconds may carry a fraction of up to 6 digits (".123"). Anything else is Errc::bad_value whose
/// detail says why (the calendar is checked: 2024-02-30, month 13, hour 24 are all rejected). The
/// detail never repeats the input, which may be free text typed by an operator.

#include <cstdint>
#include <string_view>

#include "gridhub/common/result.hpp"

namespace gridhub::text {

struct ParsedTime {
  std::int64_t unix_micros = 0;   // the instant, UTC
  int utc_offset_minutes = 0;     // the offset the text was read in (its own, else the default)
};

/// Parses `text` as a local time at `default_utc_offset_minutes` (e.g. 480 for China Standard
/// Time), unless the text carries its own offset.
Result<ParsedTime> parse_datetime(std::string_view text, int default_utc_offset_minutes);

/// Days since 1970-01-01 of a proleptic Gregorian date; the date must be valid.
std::int64_t days_from_civil(int year, unsigned month, unsigned day) noexcept;

}  // namespace gridhub::text
