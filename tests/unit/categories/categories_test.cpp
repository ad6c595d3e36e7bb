#include "gridhub/categories/categories.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "../../testing/temp_dir.hpp"
#include "gridhub/plugin/api.hpp"
#include "gridhub/plugins/router_tiered.hpp"
#include "gridhub/sla/sla_policy.hpp"

namespace gridhub::categories {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

// What a county's spreadsheet export looks like after a clerk edited it: a byte-order mark, CRLF line
// ends, a quoted name holding a comma, a trailing blank line, and "-" for "this tier has no clock".
const std::string kQuirky =
    "\xEF\xBB\xBF"
    "category_code,category_name,description,initial_tier,county_dept_code,sla_hours_grid,sla_hours_community,sla_hours_county\r\n"
    "0101,\"私搭乱建, 违章\",市容环境,grid,CTY_CGJ,72,72,120\r\n"
    "0301,施工扰民,施工管理,community,CTY_ZJJ,-,24,48\r\n"
    "\r\n";

const std::string kHeader =
    "category_code,category_name,description,initial_tier,county_dept_code,sla_hours_grid,sla_hours_community,sla_hours_county\n";

// The router plugin as the hub creates it: through its descriptor, with its own config section.
std::string router_create_error(const std::filesystem::path& file) {
  const auto* d = router_tiered_descriptor();
  char error[512] = {};
  const std::string toml = "categories = \"" + file.string() + "\"\n";   // the section's body, as the host passes it
  plugin::Stage* s = d->create(toml.c_str(), file.parent_path().c_str(), error, sizeof error);
  if (s != nullptr) d->destroy(s);
  return error;
}

std::string sla_error(const std::filesystem::path& file) {
  try {
    (void)sla::SlaPolicy::load(file);
  } catch (const config::ConfigError& e) {
    return e.what();
  }
  return {};
}

TEST(Categories, AQuirkyExportReadsTheSameForTheRouterAndTheSlaPolicy) {
  testing::TempDir dir;
  const auto file = dir.write("categories.csv", kQuirky);
  auto table = load_categories(file);
  ASSERT_TRUE(table.ok()) << table.error().detail;
  ASSERT_EQ(table->size(), 2u);
  EXPECT_EQ(table->at("0101").name, "私搭乱建, 违章");
  EXPECT_EQ(table->at("0301").initial_tier, Tier::kCommunity);
  EXPECT_FALSE(table->at("0301").hours_grid.has_value());
  EXPECT_EQ(table->at("0301").hours_county, 48);

  // The router starts on it...
  EXPECT_EQ(router_create_error(file), "");
  // ...and so does the SLA policy, which used to refuse "-" that the router read as "no clock".
  EXPECT_EQ(sla_error(file), "");
  const auto policy = sla::SlaPolicy::load(file);
  EXPECT_FALSE(policy.hours("0301", v1::TIER_GRID).has_value());
  EXPECT_EQ(policy.hours("0301", v1::TIER_COMMUNITY), 24);
  EXPECT_EQ(policy.hours("0101", v1::TIER_COUNTY), 120);
  ASSERT_NE(policy.category("0101"), nullptr);
  EXPECT_EQ(policy.category("0101")->county_dept, "CTY_CGJ");
}

TEST(Categories, ABadLineIsTheSameErrorEverywhereNamingFileLineAndField) {
  testing::TempDir dir;
  const auto file = dir.write("categories.csv", kHeader + "0101,a,b,grid,CTY_CGJ,24,48,72\n0102,c,d,grid,CTY_CGJ,24h,48,72\n");
  auto table = load_categories(file);
  ASSERT_FALSE(table.ok());
  EXPECT_THAT(table.error().detail,
              AllOf(HasSubstr("categories.csv:3 (sla_hours_grid)"), HasSubstr("'24h'")));
  EXPECT_EQ(router_create_error(file), table.error().detail);
  EXPECT_EQ(sla_error(file), table.error().detail);
}

TEST(Categories, ADuplicateCodeOrAMissingDepartmentIsRefusedByBoth) {
  testing::TempDir dir;
  // The router used to keep the last of two rows with one code, and accept a row without a department.
  const auto dup = dir.write("dup.csv", kHeader + "0101,a,b,grid,CTY_CGJ,24,48,72\n0101,a,b,county,CTY_X,1,1,1\n");
  EXPECT_THAT(router_create_error(dup), AllOf(HasSubstr("dup.csv:3 (category_code)"), HasSubstr("twice")));
  EXPECT_EQ(sla_error(dup), router_create_error(dup));
  const auto nodept = dir.write("nodept.csv", kHeader + "0101,a,b,grid,,24,48,72\n");
  EXPECT_THAT(router_create_error(nodept), HasSubstr("nodept.csv:2 (county_dept_code)"));
  EXPECT_EQ(sla_error(nodept), router_create_error(nodept));
}

TEST(Categories, TheCategoryNameColumnIsOptionalForEveryReader) {
  testing::TempDir dir;
  // The SLA policy never needed names; the router used to refuse a table without them.
  const auto file = dir.write("categories.csv",
                              "category_code,initial_tier,county_dept_code,sla_hours_grid,sla_hours_community,sla_hours_county\n"
                              "0402,county,CTY_SWJ,,,4\n");
  EXPECT_EQ(router_create_error(file), "");
  EXPECT_EQ(sla_error(file), "");
}

TEST(Categories, TheCentreCodeDefaultIsOneValueForRouterSlaAndLifecycle) {
  testing::TempDir dir;
  const auto file = dir.write("categories.csv", kQuirky);
  // The router without a center_code key sends an out-of-county report to the default centre...
  const auto* d = router_tiered_descriptor();
  char error[512] = {};
  const std::string toml = "categories = \"" + file.string() + "\"\n";
  plugin::Stage* s = d->create(toml.c_str(), file.parent_path().c_str(), error, sizeof error);
  ASSERT_NE(s, nullptr) << error;
  plugin::Record rec;
  plugin::Resolution res;
  res.out_of_area = true;
  plugin::Classification cls;
  const auto r = static_cast<plugin::Router*>(s)->route(rec, res, cls);
  d->destroy(s);
  EXPECT_EQ(r.assignee_code, kDefaultCenterCode);
  // ...which is the SLA settings' and the policy's default too.
  EXPECT_EQ(sla::SlaSettings{}.center_code, kDefaultCenterCode);
  EXPECT_EQ(sla::SlaPolicy::load(file).center_code(), kDefaultCenterCode);
  EXPECT_EQ(sla::SlaPolicy::load(file).max_returns(), sla::kDefaultMaxReturns);
}

}  // namespace
}  // namespace gridhub::categories
