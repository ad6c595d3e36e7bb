#include "gridhub/common/public_reference.hpp"

#include <array>
#include <cstdint>

#include <fmt/format.h>

#include "gridhub/common/fingerprint.hpp"

namespace gridhub {
namespace {

// Damm's weakly totally anti-symmetric quasigroup of order 10 (H. M. Damm, 2004).
constexpr std::array<std::array<std::uint8_t, 10>, 10> kDamm{{
    {0, 3, 1, 7, 5, 9, 8, 6, 4, 2},
    {7, 0, 9, 2, 1, 5, 4, 8, 6, 3},
    {4, 2, 0, 6, 8, 7, 1, 3, 5, 9},
    {1, 7, 5, 0, 9, 8, 3, 4, 2, 6},
    {6, 1, 2, 3, 0, 4, 5, 9, 7, 8},
    {3, 6, 7, 4, 2, 0, 9, 5, 8, 1},
    {5, 8, 6, 9, 7, 2, 0, 1, 3, 4},
    {8, 9, 4, 5, 3, 6, 2, 0, 1, 7},
    {9, 4, 3, 8, 6, 1, 7, 2, 0, 5},
    {2, 5, 8, 1, 4, 3, 6, 7, 9, 0},
}};

/// The quasigroup's interim over `digits`; -1 when a character is not a decimal digit.
int damm_interim(std::string_view digits) noexcept {
  int interim = 0;
  for (const char c : digits) {
    if (c < '0' || c > '9') return -1;
    interim = kDamm[static_cast<std::size_t>(interim)][static_cast<std::size_t>(c - '0')];
  }
  return interim;
}

}  // namespace

char damm_check_digit(std::string_view digits) noexcept {
  const int interim = damm_interim(digits);
  return interim < 0 ? '\0' : static_cast<char>('0' + interim);
}

bool damm_valid(std::string_view digits) noexcept { return !digits.empty() && damm_interim(digits) == 0; }

std::string public_reference(int channel, std::string_view source_key) {
  constexpr std::uint64_t kSpace = 100'000'000'000ULL;   // 10^11
  const std::uint64_t h = mix64(fnv1a64(source_key, fnv1a64(fmt::format("{}/", channel))));
  std::string digits = fmt::format("{:011d}", h % kSpace);
  digits += damm_check_digit(digits);
  return digits;
}

std::optional<std::string> parse_public_reference(std::string_view typed) {
  std::string digits;
  for (std::size_t i = 0; i < typed.size(); ++i) {
    const char c = typed[i];
    if (c >= '0' && c <= '9') {
      digits += c;
    } else if (c == ' ' || c == '-' || c == '\t') {
      continue;
    } else if (static_cast<unsigned char>(c) == 0xEF && i + 2 < typed.size() &&
               static_cast<unsigned char>(typed[i + 1]) == 0xBC && static_cast<unsigned char>(typed[i + 2]) >= 0x90 &&
               static_cast<unsigned char>(typed[i + 2]) <= 0x99) {
      // Full-width digits U+FF10..U+FF19 (EF BC 90..99), as Chinese input methods type them.
      digits += static_cast<char>('0' + (static_cast<unsigned char>(typed[i + 2]) - 0x90));
      i += 2;
    } else if (static_cast<unsigned char>(c) == 0xE3 && i + 2 < typed.size() &&
               static_cast<unsigned char>(typed[i + 1]) == 0x80 && static_cast<unsigned char>(typed[i + 2]) == 0x80) {
      i += 2;   // the ideographic space U+3000
    } else {
      return std::nullopt;
    }
    if (digits.size() > kPublicReferenceDigits) return std::nullopt;
  }
  if (digits.size() != kPublicReferenceDigits || !damm_valid(digits)) return std::nullopt;
  return digits;
}

std::string display_reference(std::string_view reference) {
  std::string out;
  for (std::size_t i = 0; i < reference.size(); ++i) {
    if (i != 0 && i % 4 == 0) out += ' ';
    out += reference[i];
  }
  return out;
}

}  // namespace gridhub
