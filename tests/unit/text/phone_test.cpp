#include "gridhub/text/phone.hpp"

#include <gtest/gtest.h>

namespace gridhub::text {
namespace {

TEST(NormalizePhone, MobileSeparatorsAreRemoved) {
  EXPECT_EQ(normalize_phone("173 3924 0674"), "17339240674");
  EXPECT_EQ(normalize_phone("135-3395-3116"), "13533953116");
  EXPECT_EQ(normalize_phone(" 15233151450 "), "15233151450");
  EXPECT_EQ(normalize_phone("(135) 3395 3116"), "13533953116");
}

TEST(NormalizePhone, CountryCodePrefixesAreDropped) {
  EXPECT_EQ(normalize_phone("+86 18507081339"), "18507081339");
  EXPECT_EQ(normalize_phone("+86-185-0708-1339"), "18507081339");
  EXPECT_EQ(normalize_phone("0086 18507081339"), "18507081339");
  EXPECT_EQ(normalize_phone("8618507081339"), "18507081339");
  EXPECT_EQ(normalize_phone("(+86)18507081339"), "18507081339");
}

TEST(NormalizePhone, MaskedMobileIsKeptWithoutSpaces) {
  EXPECT_EQ(normalize_phone("138****1234"), "138****1234");
  EXPECT_EQ(normalize_phone("138 **** 1234"), "138****1234");
  EXPECT_EQ(normalize_phone("+86 153****6668"), "153****6668");
}

TEST(NormalizePhone, LandlinesKeepTheirAreaCode) {
  EXPECT_EQ(normalize_phone("029-12345678"), "02912345678");
  EXPECT_EQ(normalize_phone("(029) 3491 3326"), "02934913326");
  EXPECT_EQ(normalize_phone("0910-1234567"), "09101234567");
  EXPECT_EQ(normalize_phone("+86 29 12345678"), "02912345678");
}

TEST(NormalizePhone, UnrecognisedInputComesBackTrimmed) {
  EXPECT_EQ(normalize_phone(""), "");
  EXPECT_EQ(normalize_phone("  无  "), "无");
  EXPECT_EQ(normalize_phone(" 029-12345678 转 801 "), "029-12345678 转 801");
  EXPECT_EQ(normalize_phone("12345"), "12345");
  EXPECT_EQ(normalize_phone("1234  5678901234"), "1234 5678901234");  // too long for any form
  // An 86-prefixed number that is not a mobile is not a country code.
  EXPECT_EQ(normalize_phone("86123"), "86123");
}

}  // namespace
}  // namespace gridhub::text
