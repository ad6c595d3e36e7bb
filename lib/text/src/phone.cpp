#include "gridhub/text/phone.hpp"

#include <string>

namespace gridhub::text {
namespace {

constexpr std::size_t kMobileLength = 11;
// Area code (0 + 2-3 digits) plus a 7-8 digit local number.
constexpr std::size_t kLandlineMinLength = 10;
constexpr std::size_t kLandlineMaxLength = 12;

bool is_space(char c) noexcept { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

bool all_digits(std::string_view s) noexcept {
  for (char c : s) {
    if (!is_digit(c)) return false;
  }
  return !s.empty();
}

/// 1[3-9]x xxxx xxxx, where operators may mask middle digits with '*' ("138****1234").
bool is_mobile(std::string_view s) noexcept {
  if (s.size() != kMobileLength || s[0] != '1' || !(s[1] >= '3' && s[1] <= '9')) return false;
  for (char c : s.substr(2)) {
    if (!is_digit(c) && c != '*') return false;
  }
  return true;
}

bool is_landline(std::string_view s) noexcept {
  return s.size() >= kLandlineMinLength && s.size() <= kLandlineMaxLength && s[0] == '0' && s[1] != '0' &&
         all_digits(s);
}

std::string collapse_spaces(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  bool in_space = false;
  for (char c : s) {
    if (is_space(c)) {
      in_space = true;
      continue;
    }
    if (in_space && !out.empty()) out += ' ';
    in_space = false;
    out += c;
  }
  return out;
}

}  // namespace

std::string normalize_phone(std::string_view raw) {
  const std::string_view trimmed = trim(raw);

  // Keep digits, '*' and a leading '+'; drop the separators people type.
  std::string compact;
  compact.reserve(trimmed.size());
  for (char c : trimmed) {
    if (is_space(c) || c == '-' || c == '(' || c == ')' || c == '.') continue;
    if (is_digit(c) || c == '*' || (c == '+' && compact.empty())) {
      compact += c;
      continue;
    }
    return collapse_spaces(trimmed);  // letters, extensions, full-width text: not ours to guess
  }

  std::string_view number = compact;
  bool had_country_code = false;
  for (std::string_view prefix : {"+86", "0086"}) {
    if (number.starts_with(prefix)) {
      number.remove_prefix(prefix.size());
      had_country_code = true;
      break;
    }
  }
  // A bare "86" is only a country code when what follows is a whole mobile number.
  if (!had_country_code && number.size() == kMobileLength + 2 && number.starts_with("86") &&
      is_mobile(number.substr(2))) {
    number.remove_prefix(2);
  }

  if (is_mobile(number)) return std::string(number);
  if (is_landline(number)) return std::string(number);
  // After a country code the trunk 0 is dropped: +86 29 12345678 is 029 12345678.
  if (had_country_code && !number.empty() && number[0] != '0') {
    std::string with_trunk = "0" + std::string(number);
    if (is_landline(with_trunk)) return with_trunk;
  }
  return collapse_spaces(trimmed);
}

}  // namespace gridhub::text
