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

TEST(WindowMerger, OneBurstPipeReportedByHotlineWechatAndWebFormIsOneIncidentWhateverTheWording) {
  WindowMerger m({});
  auto hotline = report("来电人反映：锦绣花园3号楼门口自来水管爆了，水一直往外冒", 9 * kHour, "1801", "C1", "G1");
  auto wechat = report("@物业 三号楼下面水管破了，哗哗流水，快来人看看", 10 * kHour, "1801", "C1", "G1");
  auto webform = report("小区供水管道破裂，到处是水", 12 * kHour, "1801", "C1", "G1");
  hotline.record.channel = "hotline";
  wechat.record.channel = "wechat";
  webform.record.channel = "webform";
  EXPECT_FALSE(offer(m, hotline, "T1").merged);
  for (auto* r : {&wechat, &webform}) {
    auto result = offer(m, *r, r == &wechat ? "T2" : "T3");
    EXPECT_TRUE(result.merged) << r->text;
    EXPECT_EQ(result.incident_id, "T1");
  }
}

TEST(WindowMerger, TheSameWordsUnderAnotherCategoryAtOneGridAreOneIncident) {
  // The classifier read one of two copies of a message differently: the words say it is one matter.
  WindowMerger m({});
  auto a = report("锦绣花园5号楼门口的井盖没了，晚上很危险", 1 * kHour, "0402", "C1", "G1");
  auto b = report("锦绣花园5号楼门口的井盖没了，晚上太危险了，快来修", 2 * kHour, "0401", "C1", "G1");
  offer(m, a, "T1");
  auto r = offer(m, b, "T2");
  EXPECT_TRUE(r.merged);
  EXPECT_EQ(r.incident_id, "T1");
  EXPECT_EQ(r.why.rule, "same_place_similar_text");
}

TEST(WindowMerger, DifferentProblemsAtOneAddressStayTwoIncidents) {
  WindowMerger m({});
  auto water = report("锦绣花园3号楼停水了，一滴水都没有", 1 * kHour, "1801", "C1", "G1");
  auto power = report("3号楼又跳闸了，家里没电", 1 * kHour, "1802", "C1", "G1");
  auto noise = report("楼上天天半夜装修，吵得睡不着", 2 * kHour, "1502", "C1", "G1");
  for (auto* r : {&water, &power, &noise}) {
    r->resolution.compound = "锦绣花园";
    r->resolution.building = "3";
  }
  EXPECT_FALSE(offer(m, water, "T1").merged);
  EXPECT_FALSE(offer(m, power, "T2").merged);
  EXPECT_FALSE(offer(m, noise, "T3").merged);
}

TEST(WindowMerger, RelatedCategoriesJoinOnlyWhenConfigured) {
  auto a = report("锦绣花园门禁坏了，外人随便进，不安全", 1 * kHour, "1501", "C1", "G1");
  auto b = report("门禁坏了好几天，晚上有人乱进小区", 2 * kHour, "1001", "C1", "G1");
  auto c = report("半夜门禁那边有人吵闹，不安全", 2 * kHour, "1502", "C1", "G1");
  WindowMerger plain({});
  offer(plain, a, "T1");
  EXPECT_FALSE(offer(plain, b, "T2").merged);
  EXPECT_FALSE(offer(plain, c, "T3").merged);
  MergerOptions o;
  o.related_prefix = 2;   // 1501 and 1502 are both public safety; 1001 is not
  WindowMerger related(o);
  offer(related, a, "T1");
  EXPECT_FALSE(offer(related, b, "T2").merged);
  auto r = offer(related, c, "T3");
  EXPECT_TRUE(r.merged);
  EXPECT_EQ(r.why.rule, "same_place_related_category");
}

TEST(WindowMerger, NeverMergesAcrossCommunitiesOrDifferentNamedPlaces) {
  WindowMerger m({});
  auto a = report("小区停水一整天了没人管", 0, "1801", "C1", "");
  auto other_community = report("小区停水一整天了没人管", 0, "1801", "C2", "");
  offer(m, a, "T1");
  EXPECT_FALSE(offer(m, other_community, "T2").merged);
  auto b = report("楼道灯坏了", 0, "0601", "C1", "G1");
  auto other_building = report("楼道灯坏了", 0, "0601", "C1", "G1");
  b.resolution.compound = other_building.resolution.compound = "锦绣花园";
  b.resolution.building = "3";
  other_building.resolution.building = "4";
  offer(m, b, "T3");
  EXPECT_FALSE(offer(m, other_building, "T4").merged);
}

TEST(WindowMerger, AReportThatKnowsTheGridDoesNotJoinOneThatKnowsOnlyTheCommunity) {
  // Measured on the example county: such pairs were mostly different incidents in one chat group.
  WindowMerger m({});
  auto vague = report("我们小区垃圾没人清理", 0, "0102", "C1", "");
  auto exact = report("我们小区垃圾没人清理", 1 * kHour, "0102", "C1", "G1");
  offer(m, vague, "T1");
  EXPECT_FALSE(offer(m, exact, "T2").merged);
}

Report guessed(const std::string& text, std::int64_t at, const std::string& category, std::vector<std::string> ranked,
               const std::string& community = "C1", const std::string& grid = "G1") {
  Report r = report(text, at, category, community, grid);
  for (const auto& c : ranked) r.classification.suggestions.push_back({c, 0.3});
  return r;
}

TEST(WindowMerger, TwoReadingsOfOneIncidentThatAreEachOthersSecondGuessAreOneIncident) {
  // The hotline's record says 垃圾 where the resident wrote about the property company: the
  // classifier read them as 0102 and 1001, each the other's runner-up, and they share some words.
  auto a = guessed("锦绣花园东门垃圾桶满了好几天没人清运", 9 * kHour, "0102", {"0102", "1001", "0501"});
  auto b = guessed("东门垃圾桶满了，物业也不派人来收拾，臭得很", 11 * kHour, "1001", {"1001", "0102", "1502"});
  const double sim = WindowMerger::similarity(a.text, b.text);
  ASSERT_LT(sim, MergerOptions{}.text_similarity);   // the words alone would not join them
  ASSERT_GE(sim, MergerOptions{}.second_guess_similarity);
  WindowMerger m({});
  offer(m, a, "T1");
  auto r = offer(m, b, "T2");
  EXPECT_TRUE(r.merged);
  EXPECT_EQ(r.incident_id, "T1");
  EXPECT_EQ(r.why.rule, "same_place_second_guess");
  MergerOptions off;
  off.second_guess_similarity = 1;
  WindowMerger plain(off);
  offer(plain, a, "T1");
  EXPECT_FALSE(offer(plain, b, "T2").merged);
}

TEST(WindowMerger, AnAbstainedReportJoinsTheIncidentOfItsFirstSuggestion) {
  // Below min_confidence the ticket goes to the centre without a category, but it is still a report
  // of the burst pipe at its grid.
  auto a = guessed("3号楼门口水管爆了", 9 * kHour, "1801", {"1801", "0402", "1001"});
  auto b = guessed("楼下哗哗流水没人管", 10 * kHour, "", {"1801", "1001", "0401"});
  WindowMerger m({});
  offer(m, a, "T1");
  auto r = offer(m, b, "T2");
  EXPECT_TRUE(r.merged);
  EXPECT_EQ(r.incident_id, "T1");
  EXPECT_EQ(r.why.rule, "same_grid_category_window");
}

TEST(WindowMerger, DifferentProblemsAtOneAddressStayTwoEvenWhenEachIsTheOthersSecondGuess) {
  auto water = guessed("锦绣花园3号楼停水了，一滴水都没有", 1 * kHour, "1801", {"1801", "1802", "1001"});
  auto power = guessed("3号楼又跳闸了，家里没电", 1 * kHour, "1802", {"1802", "1801", "1001"});
  for (auto* r : {&water, &power}) {
    r->resolution.compound = "锦绣花园";
    r->resolution.building = "3";
  }
  ASSERT_LT(WindowMerger::similarity(water.text, power.text), MergerOptions{}.second_guess_similarity);
  WindowMerger m({});
  EXPECT_FALSE(offer(m, water, "T1").merged);
  EXPECT_FALSE(offer(m, power, "T2").merged);
}

TEST(WindowMerger, ASecondGuessNeverJoinsAcrossCommunities) {
  auto a = guessed("东门垃圾桶满了好几天没人清运", 9 * kHour, "0102", {"0102", "1001"}, "C1", "G1");
  auto b = guessed("东门垃圾桶满了物业好几天都不管", 10 * kHour, "1001", {"1001", "0102"}, "C2", "G1");
  WindowMerger m({});
  offer(m, a, "T1");
  EXPECT_FALSE(offer(m, b, "T2").merged);
}

TEST(WindowMerger, RecallRestoresAnAbstainedIncidentsSecondGuess) {
  // An abstained ticket's suggestions are logged (Ticket.suggestions), so after a restart its
  // incident still takes a report of its second guess.
  auto opened = guessed("锦绣花园东门垃圾桶满了好几天没人清运", 9 * kHour, "", {"1001", "0102", "0501"});
  WindowMerger live({});
  const auto first = offer(live, opened, "T1");
  WindowMerger restarted({});
  ASSERT_TRUE(restarted.recall({{&opened.record, &opened.resolution, &opened.classification, "T1"}, first.incident_id, false}));
  auto next = guessed("东门垃圾桶满了物业好几天都不管", 11 * kHour, "0102", {"0102", "0501", "1502"});
  auto copy = next;
  const auto a = offer(live, next, "T2");
  const auto b = offer(restarted, copy, "T2");
  EXPECT_TRUE(a.merged);
  EXPECT_EQ(a.why.rule, "same_place_second_guess");
  EXPECT_EQ(a.merged, b.merged);
  EXPECT_EQ(a.incident_id, b.incident_id);
  EXPECT_EQ(a.why.detail, b.why.detail);
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
