#pragma once
/// Time arithmetic on int64 microseconds that cannot overflow. Times come from outside (an export's
/// `reported_at` may be anything an int64 holds), so a difference or a deadline is computed saturated:
/// at the limits it pins to INT64_MIN/MAX instead of wrapping into a small, plausible-looking number.

#include <cstdint>
#include <limits>

namespace gridhub {

/// |a - b|, exact for every pair (the largest, INT64_MAX - INT64_MIN, fits in uint64).
constexpr std::uint64_t abs_diff_micros(std::int64_t a, std::int64_t b) noexcept {
  return a >= b ? static_cast<std::uint64_t>(a) - static_cast<std::uint64_t>(b)
                : static_cast<std::uint64_t>(b) - static_cast<std::uint64_t>(a);
}

/// a + b, pinned to the int64 range.
constexpr std::int64_t add_micros_saturated(std::int64_t a, std::int64_t b) noexcept {
  std::int64_t out = 0;
  if (!__builtin_add_overflow(a, b, &out)) return out;
  return b > 0 ? std::numeric_limits<std::int64_t>::max() : std::numeric_limits<std::int64_t>::min();
}

/// hours * 3600 s in microseconds, pinned to the int64 range (negative hours pin low).
constexpr std::int64_t hours_to_micros_saturated(std::int64_t hours) noexcept {
  std::int64_t out = 0;
  if (!__builtin_mul_overflow(hours, std::int64_t{3600} * 1000000, &out)) return out;
  return hours > 0 ? std::numeric_limits<std::int64_t>::max() : std::numeric_limits<std::int64_t>::min();
}

}  // namespace gridhub
