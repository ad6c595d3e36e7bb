#include "gridhub/sla/escalation.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "../../testing/temp_dir.hpp"

namespace gridhub::sla {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

const std::string kCategories = std::string(GRIDHUB_SOURCE_DIR) + "/examples/wugong/world/categories.csv";

std::int64_t local(int y, unsigned mo, unsigned d, int h, int mi) {
  using namespace std::chrono;
  const auto t = sys_days{year{y} / month{mo} / day{d}} + hours{h} + minutes{mi} - hours{8};
  return duration_cast<microseconds>(t.time_since_epoch()).count();
}

class EscalationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cal_ = WorkCalendar::load_file(dir_.write("cal.toml",
                                              "periods = [\"08:30-12:00\", \"14:00-17:30\"]\n"
                                              "holidays = [\"2030-01-07\"]\nmakeup_workdays = [\"2030-01-12\"]\n"));
  }
  testing::TempDir dir_;
  WorkCalendar cal_;
  SlaPolicy policy_ = SlaPolicy::load(kCategories);
};

TEST_F(EscalationTest, PolicyReadsHoursPerTierFromTheFixtureCategories) {
  // 0201,非法小广告,...,grid,CTY_CGJ,24,48,72 ; 0301 施工扰民 community,CTY_ZJJ,,24,48 ; 0402 county 4 h.
  EXPECT_EQ(policy_.hours("0201", v1::TIER_GRID), 24);
  EXPECT_EQ(policy_.hours("0201", v1::TIER_COMMUNITY), 48);
  EXPECT_EQ(policy_.hours("0201", v1::TIER_COUNTY), 72);
  EXPECT_FALSE(policy_.hours("0301", v1::TIER_GRID).has_value());
  EXPECT_EQ(policy_.hours("0402", v1::TIER_COUNTY), 4);
  EXPECT_FALSE(policy_.hours("9999", v1::TIER_GRID).has_value());
  EXPECT_FALSE(policy_.hours("0201", v1::TIER_CENTER).has_value());
  EXPECT_EQ(policy_.max_returns(), 3);
  EXPECT_EQ(policy_.center_code(), "CTR_12345");
}

TEST_F(EscalationTest, GridToCommunityToCountyWithAssigneesFromTheCategories) {
  v1::Ticket t;
  t.set_ticket_id("T1");
  t.set_category_code("0201");   // county department CTY_CGJ
  t.set_community_code("C03");
  t.set_grid_code("C03-G02");
  t.set_tier(v1::TIER_GRID);
  t.set_assignee_code("C03-G02");

  // The grid's 24 h ran out on Fri 11 Jan 10:00 (started Fri 4 Jan 16:00).
  const auto breach1 = local(2030, 1, 11, 10, 0);
  auto p = plan_escalation(t, breach1, cal_, policy_);
  ASSERT_TRUE(p.escalate);
  EXPECT_EQ(p.to_tier, v1::TIER_COMMUNITY);
  EXPECT_EQ(p.to_assignee, "C03");
  EXPECT_EQ(p.rule, "sla.grid_to_community");
  // 48 h from Fri 11 Jan 10:00: 5.5 that day, 7 on make-up Sat 12 Jan (12.5), Mon-Fri 14-18 Jan (47.5), Mon 21 Jan 09:00.
  ASSERT_TRUE(p.new_due.has_value());
  EXPECT_EQ(*p.new_due, local(2030, 1, 21, 9, 0));
  EXPECT_THAT(p.detail, AllOf(HasSubstr("C03-G02"), HasSubstr("48 working hours"), HasSubstr("0201")));
  EXPECT_EQ(plan_escalation(t, breach1, cal_, policy_).detail, p.detail);   // deterministic

  t.set_tier(p.to_tier);
  t.set_assignee_code(p.to_assignee);
  p = plan_escalation(t, *p.new_due, cal_, policy_);
  ASSERT_TRUE(p.escalate);
  EXPECT_EQ(p.to_tier, v1::TIER_COUNTY);
  EXPECT_EQ(p.to_assignee, "CTY_CGJ");
  EXPECT_EQ(p.rule, "sla.community_to_county");
  ASSERT_TRUE(p.new_due.has_value());
  EXPECT_EQ(cal_.working_between(local(2030, 1, 21, 9, 0), *p.new_due), 72 * kMicrosPerHour);

  t.set_tier(p.to_tier);
  t.set_assignee_code(p.to_assignee);
  p = plan_escalation(t, *p.new_due, cal_, policy_);
  EXPECT_FALSE(p.escalate);
  EXPECT_EQ(p.rule, "sla.county_breach");
  EXPECT_EQ(p.to_assignee, "CTY_CGJ");
  EXPECT_FALSE(p.new_due.has_value());
}

TEST_F(EscalationTest, EdgesOfTheChain) {
  v1::Ticket t;
  t.set_category_code("1101");   // 邻里纠纷, CTY_SFJ
  t.set_tier(v1::TIER_GRID);
  t.set_assignee_code("G9");
  // No community code: straight to the county department.
  auto p = plan_escalation(t, local(2030, 1, 8, 9, 0), cal_, policy_);
  EXPECT_EQ(p.to_tier, v1::TIER_COUNTY);
  EXPECT_EQ(p.to_assignee, "CTY_SFJ");
  EXPECT_EQ(p.rule, "sla.grid_to_county");
  // A category the policy does not know: the centre dispatches by hand, without a clock.
  t.set_category_code("9999");
  t.set_tier(v1::TIER_COMMUNITY);
  p = plan_escalation(t, local(2030, 1, 8, 9, 0), cal_, policy_);
  EXPECT_EQ(p.to_tier, v1::TIER_CENTER);
  EXPECT_EQ(p.to_assignee, "CTR_12345");
  EXPECT_FALSE(p.new_due.has_value());
}

TEST_F(EscalationTest, TheDueTimeIsThePolicysOneAnswerAtTheGivenNow) {
  v1::Ticket t;
  t.set_category_code("0201");
  t.set_tier(v1::TIER_GRID);
  t.set_assignee_code("C03-G02");
  t.set_community_code("C03");
  const std::int64_t now = local(2030, 1, 8, 16, 0);
  auto p = plan_escalation(t, now, cal_, policy_);
  EXPECT_EQ(p.new_due, policy_.due(cal_, "0201", v1::TIER_COMMUNITY, now));
  EXPECT_EQ(p.new_due, cal_.add_working_hours(now, 48));
  // The decision's words name that instant in local time: from Tue 16:00, 48 working hours (Saturday
  // the 12th is a make-up working day) end on Wed the 16th at 15:00.
  EXPECT_THAT(p.detail, HasSubstr("48 working hours for category 0201, due 2030-01-16 15:00 +08:00"));
}

std::string policy_error(const std::string& csv) {
  testing::TempDir dir;
  try {
    SlaPolicy::load(dir.write("categories.csv", csv));
  } catch (const config::ConfigError& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected a ConfigError";
  return {};
}

TEST(SlaPolicyConfig, ErrorsNameFileLineAndColumn) {
  const std::string header = "category_code,initial_tier,county_dept_code,sla_hours_grid,sla_hours_community,sla_hours_county\n";
  EXPECT_THAT(policy_error(header + "0101,grid,CTY_A,24,48,72\n0102,grid,CTY_A,24,x,72\n"),
              AllOf(HasSubstr("categories.csv:3"), HasSubstr("sla_hours_community"), HasSubstr("'x'")));
  EXPECT_THAT(policy_error(header + "0101,street,CTY_A,24,48,72\n"),
              AllOf(HasSubstr("categories.csv:2"), HasSubstr("initial_tier")));
  EXPECT_THAT(policy_error("category_code,initial_tier\n"), HasSubstr("column 'county_dept_code' is missing"));
  EXPECT_THAT(policy_error(header + "0101,grid,CTY_A,24,48,72\n0101,grid,CTY_A,24,48,72\n"),
              AllOf(HasSubstr("categories.csv:3"), HasSubstr("twice")));
}

}  // namespace
}  // namespace gridhub::sla
