// gridhub::audit::collect_report and its CSV/HTML renderings: the figures a county publishes.
#include "gridhub/audit/report.hpp"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "../../testing/temp_dir.hpp"
#include "gridhub/common/clock.hpp"
#include "gridhub/core/normalizer.hpp"
#include "gridhub/core/sequencer.hpp"
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

class ScriptedHook final : public core::IntakeHook {
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
    auto l = core::open_log(db_, log::LogOptions{}, clock_, &hook_);
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

TEST_F(ReportTest, CsvHasOneSectionPerTableWithNames) {
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
  for (const char* section : {"# by_community\n", "# by_grid\n", "# by_tier\n", "# merged_incidents\n", "# sla_compliance\n",
                              "# returns_escalations\n", "# time_to_resolve\n"}) {
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
  EXPECT_NE(html.find("按时办结率"), std::string::npos);
  for (const char* external : {"http:", "https:", "<script", "<link", "<img", "url(", "@import"}) {
    EXPECT_EQ(html.find(external), std::string::npos) << external;
  }
}

// A log with the ticket lifecycle: intake, then subscribers' updates and SLA escalations, as
// hub/core/tickets/src/lifecycle.cpp writes them (hand-built here, so the figures are known exactly).
class LifecycleReportTest : public ::testing::Test {
 protected:
  static constexpr std::int64_t kHour = 3'600'000'000;

  void SetUp() override {
    auto l = core::open_log(db_, log::LogOptions{}, clock_);
    ASSERT_TRUE(l.ok()) << l.error().message();
    log_ = std::move(l.value());
    // h0: T1 at the grid, due in 24 h.   h1: T2 at the grid, due h25.   h2: T3 at the county, due h26.
    // h3: T4 to the centre (no due time). h4: T5 at the community, due h28.
    t1_ = intake("a", "0102", v1::TIER_GRID, "G11W", 24);
    clock_.advance(kHour);
    t2_ = intake("b", "0102", v1::TIER_GRID, "G11W", 24);
    clock_.advance(kHour);
    t3_ = intake("c", "1801", v1::TIER_COUNTY, "SWJ", 24);
    clock_.advance(kHour);
    // h3: SWJ returns T3; the ZJJ takes it, due h51.
    change(t3_, [&](const v1::Ticket& cur, v1::LogRecord& rec) {
      auto* u = rec.mutable_ticket_update();
      u->set_action(v1::UPDATE_ACTION_RETURN);
      u->set_actor("swj-key");
      auto& t = *u->mutable_ticket() = cur;
      t.set_return_count(1);
      reassign(t, v1::TIER_COUNTY, "ZJJ", rec.recorded_at().unix_micros() + 48 * kHour);
    });
    t4_ = intake("d", "1801", v1::TIER_CENTER, "CENTER", 0);
    clock_.advance(kHour);
    t5_ = intake("e", "0301", v1::TIER_COMMUNITY, "C1OFF", 24);
    clock_.advance(kHour);   // h5: T5 resolved (1 h)
    resolve(t5_);
    clock_.advance(5 * kHour);   // h10: T1 resolved (10 h, in time, at the grid)
    resolve(t1_);
    clock_.advance(15 * kHour);   // h25: T2's deadline passes: up to the community, due h49
    change(t2_, [&](const v1::Ticket& cur, v1::LogRecord& rec) {
      auto* e = rec.mutable_escalation();
      e->set_reason("sla_breach");
      e->set_from_tier(cur.tier());
      e->set_from_assignee(cur.assignee_code());
      *e->mutable_due() = cur.sla_due();
      auto& t = *e->mutable_ticket() = cur;
      t.set_escalation_count(1);
      reassign(t, v1::TIER_COMMUNITY, "C1OFF", rec.recorded_at().unix_micros() + 24 * kHour);
    });
    clock_.advance(5 * kHour);   // h30: T2 resolved (29 h, late, within the community)
    resolve(t2_);
  }

  std::string intake(const char* key, const char* category, v1::Tier tier, const char* assignee, int due_hours) {
    v1::Event ev;
    ev.set_channel(v1::CHANNEL_HOTLINE);
    ev.set_adapter_id("t");
    ev.set_source_key(key);
    ev.mutable_fields()->set_text("text");
    log::IntakeItem item;
    *item.body.mutable_event() = ev;
    auto& t = *item.body.mutable_ticket() = core::ticket_from_event(ev);
    t.set_category_code(category);
    t.set_community_code("C1");
    reassign(t, tier, assignee, due_hours == 0 ? 0 : clock_.now_micros() + due_hours * kHour);
    return append(std::move(item));
  }

  static void reassign(v1::Ticket& t, v1::Tier tier, const char* assignee, std::int64_t due) {
    t.set_tier(tier);
    t.set_assignee_code(assignee);
    t.add_assignee_history(assignee);
    t.set_status(v1::TICKET_STATUS_ASSIGNED);
    if (due != 0) {
      t.mutable_sla_due()->set_unix_micros(due);
    } else {
      t.clear_sla_due();
    }
  }

  template <class Fn>
  void change(const std::string& id, Fn fill) {
    log::ChangeItem c;
    c.ticket_id = id;
    c.apply = [fill](const v1::Ticket& cur, v1::LogRecord& rec, std::string&) {
      fill(cur, rec);
      return log::Refusal::kNone;
    };
    append(std::move(c));
  }

  void resolve(const std::string& id) {
    change(id, [](const v1::Ticket& cur, v1::LogRecord& rec) {
      auto* u = rec.mutable_ticket_update();
      u->set_action(v1::UPDATE_ACTION_RESOLVE);
      auto& t = *u->mutable_ticket() = cur;
      t.set_status(v1::TICKET_STATUS_RESOLVED);
      *t.mutable_resolved_at() = rec.recorded_at();
      t.clear_sla_due();   // as lifecycle.cpp does: the report must use the due time from before
    });
  }

  template <class Item>
  std::string append(Item item) {
    std::vector<log::AppendItem> items;
    items.push_back(std::move(item));
    std::vector<log::AppendOutcome> out;
    auto st = log_->append(items, out);
    EXPECT_TRUE(st.ok()) << st.error().message();
    EXPECT_EQ(out.size(), 1u);
    return out.empty() ? std::string{} : out[0].ticket.ticket_id;
  }

  gridhub::testing::TempDir dir_;
  std::filesystem::path db_ = dir_ / "gridhub.db";
  ManualClock clock_{kMay6};
  std::unique_ptr<core::SequencedLog> log_;
  std::string t1_, t2_, t3_, t4_, t5_;
};

TEST_F(LifecycleReportTest, SlaReturnsEscalationsAndTimeToResolveComeFromTheChangeRecords) {
  ReportOptions o;
  o.until_micros = kMay6 + 60 * kHour;
  auto r = collect_report(db_, o);
  ASSERT_TRUE(r.ok()) << r.error().message();
  const auto& d = r.value();
  EXPECT_EQ(d.tickets, 5u);
  EXPECT_EQ(d.other_records, 0u);
  // T1, T5 in time; T2 late (escalated); T3 open past h51; T4 has no due time.
  EXPECT_EQ(d.sla.tickets, 5u);
  EXPECT_EQ(d.sla.no_sla, 1u);
  EXPECT_EQ(d.sla.on_time, 2u);
  EXPECT_EQ(d.sla.late, 1u);
  EXPECT_EQ(d.sla.open_overdue, 1u);
  EXPECT_EQ(d.sla.decided(), 4u);
  EXPECT_EQ(d.sla_by_tier.at("grid").on_time, 1u);
  EXPECT_EQ(d.sla_by_tier.at("community").on_time, 1u);
  EXPECT_EQ(d.sla_by_tier.at("community").late, 1u);
  EXPECT_EQ(d.sla_by_tier.at("county").open_overdue, 1u);
  EXPECT_EQ(d.sla_by_tier.at("center").no_sla, 1u);
  EXPECT_EQ(d.sla_by_category.at("0102").on_time, 1u);
  EXPECT_EQ(d.sla_by_category.at("0102").late, 1u);
  EXPECT_EQ(d.sla_by_category.at("1801").open_overdue, 1u);
  // Resolved: T1 (grid only), T5 (community), T2 (grid, then community).
  EXPECT_EQ(d.resolved, 3u);
  EXPECT_EQ(d.resolved_within_grid, 1u);
  EXPECT_EQ(d.resolved_within_community, 3u);
  // 1 h, 10 h, 29 h.
  EXPECT_EQ(d.resolve_all.median(), 10 * kHour);
  EXPECT_EQ(d.resolve_all.p90(), 29 * kHour);
  EXPECT_EQ(d.resolve_by_tier.at("community").median(), 1 * kHour);
  EXPECT_EQ(d.resolve_by_tier.at("community").p90(), 29 * kHour);
  EXPECT_EQ(d.returns, 1u);
  EXPECT_EQ(d.escalations, 1u);
  EXPECT_EQ(d.by_assignee.at("SWJ").returns, 1u);
  EXPECT_EQ(d.by_assignee.at("SWJ").assigned, 1u);
  EXPECT_EQ(d.by_assignee.at("ZJJ").assigned, 1u);
  EXPECT_EQ(d.by_assignee.at("G11W").escalations, 1u);
  EXPECT_EQ(d.by_assignee.at("G11W").assigned, 2u);
  EXPECT_EQ(d.by_assignee.at("C1OFF").assigned, 2u);   // T5 at intake, T2 on escalation

  const std::string csv = render_report_csv(d, {});
  EXPECT_NE(csv.find("\nall,,5,1,2,1,1,0,50.0\n"), std::string::npos) << csv;
  EXPECT_NE(csv.find("# time_to_resolve\ntier,resolved,median_hours,p90_hours\nall,3,10.0,29.0\ngrid,1,10.0,10.0\n"
                     "community,2,1.0,29.0\n"),
            std::string::npos)
      << csv;
  EXPECT_NE(csv.find("\nSWJ,1,1,0\n"), std::string::npos) << csv;
  EXPECT_NE(csv.find("\ngrid,1,20.0,\"resolved, never above grid\"\n"), std::string::npos) << csv;
  const std::string html = render_report_html(d, {});
  EXPECT_NE(html.find("<tr><td>全部</td><td class=\"n\">5</td><td class=\"n\">1</td><td class=\"n\">2</td>"), std::string::npos) << html;
}

TEST_F(LifecycleReportTest, OverdueIsJudgedAsOfTheEndOfThePeriod) {
  ReportOptions o;
  o.until_micros = kMay6 + 40 * kHour;   // T3 is due at h51: open, not yet overdue
  auto r = collect_report(db_, o);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->sla.open_overdue, 0u);
  EXPECT_EQ(r->sla.decided(), 3u);
  o.until_micros = kMay6 + 8 * kHour;   // before T1's and T2's resolution and T2's escalation
  r = collect_report(db_, o);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->resolved, 1u);   // T5
  EXPECT_EQ(r->escalations, 0u);
  EXPECT_EQ(r->sla.on_time, 1u);
  EXPECT_EQ(r->resolve_all.median(), 1 * kHour);
}

TEST(Report, CategoryNamesComeFromTheCountyTable) {
  auto names = load_category_names(std::string(GRIDHUB_SOURCE_DIR) + "/examples/wugong/world/categories.csv");
  ASSERT_TRUE(names.ok()) << names.error().message();
  EXPECT_EQ(names->at("1801"), "供水故障");
  gridhub::testing::TempDir dir;
  EXPECT_FALSE(load_category_names(dir / "missing.csv").ok());
  // The same rules as the hub's: a bad line is named by file:line (column).
  auto bad = load_category_names(dir.write("bad.csv",
                                           "category_code,category_name,initial_tier,county_dept_code,sla_hours_grid,"
                                           "sla_hours_community,sla_hours_county\n0101,a,street,CTY_A,1,2,3\n"));
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().detail.find("bad.csv:2 (initial_tier)"), std::string::npos) << bad.error().detail;
}

}  // namespace
}  // namespace gridhub::audit
