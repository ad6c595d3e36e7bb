#include "gridhub/text/datetime.hpp"

#include <cstdint>
#include <string>

#include <gtest/gtest.h>

namespace gridhub::text {
namespace {

constexpr int kChinaStandardTime = 480;
constexpr std::int64_t kMicros = 1'000'000;

std::int64_t micros(std::string_view text, int offset = kChinaStandardTime) {
  auto r = parse_datetime(text, offset);
  EXPECT_TRUE(r.ok()) << text << ": " << (r.ok() ? "" : r.error().detail);
  return r.ok() ? r->unix_micros : -1;
}

std::string rejection(std::string_view text) {
  auto r = parse_datetime(text, kChinaStandardTime);
  EXPECT_FALSE(r.ok()) << text << " was accepted";
  if (r.ok()) return {};
  EXPECT_EQ(r.error().code, make_error_code(Errc::bad_value));
  return r.error().detail;
}

TEST(ParseDatetime, HotlineSlashFormatIsLocalTime) {
  // 2024-05-06 09:12 +08:00 == 2024-05-06 01:12 UTC
  EXPECT_EQ(micros("2024/5/6 9:12"), 1714957920 * kMicros);
  EXPECT_EQ(micros("2024/5/6 9:12:05"), (1714957920 + 5) * kMicros);
  EXPECT_EQ(micros("  2024/05/06 09:12  "), 1714957920 * kMicros);
}

TEST(ParseDatetime, DashAndIsoFormatsAgree) {
  const std::int64_t expected = 1715908353 * kMicros;  // 2024-05-17T09:12:33+08:00
  EXPECT_EQ(micros("2024-05-17 09:12:33"), expected);
  EXPECT_EQ(micros("2024-05-17T09:12:33"), expected);
  EXPECT_EQ(micros("2024-05-17T09:12:33+08:00"), expected);
  EXPECT_EQ(micros("2024-05-17T01:12:33Z"), expected);
  EXPECT_EQ(micros("2024-05-17 09:12"), expected - 33 * kMicros);
}

TEST(ParseDatetime, ExplicitOffsetOverridesDefaultAndIsReported) {
  auto r = parse_datetime("2024-05-17T01:12:33-05:30", kChinaStandardTime);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->unix_micros, 1715928153 * kMicros);
  EXPECT_EQ(r->utc_offset_minutes, -330);

  auto local = parse_datetime("2024-05-17 09:12:33", kChinaStandardTime);
  ASSERT_TRUE(local.ok());
  EXPECT_EQ(local->utc_offset_minutes, kChinaStandardTime);
}

TEST(ParseDatetime, FractionalSecondsKeepMicroseconds) {
  EXPECT_EQ(micros("2024-05-17T09:12:33.25+08:00"), 1715908353 * kMicros + 250'000);
}

TEST(ParseDatetime, LeapDayOnlyInLeapYears) {
  EXPECT_EQ(micros("2024-02-29 23:59:59", 0), 1709251199 * kMicros);
  EXPECT_NE(rejection("2023-02-29 10:00").find("day 29"), std::string::npos);
  EXPECT_NE(rejection("1900/2/29 10:00").find("day 29"), std::string::npos);  // century, not leap
  EXPECT_TRUE(parse_datetime("2000/2/29 10:00", 0).ok());                     // 400-year, leap
}

TEST(ParseDatetime, RejectsImpossibleCalendarValuesSayingWhy) {
  EXPECT_NE(rejection("2024/5/32 9:15").find("day 32"), std::string::npos);
  EXPECT_NE(rejection("2024-04-31 09:00:00").find("day 31"), std::string::npos);
  EXPECT_NE(rejection("2024-05-00 09:00:00").find("day 0"), std::string::npos);
  EXPECT_NE(rejection("2024-13-01 09:00:00").find("month 13"), std::string::npos);
  EXPECT_NE(rejection("2024-00-01 09:00:00").find("month 0"), std::string::npos);
  EXPECT_NE(rejection("2024-05-18 37:16:18").find("hour 37"), std::string::npos);
  EXPECT_NE(rejection("2024-05-18 24:00:00").find("hour 24"), std::string::npos);
  EXPECT_NE(rejection("2024-05-18 09:60:00").find("minute 60"), std::string::npos);
  EXPECT_NE(rejection("2024-05-18 09:00:60").find("second 60"), std::string::npos);
}

TEST(ParseDatetime, RejectsFreeTextEmptyAndPartialInput) {
  EXPECT_NE(rejection("").find("empty"), std::string::npos);
  EXPECT_NE(rejection("   ").find("empty"), std::string::npos);
  EXPECT_FALSE(rejection("昨天下午3点").empty());
  EXPECT_FALSE(rejection("2024-05-17").empty());            // no time of day
  EXPECT_FALSE(rejection("2024-05-17 9").empty());          // no minutes
  EXPECT_FALSE(rejection("2024-05-17 09:12:33 extra").empty());
  EXPECT_FALSE(rejection("24-05-17 09:12").empty());        // two-digit year
  EXPECT_FALSE(rejection("2024/5-17 09:12").empty());       // mixed separators
  EXPECT_FALSE(rejection("2024-05-17T09:12:33+8").empty()); // malformed offset
}

TEST(ParseDatetime, RejectionDetailDoesNotEchoTheInput) {
  EXPECT_EQ(rejection("昨天下午3点").find("昨天"), std::string::npos);
}

TEST(DaysFromCivil, MatchesKnownDates) {
  EXPECT_EQ(days_from_civil(1970, 1, 1), 0);
  EXPECT_EQ(days_from_civil(2000, 3, 1), 11017);
  EXPECT_EQ(days_from_civil(1969, 12, 31), -1);
}

}  // namespace
}  // namespace gridhub::text
