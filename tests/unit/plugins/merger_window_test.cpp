#include "gridhub/plugins/merger_window.hpp"

#include <gtest/gtest.h>

namespace gridhub::plugins {
namespace {

constexpr std::int64_t kHour = 3600LL * 1000000;

struct Report {
  plugin::Record record;
  plugin::Resolution resolution;
  plugin::Classification classification;
  std::string text;
};

Report report(const std::string& text, std::int64_t at, const std::string& category, const std::string& community,
              const std::string& grid) {
  Report r;
  r.text = text;
  r.record.reported_at_us = at;
  r.resolution.community_code = community;
  r.resolution.grid_code = grid;
  r.classification.is_ticket = true;
  r.classification.category_code = category;
  return r;
}

plugin::MergeResult offer(WindowMerger& m, Report& r, const std::string& id) {
  r.record.text = r.text;
  return m.merge({&r.record, &r.resolution, &r.classification, id});
}

TEST(WindowMerger, SameGridAndCategoryWithinTheWindowJoinTheFirstIncident) {
  WindowMerger m({});
  auto a = report("锦绣花园门口垃圾堆了三天没人清", 10 * kHour, "0102", "C1", "G1");
  auto b = report("小区东门那边生活垃圾没人拉走，臭死了", 13 * kHour, "0102", "C1", "G1");
  EXPECT_FALSE(offer(m, a, "T1").merged);
  auto r = offer(m, b, "T2");
  EXPECT_TRUE(r.merged);
  EXPECT_EQ(r.incident_id, "T1");
  EXPECT_EQ(r.why.rule, "same_grid_category_window");
}

TEST(WindowMerger, ALateExportStillJoinsAnEarlierReportedIncident) {
  WindowMerger m({});
  auto later = report("垃圾没人清", 15 * kHour, "0102", "C1", "G1");
  auto earlier = report("这里垃圾堆着", 11 * kHour, "0102", "C1", "G1");   // arrives second, happened first
  offer(m, later, "T1");
  EXPECT_TRUE(offer(m, earlier, "T2").merged);
}

TEST(WindowMerger, OutsideTheWindowOrAnotherCategoryOrPlaceIsANewIncident) {
  WindowMerger m({});
  auto a = report("垃圾", 0, "0102", "C1", "G1");
  auto late = report("垃圾", 7 * kHour, "0102", "C1", "G1");
  auto other_cat = report("路灯坏了", 1 * kHour, "0601", "C1", "G1");
  auto other_grid = report("垃圾", 1 * kHour, "0102", "C1", "G2");
  offer(m, a, "T1");
  EXPECT_FALSE(offer(m, late, "T2").merged);
  EXPECT_FALSE(offer(m, other_cat, "T3").merged);
  EXPECT_FALSE(offer(m, other_grid, "T4").merged);
}

TEST(WindowMerger, CommunityLevelReportsNeedSimilarText) {
  WindowMerger m({});
  auto a = report("书院社区停水了一整天没人管", 0, "1801", "C1", "");
  auto similar = report("书院社区这边停水一整天了", 1 * kHour, "1801", "C1", "");
  auto different = report("自来水管爆了往外冒水", 1 * kHour, "1801", "C1", "");
  offer(m, a, "T1");
  EXPECT_TRUE(offer(m, similar, "T2").merged);
  EXPECT_FALSE(offer(m, different, "T3").merged);
}

TEST(WindowMerger, NoPlaceOrOutOfAreaNeverMerges) {
  WindowMerger m({});
  auto a = report("停电了", 0, "1802", "", "");
  auto b = report("停电了", 0, "1802", "", "");
  offer(m, a, "T1");
  EXPECT_FALSE(offer(m, b, "T2").merged);
  EXPECT_EQ(offer(m, b, "T3").why.rule, "no_place");
}

TEST(WindowMerger, MemoryIsBoundedByMaxOpen) {
  MergerOptions o;
  o.max_open = 2;
  WindowMerger m(o);
  auto a = report("垃圾", 0, "0102", "C1", "G1");
  auto b = report("垃圾", 0, "0102", "C1", "G2");
  auto c = report("垃圾", 0, "0102", "C1", "G3");
  offer(m, a, "T1");
  offer(m, b, "T2");
  offer(m, c, "T3");   // evicts T1's incident
  auto again = report("垃圾", 1 * kHour, "0102", "C1", "G1");
  EXPECT_FALSE(offer(m, again, "T4").merged);
}

TEST(WindowMerger, AnIncidentStopsTakingReportsAtMaxReports) {
  MergerOptions o;
  o.max_reports = 2;
  WindowMerger m(o);
  auto a = report("垃圾", 0, "0102", "C1", "G1");
  auto b = report("垃圾", 1, "0102", "C1", "G1");
  auto c = report("垃圾", 2, "0102", "C1", "G1");
  offer(m, a, "T1");
  EXPECT_TRUE(offer(m, b, "T2").merged);
  auto r = offer(m, c, "T3");   // T1 holds two reports: a flood of reports cannot grow one ticket forever
  EXPECT_FALSE(r.merged);
  EXPECT_EQ(r.incident_id, "T3");
}

}  // namespace
}  // namespace gridhub::plugins
