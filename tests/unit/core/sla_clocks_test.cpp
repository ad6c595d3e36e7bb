// Due times in the hub: one source (SlaPolicy::due on the working calendar), taken at the moment the
// hub's injected clock stamps on the record — at intake, on a return and on an escalation — and the
// decision's words name the same deadline the stored ticket carries.
#include "gridhub/core/sla_clocks.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>

#include "gridhub/core/lifecycle.hpp"
#include "gridhub/core/routing.hpp"
#include "gridhub/core/sequencer.hpp"
#include "gridhub/log/event_log.hpp"
#include "gridhub/plugins/router_tiered.hpp"
#include "../../testing/temp_dir.hpp"

namespace gridhub::core {
namespace {

namespace v1 = gridhub::v1;
using ::testing::HasSubstr;

const std::string kCategories = std::string(GRIDHUB_SOURCE_DIR) + "/examples/wugong/world/categories.csv";

std::int64_t local(int y, unsigned mo, unsigned d, int h, int mi) {
  using namespace std::chrono;
  const auto t = sys_days{year{y} / month{mo} / day{d}} + hours{h} + minutes{mi} - hours{8};
  return duration_cast<microseconds>(t.time_since_epoch()).count();
}

class AllowAll final : public Gatekeeper {
 public:
  std::shared_ptr<const Principal> identify(const transport::RouterMessage&, std::string_view) const override { return nullptr; }
  bool may_see(const Principal&, const v1::Ticket*) const override { return true; }
  std::vector<std::string_view> decision_fields() const override { return {}; }
  bool may_update(const Principal&, const v1::Ticket&) const override { return true; }
};

class SlaDueTimes : public ::testing::Test {
 protected:
  void SetUp() override {
    calendar_ = sla::WorkCalendar::load_file(dir_.write("cal.toml", "periods = [\"08:30-12:00\", \"14:00-17:30\"]\n"));
    policy_ = std::make_unique<SlaLifecyclePolicy>(calendar_, sla::SlaPolicy::load(kCategories));
    auto log = core::open_log(dir_ / "log.db", {}, clock_);
    ASSERT_TRUE(log.ok()) << log.error().message();
    log_ = std::move(log.value());
  }

  /// A report of category 0201 (grid 24 h, community 48 h, county 72 h) routed by the real tiered
  /// router, as the hub's writer gets it: the routing applied, then the assignment stamped.
  log::IntakeItem routed(std::int64_t reported_at, const LifecyclePolicy* policy) {
    auto cats = plugins::load_categories(kCategories);
    EXPECT_TRUE(cats.ok());
    plugins::TieredRouter router(std::move(cats.value()), "CTR_12345", "test");
    pipeline::Assessment a;
    a.resolution.community_code = "610431001003";
    a.resolution.grid_code = "610431001003002";
    a.classification.is_ticket = true;
    a.classification.category_code = "0201";
    plugin::Record rec;
    rec.reported_at_us = reported_at;
    a.routing = router.route(rec, a.resolution, a.classification);
    log::IntakeItem item;
    auto* ev = item.body.mutable_event();
    ev->set_channel(v1::CHANNEL_HOTLINE);
    ev->set_adapter_id("a");
    ev->set_source_key("GD1");
    apply_assessment(a, item.body);
    stamp_assignment(*item.body.mutable_ticket(), clock_.now_micros(), policy);
    return item;
  }
  std::string intake(std::int64_t reported_at) {
    return log::ticket_id_for_seq(append(routed(reported_at, policy_.get())).seq);
  }

  log::AppendOutcome append(log::AppendItem item) {
    std::vector<log::AppendItem> items;
    items.push_back(std::move(item));
    std::vector<log::AppendOutcome> out;
    auto st = log_->append(items, out);
    EXPECT_TRUE(st.ok()) << st.error().message();
    return out.empty() ? log::AppendOutcome{} : out.front();
  }

  v1::Ticket ticket(const std::string& id) {
    auto reader = log::LogReader::open(dir_ / "log.db");
    EXPECT_TRUE(reader.ok());
    return reader->ticket(id).value();
  }

  std::string escalation_detail(std::uint64_t seq) {
    auto reader = log::LogReader::open(dir_ / "log.db");
    EXPECT_TRUE(reader.ok());
    std::string detail;
    EXPECT_TRUE(reader->read(seq, 1, [&](std::uint64_t, std::string_view body) {
      v1::LogRecord r;
      EXPECT_TRUE(r.ParseFromArray(body.data(), static_cast<int>(body.size())));
      detail = r.escalation().decision().detail();
    }).ok());
    return detail;
  }

  testing::TempDir dir_;
  // Tuesday 2030-01-08 09:00 local: reported the evening before, stored by the hub this morning.
  ManualClock clock_{local(2030, 1, 8, 9, 0)};
  sla::WorkCalendar calendar_;
  std::unique_ptr<SlaLifecyclePolicy> policy_;
  std::unique_ptr<core::SequencedLog> log_;
};

TEST_F(SlaDueTimes, IntakeDeadlineIsTheWorkingCalendarsFromTheStoringMoment) {
  const std::string id = intake(local(2030, 1, 7, 20, 0));
  const auto t = ticket(id);
  ASSERT_EQ(t.tier(), v1::TIER_GRID);
  // 24 working hours from the moment the hub stored it (Tue 6.5, Wed 7, Thu 7, Fri 3.5): Friday 12:00.
  EXPECT_EQ(t.sla_due().unix_micros(), local(2030, 1, 11, 12, 0));
  EXPECT_EQ(t.sla_due().unix_micros(), calendar_.add_working_hours(local(2030, 1, 8, 9, 0), 24));
  EXPECT_EQ(t.sla_due().unix_micros(), policy_->due(t, v1::TIER_GRID, local(2030, 1, 8, 9, 0)));
  // Not the wall-clock 24 h after the report that the router used to compute.
  EXPECT_NE(t.sla_due().unix_micros(), local(2030, 1, 8, 20, 0));
}

TEST_F(SlaDueTimes, WithoutAPolicyTheRouterSetsNoDeadline) {
  // No [sla]: nothing computes a deadline (the router's wall-clock one used to stand here).
  const auto item = routed(local(2030, 1, 7, 20, 0), nullptr);
  EXPECT_EQ(item.body.ticket().tier(), v1::TIER_GRID);
  EXPECT_FALSE(item.body.ticket().has_sla_due());
  EXPECT_EQ(item.body.ticket().assigned_at().unix_micros(), clock_.now_micros());
}

TEST_F(SlaDueTimes, AnEscalationsDecisionNamesTheDeadlineTheTicketCarries) {
  const std::string id = intake(local(2030, 1, 7, 20, 0));
  const auto before = ticket(id);
  const std::int64_t missed = before.sla_due().unix_micros();
  // The hub notices the breach a little late: the community's clock starts when it does, not at 0
  // and not at the missed deadline.
  const std::int64_t now = missed + 90 * 60'000'000LL;
  clock_.set(now);
  auto e = append(make_escalation(id, missed, *policy_));
  ASSERT_EQ(e.refused, log::Refusal::kNone) << e.reason;
  const auto after = ticket(id);
  EXPECT_EQ(after.tier(), v1::TIER_COMMUNITY);
  const auto plan = sla::plan_escalation(before, now, calendar_, sla::SlaPolicy::load(kCategories));
  ASSERT_TRUE(plan.new_due.has_value());
  EXPECT_EQ(after.sla_due().unix_micros(), *plan.new_due);
  EXPECT_EQ(after.sla_due().unix_micros(), calendar_.add_working_hours(now, 48));
  // The words logged with the decision give the same instant, in the county's local time.
  const auto due_local = std::chrono::sys_time<std::chrono::microseconds>(
                             std::chrono::microseconds(after.sla_due().unix_micros())) + std::chrono::hours(8);
  const auto day = std::chrono::floor<std::chrono::days>(due_local);
  const std::chrono::year_month_day ymd(day);
  const std::chrono::hh_mm_ss hms(std::chrono::floor<std::chrono::minutes>(due_local - day));
  char want[64];
  std::snprintf(want, sizeof want, "due %04d-%02u-%02u %02d:%02d +08:00", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()));
  EXPECT_THAT(escalation_detail(e.seq), HasSubstr(want));
  EXPECT_THAT(plan.detail, HasSubstr(want));
}

TEST_F(SlaDueTimes, AReturnStartsTheNextTiersClockAtTheReturn) {
  const std::string id = intake(local(2030, 1, 7, 20, 0));
  const std::int64_t now = local(2030, 1, 9, 16, 0);
  clock_.set(now);
  v1::UpdateTicket u;
  u.set_request_id("r1");
  u.set_ticket_id(id);
  u.set_action(v1::UPDATE_ACTION_RETURN);
  u.set_text("not ours");
  AllowAll gate;
  auto who = std::make_shared<const Principal>(Principal{"610431001003002", "department", true, false, true, nullptr});
  auto o = append(make_update(u, who, gate, policy_.get()));
  ASSERT_EQ(o.refused, log::Refusal::kNone) << o.reason;
  const auto t = ticket(id);
  EXPECT_EQ(t.tier(), v1::TIER_COMMUNITY);
  EXPECT_EQ(t.sla_due().unix_micros(), calendar_.add_working_hours(now, 48));
}

}  // namespace
}  // namespace gridhub::core
