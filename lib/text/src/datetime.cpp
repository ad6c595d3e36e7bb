#include "gridhub/text/datetime.hpp"

#include <chrono>
#include <string>

#include <fmt/format.h>

namespace gridhub::text {
namespace {

constexpr std::string_view kExpected =
    "not a date-time in a supported form (2024-05-17 09:12:33, 2024/5/6 9:12 or "
    "2024-05-17T09:12:33+08:00)";
constexpr int kMaxOffsetHours = 18;  // ISO 8601 / java.time bound; real zones stay within ±14 h
constexpr std::int64_t kMicrosPerSecond = 1'000'000;

bool is_space(char c) noexcept { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

/// A forward-only reader over the trimmed text.
class Cursor {
 public:
  explicit Cursor(std::string_view s) noexcept : s_(s) {}

  bool at_end() const noexcept { return i_ >= s_.size(); }
  char peek() const noexcept { return at_end() ? '\0' : s_[i_]; }
  bool eat(char c) noexcept {
    if (peek() != c || at_end()) return false;
    ++i_;
    return true;
  }
  /// Reads min..max decimal digits into `value`; false (and nothing consumed) if fewer than min.
  bool number(int min, int max, int& value) noexcept {
    std::size_t k = i_;
    int v = 0;
    while (k < s_.size() && k - i_ < static_cast<std::size_t>(max) && is_digit(s_[k])) {
      v = v * 10 + (s_[k] - '0');
      ++k;
    }
    if (k - i_ < static_cast<std::size_t>(min)) return false;
    // More digits than allowed is a different format, not a longer number.
    if (k < s_.size() && is_digit(s_[k])) return false;
    i_ = k;
    value = v;
    return true;
  }
  /// Fractional seconds: 1-9 digits, kept to microsecond precision.
  bool fraction(std::int64_t& micros) noexcept {
    std::size_t k = i_;
    std::int64_t v = 0;
    int used = 0;
    while (k < s_.size() && is_digit(s_[k]) && k - i_ < 9) {
      if (used < 6) {
        v = v * 10 + (s_[k] - '0');
        ++used;
      }
      ++k;
    }
    if (k == i_ || (k < s_.size() && is_digit(s_[k]))) return false;
    for (; used < 6; ++used) v *= 10;
    micros = v;
    i_ = k;
    return true;
  }
  void skip_spaces() noexcept {
    while (!at_end() && s_[i_] == ' ') ++i_;
  }

 private:
  std::string_view s_;
  std::size_t i_ = 0;
};

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

Error bad(std::string detail) { return Error(Errc::bad_value, std::move(detail)); }

}  // namespace

std::int64_t days_from_civil(int year, unsigned month, unsigned day) noexcept {
  using namespace std::chrono;
  const sys_days d{year_month_day{std::chrono::year{year}, std::chrono::month{month}, std::chrono::day{day}}};
  return d.time_since_epoch().count();
}

Result<ParsedTime> parse_datetime(std::string_view text, int default_utc_offset_minutes) {
  const std::string_view s = trim(text);
  if (s.empty()) return bad("empty date-time");

  Cursor c(s);
  int year = 0;
  int month = 0;
  int day = 0;
  if (!c.number(4, 4, year)) return bad(std::string(kExpected));
  const char date_sep = c.peek();
  if (date_sep != '-' && date_sep != '/') return bad(std::string(kExpected));
  c.eat(date_sep);
  if (!c.number(1, 2, month) || !c.eat(date_sep) || !c.number(1, 2, day)) return bad(std::string(kExpected));
  if (c.at_end()) return bad("date without a time of day");

  if (!c.eat('T') && !c.eat('t')) {
    if (c.peek() != ' ') return bad(std::string(kExpected));
    c.skip_spaces();
  }
  int hour = 0;
  int minute = 0;
  int second = 0;
  std::int64_t frac_micros = 0;
  if (!c.number(1, 2, hour) || !c.eat(':') || !c.number(2, 2, minute)) return bad(std::string(kExpected));
  if (c.eat(':')) {
    if (!c.number(2, 2, second)) return bad(std::string(kExpected));
    if ((c.eat('.') || c.eat(',')) && !c.fraction(frac_micros)) return bad(std::string(kExpected));
  }

  int offset = default_utc_offset_minutes;
  if (c.eat('Z') || c.eat('z')) {
    offset = 0;
  } else if (c.peek() == '+' || c.peek() == '-') {
    const int sign = c.peek() == '-' ? -1 : 1;
    c.eat(c.peek());
    int oh = 0;
    int om = 0;
    if (!c.number(2, 2, oh)) return bad("UTC offset must be ±hh:mm");
    if (c.eat(':')) {
      if (!c.number(2, 2, om)) return bad("UTC offset must be ±hh:mm");
    } else if (!c.at_end() && !c.number(2, 2, om)) {
      return bad("UTC offset must be ±hh:mm");
    }
    if (oh > kMaxOffsetHours || om > 59) return bad(fmt::format("UTC offset {:02}:{:02} is out of range", oh, om));
    offset = sign * (oh * 60 + om);
  }
  if (!c.at_end()) return bad("unexpected text after the time");

  if (month < 1 || month > 12) return bad(fmt::format("month {} is out of range (1-12)", month));
  const std::chrono::year_month_day_last last{std::chrono::year{year},
                                              std::chrono::month_day_last{std::chrono::month{static_cast<unsigned>(month)}}};
  const auto days_in_month = static_cast<int>(static_cast<unsigned>(last.day()));
  if (day < 1 || day > days_in_month) {
    return bad(fmt::format("day {} is out of range for {:04}-{:02} (1-{})", day, year, month, days_in_month));
  }
  if (hour > 23) return bad(fmt::format("hour {} is out of range (0-23)", hour));
  if (minute > 59) return bad(fmt::format("minute {} is out of range (0-59)", minute));
  if (second > 59) return bad(fmt::format("second {} is out of range (0-59)", second));

  const std::int64_t days = days_from_civil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
  const std::int64_t local_seconds = days * 86'400 + hour * 3'600 + minute * 60 + second;
  const std::int64_t utc_seconds = local_seconds - static_cast<std::int64_t>(offset) * 60;
  return ParsedTime{utc_seconds * kMicrosPerSecond + frac_micros, offset};
}

}  // namespace gridhub::text
