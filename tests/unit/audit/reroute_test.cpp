// gridhub::audit::reroute: the logged intake replayed through a candidate pipeline.
#include "gridhub/audit/reroute.hpp"

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "../../testing/temp_dir.hpp"
#include "gridhub/common/clock.hpp"
#include "gridhub/core/normalizer.hpp"
#include "gridhub/core/routing.hpp"
#include "gridhub/core/sequencer.hpp"
#include "gridhub/log/event_log.hpp"

namespace gridhub::audit {
namespace {

namespace v1 = gridhub::v1;

const std::string kWugong = std::string(GRIDHUB_SOURCE_DIR) + "/examples/wugong";
constexpr std::int64_t kMay6 = 1'714'953'600'000'000;   // 2024-05-06T00:00:00Z
constexpr std::int64_t kHour = 3'600'000'000;

pipeline::PipelineOptions wugong_pipeline(const std::string& categories) {
  pipeline::PipelineOptions o;
  o.base_dir = kWugong;
  o.source_name = "test.toml";
  o.chat_groups = kWugong + "/wechat/groups.csv";
  o.plugin_config["resolver_gazetteer"] = "world_dir = \"world\"\n";
  o.plugin_config["classifier_ngram"] = "model = \"model/classifier.ngram\"\n";
  o.plugin_config["router_tiered"] = "categories = \"" + categories + "\"\n";
  return o;
}

struct Report {
  std::string key, text, address, hint;
};

// Two water outages at the same building an hour apart (the second merges), a rubbish complaint, a
// streetlight, and a water outage elsewhere.
const std::vector<Report> kReports = {
    {"GD-1", "家里停水一整天了，也没有通知，请尽快处理。", "普集街道书院社区清河新城14栋1单元", "水电气暖/供水"},
    {"GD-2", "清河新城14栋又停水了，到现在还没来水。", "普集街道书院社区清河新城14栋2单元", "水电气暖/供水"},
    {"GD-3", "小区门口垃圾堆了好几天没人清理，味道很大。", "普集街道书院社区清河新城", "市容环境/垃圾"},
    {"GD-4", "路灯晚上不亮，走路很不安全。", "普集街道书院社区清河新城南门", "市政设施/路灯"},
    {"GD-5", "自来水水压特别低，楼上根本用不了水。", "普集街道书院社区清河新城3栋", "水电气暖/供水"},
};

class RerouteTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Write the log the way the hub does: assess on intake, merge in log order inside the writer.
    auto p = pipeline::Pipeline::create(wugong_pipeline("world/categories.csv"));
    ASSERT_TRUE(p.ok()) << p.error().message();
    core::PipelineHook hook(*p.value(), nullptr);
    auto l = core::open_log(db_, log::LogOptions{}, clock_, &hook);
    ASSERT_TRUE(l.ok()) << l.error().message();
    std::int64_t at = kMay6 + 9 * kHour;
    for (const auto& r : kReports) {
      v1::Event ev;
      ev.set_channel(v1::CHANNEL_HOTLINE);
      ev.set_adapter_id("t");
      ev.set_source_key(r.key);
      ev.mutable_fields()->set_text(r.text);
      ev.mutable_fields()->set_address_text(r.address);
      ev.mutable_fields()->set_category_hint(r.hint);
      ev.mutable_fields()->mutable_reported_at()->set_unix_micros(at);
      at += kHour;
      log::IntakeItem item;
      *item.body.mutable_ticket() = core::ticket_from_event(ev);
      auto a = std::make_shared<pipeline::Assessment>(p.value()->assess(ev));
      core::apply_assessment(*a, item.body);
      item.hook_state = std::move(a);
      *item.body.mutable_event() = ev;
      std::vector<log::AppendItem> items;
      items.push_back(std::move(item));
      std::vector<log::AppendOutcome> out;
      ASSERT_TRUE(l.value()->append(items, out).ok());
      clock_.advance(60'000'000);
    }
  }

  Result<RerouteSummary> run(const std::string& categories, std::vector<DecisionChange>& changes) {
    auto p = pipeline::Pipeline::create(wugong_pipeline(categories));
    EXPECT_TRUE(p.ok()) << p.error().message();
    return reroute(db_, *p.value(), [&](const DecisionChange& c) { changes.push_back(c); });
  }

  gridhub::testing::TempDir dir_;
  std::filesystem::path db_ = dir_ / "gridhub.db";
  ManualClock clock_{kMay6};
};

TEST_F(RerouteTest, TheConfigurationInForceReproducesEveryLoggedDecision) {
  std::vector<DecisionChange> changes;
  auto s = run("world/categories.csv", changes);
  ASSERT_TRUE(s.ok()) << s.error().message();
  EXPECT_EQ(s->records, kReports.size());
  EXPECT_EQ(s->changed_records, 0u);
  EXPECT_TRUE(changes.empty()) << format_change(changes.front(), false);
  EXPECT_EQ(format_summary(s.value(), false),
            "reroute: 5 records replayed, 0 would change: is_ticket 0, category_code 0, community_code 0, grid_code 0, "
            "tier 0, assignee_code 0, incident 0");
}

TEST_F(RerouteTest, MovingACategoryToAnotherDepartmentListsExactlyItsTickets) {
  std::ifstream in(kWugong + "/world/categories.csv", std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string table = ss.str();
  const auto row = table.find("\n1801,");
  ASSERT_NE(row, std::string::npos);
  table.replace(table.find("CTY_SWJ", row), 7, "CTY_ZJJ");
  std::ofstream(dir_ / "categories.csv", std::ios::binary) << table;

  std::vector<DecisionChange> changes;
  auto s = run((dir_ / "categories.csv").string(), changes);
  ASSERT_TRUE(s.ok()) << s.error().message();
  // GD-1, its merged repeat GD-2 (which stores the incident's ticket) and GD-5 are water outages.
  ASSERT_EQ(changes.size(), 3u);
  std::vector<std::string> keys;
  for (const auto& c : changes) {
    EXPECT_EQ(c.field, DecisionField::kAssignee);
    EXPECT_EQ(c.logged, "CTY_SWJ");
    EXPECT_EQ(c.candidate, "CTY_ZJJ");
    keys.push_back(c.source_key);
  }
  EXPECT_EQ(keys, (std::vector<std::string>{"GD-1", "GD-2", "GD-5"}));
  EXPECT_EQ(s->changed_records, 3u);
  EXPECT_EQ(s->changes[static_cast<std::size_t>(DecisionField::kAssignee)], 3u);
  EXPECT_EQ(format_change(changes[0], false), "1\tGD-1\tassignee_code\tCTY_SWJ -> CTY_ZJJ");
  EXPECT_EQ(format_change(changes[0], true),
            "{\"seq\":1,\"source_key\":\"GD-1\",\"field\":\"assignee_code\",\"logged\":\"CTY_SWJ\",\"candidate\":\"CTY_ZJJ\"}");
}

TEST_F(RerouteTest, ACandidateWithoutAMergerListsTheMergedReportAsItsOwnIncident) {
  // A candidate with no merger: the merged report would have been a ticket of its own.
  auto o = wugong_pipeline("world/categories.csv");
  o.merger.clear();
  auto p = pipeline::Pipeline::create(o);
  ASSERT_TRUE(p.ok()) << p.error().message();
  std::vector<DecisionChange> changes;
  auto s = reroute(db_, *p.value(), [&](const DecisionChange& c) { changes.push_back(c); });
  ASSERT_TRUE(s.ok());
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].source_key, "GD-2");
  EXPECT_EQ(changes[0].field, DecisionField::kIncident);
  EXPECT_EQ(changes[0].logged, "T00000001");
  EXPECT_EQ(changes[0].candidate, "T00000002");
}

TEST(Reroute, AMissingLogIsAnError) {
  gridhub::testing::TempDir dir;
  auto p = pipeline::Pipeline::create(wugong_pipeline("world/categories.csv"));
  ASSERT_TRUE(p.ok());
  EXPECT_FALSE(reroute(dir / "nope.db", *p.value(), {}).ok());
}

}  // namespace
}  // namespace gridhub::audit
