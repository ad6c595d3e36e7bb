#include "gridhub/plugins/merger_window.hpp"

#include <gtest/gtest.h>

#include <limits>

#include "gridhub/common/time_math.hpp"

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

TEST(WindowMerger, ReportedAtAtTheInt64LimitsIsFarApartNotZeroHours) {
  // INT64_MAX - INT64_MIN wraps to -1 in signed arithmetic: "0.0 h apart", merged. Exact: never.
  constexpr auto kMin = std::numeric_limits<std::int64_t>::min();
  constexpr auto kMax = std::numeric_limits<std::int64_t>::max();
  WindowMerger m({});
  auto low = report("垃圾", kMin, "0102", "C1", "G1");
  auto high = report("垃圾", kMax, "0102", "C1", "G1");
  EXPECT_FALSE(offer(m, low, "T1").merged);
  EXPECT_FALSE(offer(m, high, "T2").merged);
  // The same limit twice is the same moment: it merges, 0.0 h apart.
  auto high_again = report("垃圾", kMax, "0102", "C1", "G1");
  auto r = offer(m, high_again, "T3");
  EXPECT_TRUE(r.merged);
  EXPECT_EQ(r.incident_id, "T2");
  EXPECT_NE(r.why.detail.find("0.0 h apart"), std::string::npos) << r.why.detail;
  auto low_again = report("垃圾", kMin + kHour, "0102", "C1", "G1");
  auto r2 = offer(m, low_again, "T4");
  EXPECT_TRUE(r2.merged);
  EXPECT_EQ(r2.incident_id, "T1");
  EXPECT_NE(r2.why.detail.find("1.0 h apart"), std::string::npos) << r2.why.detail;
}

TEST(WindowMerger, RecallingTheLoggedDecisionsNewestFirstRestoresTheMemory) {
  // A merger that saw five reports, and one started afresh that recalls them from the log.
  MergerOptions o;
  o.max_reports = 3;
  WindowMerger live(o);
  std::vector<Report> past = {report("垃圾", 1 * kHour, "0102", "C1", "G1"), report("路灯坏了", 1 * kHour, "0601", "C1", "G1"),
                              report("垃圾没人清", 2 * kHour, "0102", "C1", "G1"), report("又是垃圾", 3 * kHour, "0102", "C1", "G1"),
                              report("小区垃圾", 2 * kHour, "0102", "C2", "")};
  struct Logged {
    std::string id;
    plugin::MergeResult result;
  };
  std::vector<Logged> log;
  for (std::size_t i = 0; i < past.size(); ++i) {
    const std::string id = "T" + std::to_string(i + 1);
    log.push_back({id, offer(live, past[i], id)});
  }
  ASSERT_TRUE(log[2].result.merged);
  ASSERT_TRUE(log[3].result.merged);   // T1 now has 3 reports: full

  WindowMerger restarted(o);
  for (std::size_t i = past.size(); i-- > 0;) {
    past[i].record.text = past[i].text;
    plugin::MergeRecall r{{&past[i].record, &past[i].resolution, &past[i].classification, log[i].id},
                          log[i].result.incident_id, log[i].result.merged};
    EXPECT_TRUE(restarted.recall(r));
  }
  // The same next reports get the same decisions from both: T1 is full, T2 takes its category, the
  // community-level incident T5 takes similar text.
  for (auto next : {report("垃圾", 2 * kHour, "0102", "C1", "G1"), report("路灯不亮", 2 * kHour, "0601", "C1", "G1"),
                    report("小区垃圾又多了", 3 * kHour, "0102", "C2", "")}) {
    auto copy = next;
    auto a = offer(live, next, "T9");
    auto b = offer(restarted, copy, "T9");
    EXPECT_EQ(a.merged, b.merged) << next.text;
    EXPECT_EQ(a.incident_id, b.incident_id) << next.text;
    EXPECT_EQ(a.why.detail, b.why.detail);
  }
}

TEST(WindowMerger, RecallStopsAtMaxOpen) {
  MergerOptions o;
  o.max_open = 2;
  WindowMerger m(o);
  std::vector<Report> past = {report("垃圾", 1 * kHour, "0102", "C1", "G1"), report("垃圾", 1 * kHour, "0102", "C1", "G2"),
                              report("垃圾", 1 * kHour, "0102", "C1", "G3")};
  std::vector<bool> wants;
  for (std::size_t i = past.size(); i-- > 0;) {
    past[i].record.text = past[i].text;
    const std::string id = "T" + std::to_string(i + 1);
    wants.push_back(m.recall({{&past[i].record, &past[i].resolution, &past[i].classification, id}, id, false}));
    if (!wants.back()) break;   // as the host does
  }
  EXPECT_EQ(wants, (std::vector<bool>{true, false}));
  // G1's incident was the oldest: beyond max_open, forgotten as merge() would have forgotten it.
  auto again = report("垃圾", 1 * kHour, "0102", "C1", "G1");
  EXPECT_FALSE(offer(m, again, "T9").merged);
  auto g3 = report("垃圾", 1 * kHour, "0102", "C1", "G3");
  EXPECT_TRUE(offer(m, g3, "T10").merged);
}

TEST(TimeMath, DifferencesAndSumsSaturateAtTheInt64Limits) {
  constexpr auto kMin = std::numeric_limits<std::int64_t>::min();
  constexpr auto kMax = std::numeric_limits<std::int64_t>::max();
  EXPECT_EQ(abs_diff_micros(kMax, kMin), std::numeric_limits<std::uint64_t>::max());
  EXPECT_EQ(abs_diff_micros(kMin, kMax), std::numeric_limits<std::uint64_t>::max());
  EXPECT_EQ(abs_diff_micros(kMin, kMin), 0U);
  EXPECT_EQ(abs_diff_micros(-5, 5), 10U);
  EXPECT_EQ(add_micros_saturated(kMax, 1), kMax);
  EXPECT_EQ(add_micros_saturated(kMin, -1), kMin);
  EXPECT_EQ(add_micros_saturated(kMax - 10, 4), kMax - 6);
  EXPECT_EQ(hours_to_micros_saturated(kMax / 1000), kMax);
  EXPECT_EQ(hours_to_micros_saturated(-(kMax / 1000)), kMin);
  EXPECT_EQ(hours_to_micros_saturated(2), 2 * kHour);
}

}  // namespace
}  // namespace gridhub::plugins
