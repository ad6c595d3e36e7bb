#include "gridhub/sla/work_calendar.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "../../testing/temp_dir.hpp"

namespace gridhub::sla {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

// A synthetic week in January 2030 (not any year's real schedule): Fri 4 Jan, then Mon 7 Jan is a
// holiday, and Sat 12 Jan is a make-up working day. Working day 08:30-12:00 + 14:00-17:30 = 7 h.
constexpr const char* kCalendar = R"(# test calendar
utc_offset = "+08:00"
periods = ["08:30-12:00", "14:00-17:30"]
weekend = ["Sat", "Sun"]
holidays = ["2030-01-07", "2030-02-01..2030-02-03"]
makeup_workdays = ["2030-01-12"]
)";

/// Unix micros of a local (+08:00) wall-clock time.
std::int64_t local(int y, unsigned mo, unsigned d, int h, int mi, int offset_minutes = 8 * 60) {
  using namespace std::chrono;
  const sys_days date{year{y} / month{mo} / day{d}};
  const auto t = date + hours{h} + minutes{mi} - minutes{offset_minutes};
  return duration_cast<microseconds>(t.time_since_epoch()).count();
}

class WorkCalendarTest : public ::testing::Test {
 protected:
  void SetUp() override { cal_ = WorkCalendar::load_file(dir_.write("calendar.toml", kCalendar)); }
  testing::TempDir dir_;
  WorkCalendar cal_;
};

TEST_F(WorkCalendarTest, TwentyFourHoursFromFridayAfternoonSkipTheWeekendAndTheMondayHoliday) {
  // Fri 16:00-17:30 = 1.5 h; Sat, Sun off; Mon holiday; Tue, Wed, Thu = 21 h (22.5); Fri 08:30 + 1.5 h.
  EXPECT_EQ(cal_.add_working_hours(local(2030, 1, 4, 16, 0), 24), local(2030, 1, 11, 10, 0));
}

TEST_F(WorkCalendarTest, TheMakeUpSaturdayIsWorked) {
  // 30 h from Fri 4 Jan 16:00: 24 h end Fri 11 Jan 10:00, +5.5 h that Friday (29.5), Sat 12 Jan 08:30 + 0.5 h.
  EXPECT_EQ(cal_.add_working_hours(local(2030, 1, 4, 16, 0), 30), local(2030, 1, 12, 9, 0));
  EXPECT_TRUE(cal_.is_working(local(2030, 1, 12, 9, 0)));
  EXPECT_FALSE(cal_.is_working(local(2030, 1, 5, 9, 0)));   // an ordinary Saturday
  EXPECT_FALSE(cal_.is_working(local(2030, 1, 7, 9, 0)));   // the Monday holiday
  EXPECT_TRUE(cal_.is_working(local(2030, 1, 8, 9, 0)));
  // 36 h: Sat 12 Jan is 7 h (to 36.5 h at 17:30), so 36 h is 17:00 on the make-up Saturday.
  EXPECT_EQ(cal_.add_working_hours(local(2030, 1, 4, 16, 0), 36), local(2030, 1, 12, 17, 0));
  // And 37 h skips Sunday 13 Jan to Monday 14 Jan 09:00.
  EXPECT_EQ(cal_.add_working_hours(local(2030, 1, 4, 16, 0), 37), local(2030, 1, 14, 9, 0));
}

TEST_F(WorkCalendarTest, HolidayRangesAreSkipped) {
  // Thu 31 Jan 17:00 + 1 h: 0.5 h that day, Fri 1 Feb .. Sun 3 Feb off, Mon 4 Feb 09:00.
  EXPECT_EQ(cal_.add_working_hours(local(2030, 1, 31, 17, 0), 1), local(2030, 2, 4, 9, 0));
}

TEST_F(WorkCalendarTest, AClockStartedOutsideWorkingTimeStartsAtTheNextPeriod) {
  EXPECT_EQ(cal_.add_working_hours(local(2030, 1, 8, 6, 0), 1), local(2030, 1, 8, 9, 30));     // early morning
  EXPECT_EQ(cal_.add_working_hours(local(2030, 1, 8, 22, 0), 1), local(2030, 1, 9, 9, 30));    // night
  EXPECT_EQ(cal_.add_working_hours(local(2030, 1, 5, 10, 0), 1), local(2030, 1, 8, 9, 30));    // Sat -> Tue
  EXPECT_EQ(cal_.add_working_minutes(local(2030, 1, 8, 12, 30), 15), local(2030, 1, 8, 14, 15));  // lunch
  EXPECT_EQ(cal_.add_working(local(2030, 1, 8, 22, 0), 0), local(2030, 1, 9, 8, 30));
}

TEST_F(WorkCalendarTest, TheLunchBreakDoesNotCount) {
  EXPECT_EQ(cal_.add_working_hours(local(2030, 1, 8, 11, 0), 2), local(2030, 1, 8, 15, 0));
  // Exactly at the end of the morning: due 12:00, not 14:00.
  EXPECT_EQ(cal_.add_working_hours(local(2030, 1, 8, 11, 0), 1), local(2030, 1, 8, 12, 0));
  EXPECT_FALSE(cal_.is_working(local(2030, 1, 8, 12, 0)));
  EXPECT_FALSE(cal_.is_working(local(2030, 1, 8, 13, 59)));
  EXPECT_TRUE(cal_.is_working(local(2030, 1, 8, 14, 0)));
  EXPECT_TRUE(cal_.is_working(local(2030, 1, 8, 8, 30)));
  EXPECT_FALSE(cal_.is_working(local(2030, 1, 8, 8, 29)));
}

TEST_F(WorkCalendarTest, ElapsedIsTheInverseOfAdd) {
  const auto start = local(2030, 1, 4, 16, 0);
  for (int h : {0, 1, 7, 24, 30, 37, 120}) {
    const auto due = cal_.add_working_hours(start, h);
    EXPECT_EQ(cal_.working_between(start, due), h * kMicrosPerHour) << h;
  }
  EXPECT_EQ(cal_.working_between(local(2030, 1, 8, 11, 0), local(2030, 1, 8, 15, 0)), 2 * kMicrosPerHour);
  EXPECT_EQ(cal_.working_between(local(2030, 1, 5, 0, 0), local(2030, 1, 8, 0, 0)), 0);   // weekend + holiday
  EXPECT_EQ(cal_.working_between(local(2030, 1, 9, 0, 0), local(2030, 1, 8, 0, 0)), 0);   // reversed
}

TEST(WorkCalendarOffset, AFixedOffsetOtherThanChinasShiftsLocalDays) {
  testing::TempDir dir;
  // UTC-05:00, no DST: local Monday 09:00 is 14:00 UTC.
  auto cal = WorkCalendar::load_file(dir.write("c.toml", "utc_offset = \"-05:00\"\nperiods = [\"09:00-17:00\"]\n"));
  EXPECT_EQ(cal.utc_offset_minutes(), -300);
  const auto fri_1630 = local(2030, 1, 4, 16, 30, -300);
  EXPECT_EQ(cal.add_working_hours(fri_1630, 1), local(2030, 1, 7, 9, 30, -300));
  // Local Friday 20:00 is Saturday 01:00 UTC: still Friday locally, outside hours.
  EXPECT_FALSE(cal.is_working(local(2030, 1, 4, 20, 0, -300)));
  EXPECT_TRUE(cal.is_working(local(2030, 1, 7, 9, 0, -300)));
  // The default offset is +08:00 and the default weekend Sat/Sun.
  auto cn = WorkCalendar::load_file(dir.write("d.toml", "periods = [\"09:00-17:00\"]\n"));
  EXPECT_EQ(cn.utc_offset_minutes(), 480);
  EXPECT_FALSE(cn.is_working(local(2030, 1, 6, 10, 0)));   // Sunday
}

std::string load_error(const std::string& text) {
  testing::TempDir dir;
  try {
    WorkCalendar::load_file(dir.write("cal.toml", text));
  } catch (const config::ConfigError& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected a ConfigError for:\n" << text;
  return {};
}

TEST(WorkCalendarConfig, ErrorsNameFileLineAndKey) {
  EXPECT_THAT(load_error("utc_offset = \"+08:00\"\n\nperiods = [\n  \"08:30-12:00\",\n  \"14:00-1730\",\n]\n"),
              AllOf(HasSubstr("cal.toml:5"), HasSubstr("periods[1]"), HasSubstr("'14:00-1730'")));
  EXPECT_THAT(load_error("periods = [\"08:30-12:00\"]\nholidays = [\"2030-01-07\", \"2030-02-30\"]\n"),
              AllOf(HasSubstr("cal.toml:2"), HasSubstr("holidays[1]"), HasSubstr("'2030-02-30'")));
  EXPECT_THAT(load_error("periods = [\"08:30-12:00\"]\n# weekday\nmakeup_workdays = [\"2030-01-08\"]\n"),
              AllOf(HasSubstr("cal.toml:3"), HasSubstr("makeup_workdays[0]"), HasSubstr("not a weekend day")));
  EXPECT_THAT(load_error("periods = [\"08:30-12:00\"]\nweekend = [\"Saturday\"]\n"),
              AllOf(HasSubstr("cal.toml:2"), HasSubstr("weekend[0]")));
  EXPECT_THAT(load_error("utc_offset = \"8\"\nperiods = [\"08:30-12:00\"]\n"),
              AllOf(HasSubstr("cal.toml:1"), HasSubstr("utc_offset")));
  EXPECT_THAT(load_error("periods = [\"14:00-17:30\", \"08:30-12:00\"]\n"),
              AllOf(HasSubstr("cal.toml:1"), HasSubstr("periods[1]"), HasSubstr("overlaps or precedes")));
  EXPECT_THAT(load_error("periods = [\"08:30-12:00\"]\nholidays = [\"2030-02-03..2030-02-01\"]\n"),
              AllOf(HasSubstr("cal.toml:2"), HasSubstr("ends before it begins")));
  EXPECT_THAT(load_error("holidays = []\n"), AllOf(HasSubstr("cal.toml"), HasSubstr("'periods'")));
  EXPECT_THAT(load_error("periods = [\"08:30-12:00\"]\nholidyas = []\n"),
              AllOf(HasSubstr("cal.toml:2"), HasSubstr("unknown key 'holidyas'")));
}

TEST(WorkCalendarExample, TheWugongExampleLoads) {
  auto cal = WorkCalendar::load_file(std::string(GRIDHUB_SOURCE_DIR) + "/examples/wugong/calendar.toml");
  EXPECT_EQ(cal.utc_offset_minutes(), 480);
  EXPECT_FALSE(cal.periods().empty());
}

}  // namespace
}  // namespace gridhub::sla
