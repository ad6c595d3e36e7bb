// gridhub::audit::collect_report and its CSV/HTML renderings: the figures a county publishes.
#include "gridhub/audit/report.hpp"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "../../testing/temp_dir.hpp"
#include "gridhub/common/clock.hpp"
#include "gridhub/core/normalizer.hpp"
#include "gridhub/log/event_log.hpp"

namespace gridhub::audit {
namespace {

namespace v1 = gridhub::v1;

constexpr std::int64_t kMay6 = 1'714'953'600'000'000;   // 2024-05-06T00:00:00Z
constexpr std::int64_t kDay = 86'400'000'000;

struct Row {
  const char* key;
  v1::Channel channel;
  const char* category;
  const char* community;
  const char* grid;
  v1::Tier tier;
  const char* merge_into;   // "" = new ticket; "-" = not a ticket
};

// One record a day.
const std::vector<Row> kRows = {
    {"A", v1::CHANNEL_HOTLINE, "1801", "C1", "G11", v1::TIER_COUNTY, ""},        // T00000001
    {"B", v1::CHANNEL_WECHAT, "0102", "C1", "G11", v1::TIER_GRID, ""},           // T00000002
    {"C", v1::CHANNEL_WECHAT, "", "", "", v1::TIER_UNSPECIFIED, "-"},            // chit-chat
    {"D", v1::CHANNEL_WEBFORM, "1801", "C1", "G11", v1::TIER_COUNTY, "T00000001"},
    {"E", v1::CHANNEL_HOTLINE, "0301", "C2", "G21", v1::TIER_COMMUNITY, ""},     // T00000005
    {"F", v1::CHANNEL_HOTLINE, "0102", "C2", "G22", v1::TIER_GRID, ""},          // T00000006
    {"G", v1::CHANNEL_WECHAT, "1801", "C1", "G11", v1::TIER_COUNTY, "T00000001"},
};

class ScriptedHook final : public log::IntakeHook {
 public:
  void complete(log::IntakeItem& item, std::uint64_t, const std::string&, std::int64_t) noexcept override {
    for (const auto& r : kRows) {
      if (item.body.event().source_key() != r.key) continue;
      if (std::string(r.merge_into) == "-") item.body.set_disposition(v1::DISPOSITION_NOT_A_TICKET);
      if (std::string(r.merge_into).size() > 1) {
        item.body.set_disposition(v1::DISPOSITION_MERGED);
        item.body.mutable_ticket()->set_incident_id(r.merge_into);
      }
    }
  }
};

class ReportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto l = log::open_event_log(db_, log::LogOptions{}, clock_, &hook_);
    ASSERT_TRUE(l.ok()) << l.error().message();
    for (const auto& r : kRows) {
      v1::Event ev;
      ev.set_channel(r.channel);
      ev.set_adapter_id("t");
      ev.set_source_key(r.key);
      ev.mutable_fields()->set_text("text");
      log::IntakeItem item;
      *item.body.mutable_event() = ev;
      auto& t = *item.body.mutable_ticket() = core::ticket_from_event(ev);
      t.set_category_code(r.category);
      t.set_community_code(r.community);
      t.set_grid_code(r.grid);
      t.set_tier(r.tier);
      std::vector<log::AppendItem> items;
      items.push_back(std::move(item));
      std::vector<log::AppendOutcome> out;
      ASSERT_TRUE(l.value()->append(items, out).ok());
      clock_.advance(kDay);
    }
  }

  gridhub::testing::TempDir dir_;
  std::filesystem::path db_ = dir_ / "gridhub.db";
  ManualClock clock_{kMay6};
  ScriptedHook hook_;
};

TEST_F(ReportTest, CountsTicketsOnceAndReportsPerRecord) {
  auto r = collect_report(db_, {});
  ASSERT_TRUE(r.ok()) << r.error().message();
  const auto& d = r.value();
  EXPECT_EQ(d.intake_records, 7u);
  EXPECT_EQ(d.tickets, 4u);
  EXPECT_EQ(d.merged_reports, 2u);
  EXPECT_EQ(d.not_tickets, 1u);
  EXPECT_EQ(d.by_channel.at("hotline").reports, 3u);
  EXPECT_EQ(d.by_channel.at("hotline").tickets, 3u);
  EXPECT_EQ(d.by_channel.at("wechat").reports, 3u);
  EXPECT_EQ(d.by_channel.at("wechat").tickets, 1u);
  EXPECT_EQ(d.by_channel.at("wechat").merged, 1u);
  EXPECT_EQ(d.by_channel.at("wechat").not_tickets, 1u);
  EXPECT_EQ(d.by_channel.at("webform").merged, 1u);
  EXPECT_EQ(d.by_category.at("1801"), 1u);   // three reports, one ticket
  EXPECT_EQ(d.by_category.at("0102"), 2u);
  EXPECT_EQ(d.by_community.at("C1").tickets, 2u);
  EXPECT_EQ(d.by_community.at("C1").grid_tier, 1u);
  EXPECT_EQ(d.by_community.at("C2").community_tier, 1u);
  EXPECT_EQ((d.by_grid.at({"G11", "C1"})), 2u);
  EXPECT_EQ(d.by_tier.at("grid"), 2u);
  EXPECT_EQ(d.by_tier.at("community"), 1u);
  EXPECT_EQ(d.by_tier.at("county"), 1u);
  ASSERT_EQ(d.incidents.size(), 1u);
  EXPECT_EQ(d.incidents[0].incident_id, "T00000001");
  EXPECT_EQ(d.incidents[0].reports, 3u);
  EXPECT_EQ(d.incidents[0].channels, (std::set<std::string>{"hotline", "webform", "wechat"}));
}

TEST_F(ReportTest, ThePeriodSelectsRecordsAndAMergeIntoAnOlderIncidentIsNoNewTicket) {
  ReportOptions o;
  o.since_micros = kMay6 + 3 * kDay;   // from D on
  o.until_micros = kMay6 + 6 * kDay;   // G excluded
  auto r = collect_report(db_, o);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->intake_records, 3u);   // D, E, F
  EXPECT_EQ(r->tickets, 2u);          // E, F
  EXPECT_EQ(r->merged_reports, 1u);   // D joined T00000001, created before the period
  EXPECT_EQ(r->by_category.count("1801"), 0u);
  EXPECT_TRUE(r->incidents.empty());
}

TEST_F(ReportTest, CsvHasOneSectionPerTableWithNamesAndSaysWhatIsNotRecordedYet) {
  auto r = collect_report(db_, {});
  ASSERT_TRUE(r.ok());
  const std::string csv = render_report_csv(r.value(), {{"1801", "供水故障"}, {"0102", "暴露垃圾"}});
  EXPECT_NE(csv.find("# summary\nsince,until,intake_records,tickets,merged_reports,not_a_ticket\n,,7,4,2,1\n"), std::string::npos) << csv;
  EXPECT_NE(csv.find("# by_channel\nchannel,reports,tickets,merged_reports,not_a_ticket\nhotline,3,3,0,0\nwebform,1,0,1,0\n"
                     "wechat,3,1,1,1\n"),
            std::string::npos)
      << csv;
  EXPECT_NE(csv.find("# by_category\ncategory_code,category_name,tickets,share_percent\n0102,暴露垃圾,2,50.0\n"), std::string::npos)
      << csv;
  EXPECT_NE(csv.find("# kept_local\nlevel,tickets,share_percent,basis\ngrid,2,50.0,routing tier at intake\n"
                     "community,1,25.0,routing tier at intake\ngrid_or_community,3,75.0,routing tier at intake\n"),
            std::string::npos)
      << csv;
  EXPECT_NE(csv.find("T00000001,1801,供水故障,C1,G11,3,hotline webform wechat\n"), std::string::npos) << csv;
  EXPECT_NE(csv.find("sla_compliance,no status updates recorded yet\n"), std::string::npos) << csv;
  for (const char* section : {"# by_community\n", "# by_grid\n", "# by_tier\n", "# merged_incidents\n", "# not_yet_recorded\n"}) {
    EXPECT_NE(csv.find(section), std::string::npos) << section;
  }
}

TEST_F(ReportTest, HtmlIsOneSelfContainedPage) {
  auto r = collect_report(db_, {});
  ASSERT_TRUE(r.ok());
  const std::string html = render_report_html(r.value(), {{"1801", "供水故障"}, {"0102", "暴露垃圾<&>"}});
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_NE(html.find("<tr><td>暴露垃圾&lt;&amp;&gt;</td><td>0102</td><td class=\"n\">2</td>"), std::string::npos) << html;
  EXPECT_NE(html.find("<svg"), std::string::npos);
  EXPECT_NE(html.find("no status updates recorded yet"), std::string::npos);
  for (const char* external : {"http:", "https:", "<script", "<link", "<img", "url(", "@import"}) {
    EXPECT_EQ(html.find(external), std::string::npos) << external;
  }
}

TEST(Report, CategoryNamesComeFromTheCountyTable) {
  auto names = load_category_names(std::string(GRIDHUB_SOURCE_DIR) + "/examples/wugong/world/categories.csv");
  ASSERT_TRUE(names.ok()) << names.error().message();
  EXPECT_EQ(names->at("1801"), "供水故障");
  gridhub::testing::TempDir dir;
  EXPECT_FALSE(load_category_names(dir / "missing.csv").ok());
}

}  // namespace
}  // namespace gridhub::audit
