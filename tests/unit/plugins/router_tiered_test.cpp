#include "gridhub/plugins/router_tiered.hpp"

#include <gtest/gtest.h>

#include <fstream>

#include "../../testing/temp_dir.hpp"

namespace gridhub::plugins {
namespace {

class RouterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto cats = load_categories(std::string(GRIDHUB_SOURCE_DIR) + "/examples/wugong/world/categories.csv");
    ASSERT_TRUE(cats.ok()) << cats.error().message();
    router_ = std::make_unique<TieredRouter>(std::move(cats.value()), "CTR_12345", "test");
    record_.reported_at_us = 1'000'000'000'000;
  }
  plugin::Routing route(const std::string& category, const std::string& community, const std::string& grid,
                        bool out = false) {
    plugin::Resolution res;
    res.community_code = community;
    res.grid_code = grid;
    res.out_of_area = out;
    plugin::Classification cls;
    cls.is_ticket = true;
    cls.category_code = category;
    return router_->route(record_, res, cls);
  }
  std::unique_ptr<TieredRouter> router_;
  plugin::Record record_;
};

TEST_F(RouterTest, AnAbstainedClassificationGoesToTheCentresManualDispatch) {
  plugin::Resolution res;
  res.community_code = "610431001003";
  res.grid_code = "610431001003002";
  plugin::Classification cls;
  cls.is_ticket = true;
  cls.confidence = 0.41;
  cls.suggestions = {{"0102", 0.41}, {"1801", 0.30}, {"1001", 0.10}};
  auto r = router_->route(record_, res, cls);
  EXPECT_EQ(r.tier, "center");
  EXPECT_EQ(r.assignee_code, "CTR_12345");
  EXPECT_EQ(r.why.rule, "low_confidence");
  EXPECT_NE(r.why.detail.find("0.41"), std::string::npos) << r.why.detail;
  // Without suggestions an empty category is still an unknown one, as before.
  cls.suggestions.clear();
  EXPECT_EQ(router_->route(record_, res, cls).why.rule, "unknown_category");
}

TEST_F(RouterTest, GridMattersStayInTheGridWhenItIsKnown) {
  auto r = route("0102", "610431001003", "610431001003002");   // 暴露垃圾, grid tier, 24 h
  EXPECT_EQ(r.tier, "grid");
  EXPECT_EQ(r.assignee_code, "610431001003002");
  EXPECT_EQ(r.why.rule, "category_grid");
}

TEST_F(RouterTest, GridMatterWithOnlyTheCommunityGoesToTheCommunity) {
  auto r = route("0102", "610431001003", "");
  EXPECT_EQ(r.tier, "community");
  EXPECT_EQ(r.assignee_code, "610431001003");
  EXPECT_EQ(r.why.rule, "category_grid_no_grid");
}

TEST_F(RouterTest, CountyMattersGoToTheirDepartmentWithoutAPlace) {
  auto r = route("1801", "", "");   // 供水故障 -> 县水务局, 12 h
  EXPECT_EQ(r.tier, "county");
  EXPECT_EQ(r.assignee_code, "CTY_SWJ");
}

TEST_F(RouterTest, OutOfCountyAndUnplacedGoToTheCentre) {
  EXPECT_EQ(route("1801", "", "", true).assignee_code, "CTR_12345");
  auto r = route("1001", "", "");   // community matter, no place
  EXPECT_EQ(r.tier, "center");
  EXPECT_EQ(r.assignee_code, "CTR_12345");
  EXPECT_EQ(route("9999", "610431001003", "").why.rule, "unknown_category");
}

TEST(RouterCategories, BadFileNamesLineAndColumn) {
  gridhub::testing::TempDir dir;
  auto f = dir.path() / "categories.csv";
  std::ofstream(f) << "category_code,category_name,description,initial_tier,county_dept_code,sla_hours_grid,"
                      "sla_hours_community,sla_hours_county\n0101,x,y,street,CTY_CGJ,1,2,3\n";
  auto r = load_categories(f);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().detail.find("categories.csv:2"), std::string::npos) << r.error().detail;
  EXPECT_NE(r.error().detail.find("street"), std::string::npos);
}

}  // namespace
}  // namespace gridhub::plugins
