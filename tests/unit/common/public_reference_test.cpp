// gridhub::public_reference: the Damm check digit catches what people get wrong when they read a
// reference aloud or type it, and the reference is a pure function of the report's identity.
#include "gridhub/common/public_reference.hpp"

#include <string>

#include <gtest/gtest.h>

namespace gridhub {
namespace {

TEST(DammCheckDigit, MatchesThePublishedExample) {
  // Damm's own worked example: 572 -> check digit 4.
  EXPECT_EQ(damm_check_digit("572"), '4');
  EXPECT_TRUE(damm_valid("5724"));
  EXPECT_FALSE(damm_valid("5723"));
  EXPECT_EQ(damm_check_digit("57a"), '\0');
}

TEST(DammCheckDigit, DetectsEverySingleDigitErrorAndEveryAdjacentSwapInAReference) {
  for (int report = 0; report < 200; ++report) {
    const std::string ref = public_reference(1 + report % 3, "form:sub" + std::to_string(report));
    ASSERT_EQ(ref.size(), kPublicReferenceDigits);
    ASSERT_TRUE(damm_valid(ref)) << ref;
    for (std::size_t i = 0; i < ref.size(); ++i) {
      for (char d = '0'; d <= '9'; ++d) {
        if (d == ref[i]) continue;
        std::string typo = ref;
        typo[i] = d;
        EXPECT_FALSE(damm_valid(typo)) << ref << " with digit " << i << " as " << d;
      }
      if (i + 1 < ref.size() && ref[i] != ref[i + 1]) {
        std::string swapped = ref;
        std::swap(swapped[i], swapped[i + 1]);
        EXPECT_FALSE(damm_valid(swapped)) << ref << " with digits " << i << " and " << i + 1 << " swapped";
      }
    }
  }
}

TEST(DammCheckDigit, DetectsEveryAdjacentSwapOfEveryDigitPair) {
  // Exhaustive over the pairs Luhn misses (09 <-> 90) and all others, at every position parity.
  for (char a = '0'; a <= '9'; ++a) {
    for (char b = '0'; b <= '9'; ++b) {
      if (a == b) continue;
      for (const std::string prefix : {"", "7", "31"}) {
        std::string body = prefix + a + b + "5";
        const std::string ok = body + damm_check_digit(body);
        std::string swapped = ok;
        std::swap(swapped[prefix.size()], swapped[prefix.size() + 1]);
        EXPECT_FALSE(damm_valid(swapped)) << ok;
      }
    }
  }
}

TEST(PublicReference, IsTwelveDigitsAPureFunctionOfChannelAndSourceKey) {
  const std::string a = public_reference(3, "form:abc-12345678");
  EXPECT_EQ(a, public_reference(3, "form:abc-12345678"));
  EXPECT_NE(a, public_reference(2, "form:abc-12345678"));   // the dedup key is (channel, source_key)
  EXPECT_NE(a, public_reference(3, "form:abc-12345679"));
  EXPECT_EQ(a.find_first_not_of("0123456789"), std::string::npos);
}

TEST(PublicReference, ParsesWhatPeopleTypeAndRefusesTypos) {
  const std::string ref = public_reference(1, "gh_0123456789ab:24500000000000002");
  const std::string shown = display_reference(ref);
  EXPECT_EQ(shown.size(), 14u);
  EXPECT_EQ(parse_public_reference(shown), ref);
  EXPECT_EQ(parse_public_reference(ref.substr(0, 4) + "-" + ref.substr(4)), ref);
  std::string wide;   // full-width digits, as a Chinese input method types them
  for (const char c : ref) wide += std::string("\xEF\xBC") + static_cast<char>(0x90 + (c - '0'));
  EXPECT_EQ(parse_public_reference(wide), ref);
  std::string typo = ref;
  typo[5] = typo[5] == '9' ? '0' : static_cast<char>(typo[5] + 1);
  EXPECT_FALSE(parse_public_reference(typo));
  EXPECT_FALSE(parse_public_reference(ref.substr(1)));
  EXPECT_FALSE(parse_public_reference(ref + "0"));
  EXPECT_FALSE(parse_public_reference("abc"));
  EXPECT_FALSE(parse_public_reference(""));
}

}  // namespace
}  // namespace gridhub
