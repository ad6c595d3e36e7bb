// The lifecycle rules as the writer applies them: reports back, returns up the tiers, extensions and
// escalations, each decided against the ticket's state in the log, idempotent by key.
#include "gridhub/core/lifecycle.hpp"

#include <gtest/gtest.h>

#include "gridhub/core/sequencer.hpp"
#include "gridhub/log/event_log.hpp"
#include "gridhub/sla/sla_policy.hpp"
#include "../../testing/temp_dir.hpp"

namespace gridhub::core {
namespace {

namespace v1 = gridhub::v1;

constexpr std::int64_t kHour = 3600LL * 1000000;
constexpr std::int64_t kStart = 1'800'000'000LL * 1000000;

/// Wall-clock hours per tier; grid -> community -> county department -> nothing.
class StepPolicy final : public LifecyclePolicy {
 public:
  std::int64_t due(const v1::Ticket&, v1::Tier tier, std::int64_t start) const override {
    switch (tier) {
      case v1::TIER_GRID: return start + 24 * kHour;
      case v1::TIER_COMMUNITY: return start + 48 * kHour;
      case v1::TIER_COUNTY: return start + 72 * kHour;
      default: return 0;
    }
  }
  std::int64_t extend(std::int64_t due, std::uint32_t hours) const override { return due + hours * kHour; }
  std::optional<Assignment> next_tier(const v1::Ticket& t, std::int64_t now) const override {
    if (t.tier() == v1::TIER_GRID) {
      return Assignment{v1::TIER_COMMUNITY, t.community_code(), "step.community", "up", due(t, v1::TIER_COMMUNITY, now)};
    }
    if (t.tier() == v1::TIER_COMMUNITY) return Assignment{v1::TIER_COUNTY, "CTY_SWJ", "step.county", "up", due(t, v1::TIER_COUNTY, now)};
    return std::nullopt;
  }
  const std::string& center_code() const override { return center_; }
  std::uint32_t max_returns() const override { return 3; }

 private:
  std::string center_ = "CTR_12345";
};

/// Whoever is named like the current assignee may report on it.
class ByName final : public Gatekeeper {
 public:
  std::shared_ptr<const Principal> identify(const transport::RouterMessage&, std::string_view) const override { return nullptr; }
  bool may_see(const Principal&, const v1::Ticket*) const override { return true; }
  std::vector<std::string_view> decision_fields() const override { return {}; }
  bool may_update(const Principal& who, const v1::Ticket& t) const override { return who.name == t.assignee_code(); }
};

class LifecycleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto log = core::open_log(dir_ / "log.db", {}, clock_);
    ASSERT_TRUE(log.ok()) << log.error().message();
    log_ = std::move(log.value());
    log::IntakeItem item;
    auto* ev = item.body.mutable_event();
    ev->set_channel(v1::CHANNEL_HOTLINE);
    ev->set_adapter_id("a");
    ev->set_source_key("GD1");
    auto* t = item.body.mutable_ticket();
    t->set_category_code("0102");
    t->set_community_code("610431001001");
    t->set_grid_code("610431001001001");
    t->set_tier(v1::TIER_GRID);
    t->set_assignee_code("610431001001001");
    t->set_status(v1::TICKET_STATUS_ASSIGNED);
    t->mutable_reporter()->set_phone("13800000001");
    stamp_assignment(*t, kStart, &policy_);
    auto o = append(std::move(item));
    ticket_id_ = log::ticket_id_for_seq(o.seq);
  }

  log::AppendOutcome append(log::AppendItem item) {
    std::vector<log::AppendItem> items;
    items.push_back(std::move(item));
    std::vector<log::AppendOutcome> out;
    auto st = log_->append(items, out);
    EXPECT_TRUE(st.ok()) << st.error().message();
    return out.empty() ? log::AppendOutcome{} : out.front();
  }

  log::AppendOutcome report(const std::string& who, v1::UpdateAction action, const std::string& request_id,
                            std::uint32_t hours = 0, bool with_policy = true) {
    v1::UpdateTicket u;
    u.set_request_id(request_id);
    u.set_ticket_id(ticket_id_);
    u.set_action(action);
    u.set_text("because");
    u.set_extend_hours(hours);
    EXPECT_EQ(validate_update(u), "");
    auto p = std::make_shared<const Principal>(Principal{who, "department", true, false, true, nullptr});
    return append(make_update(u, p, gatekeeper_, with_policy ? &policy_ : nullptr));
  }

  /// The rule of the first decision a ticket_update record carries.
  std::string rule_at(std::uint64_t seq) {
    auto reader = log::LogReader::open(dir_ / "log.db");
    EXPECT_TRUE(reader.ok());
    std::string rule;
    EXPECT_TRUE(reader->read(seq, 1, [&](std::uint64_t, std::string_view body) {
      v1::LogRecord r;
      EXPECT_TRUE(r.ParseFromArray(body.data(), static_cast<int>(body.size())));
      if (r.ticket_update().decisions_size() > 0) rule = r.ticket_update().decisions(0).rule();
    }).ok());
    return rule;
  }

  v1::Ticket ticket() {
    auto reader = log::LogReader::open(dir_ / "log.db");
    EXPECT_TRUE(reader.ok());
    return reader->ticket(ticket_id_).value();
  }

  testing::TempDir dir_;
  ManualClock clock_{kStart};
  StepPolicy policy_;
  ByName gatekeeper_;
  std::unique_ptr<core::SequencedLog> log_;
  std::string ticket_id_;
};

TEST_F(LifecycleTest, IntakeStartsTheHistoryAndTheClock) {
  auto t = ticket();
  ASSERT_EQ(t.assignee_history_size(), 1);
  EXPECT_EQ(t.assignee_history(0), "610431001001001");
  EXPECT_EQ(t.assigned_at().unix_micros(), kStart);
  EXPECT_EQ(t.sla_due().unix_micros(), kStart + 24 * kHour);
}

TEST_F(LifecycleTest, OnlyTheAssigneeMayReportAndARepeatWritesNothing) {
  auto refused = report("CTY_CGJ", v1::UPDATE_ACTION_ACCEPT, "r1");
  EXPECT_EQ(refused.refused, log::Refusal::kNotEntitled);
  EXPECT_NE(refused.reason.find("610431001001001"), std::string::npos) << refused.reason;
  auto ok = report("610431001001001", v1::UPDATE_ACTION_ACCEPT, "r1");
  ASSERT_EQ(ok.refused, log::Refusal::kNone) << ok.reason;
  EXPECT_EQ(ticket().status(), v1::TICKET_STATUS_ACCEPTED);
  auto again = report("610431001001001", v1::UPDATE_ACTION_ACCEPT, "r1");
  EXPECT_TRUE(again.duplicate);
  EXPECT_EQ(again.seq, ok.seq);
  EXPECT_EQ(log_->head_seq(), ok.seq);
  // Accepting twice under a new request id is a transition the rules refuse.
  EXPECT_EQ(report("610431001001001", v1::UPDATE_ACTION_ACCEPT, "r2").refused, log::Refusal::kBadTransition);
}

TEST_F(LifecycleTest, ReturnsClimbTheTiersThenGoToTheCentre) {
  clock_.set(kStart + kHour);
  auto r1 = report("610431001001001", v1::UPDATE_ACTION_RETURN, "g");
  ASSERT_EQ(r1.refused, log::Refusal::kNone) << r1.reason;
  auto t = ticket();
  EXPECT_EQ(t.tier(), v1::TIER_COMMUNITY);
  EXPECT_EQ(t.assignee_code(), "610431001001");
  EXPECT_EQ(t.return_count(), 1u);
  EXPECT_EQ(t.sla_due().unix_micros(), kStart + kHour + 48 * kHour);   // the new tier's clock, from now
  ASSERT_EQ(t.assignee_history_size(), 2);
  // The old assignee has no say any more; the new one returns it again.
  EXPECT_EQ(report("610431001001001", v1::UPDATE_ACTION_RETURN, "g2").refused, log::Refusal::kNotEntitled);
  ASSERT_EQ(report("610431001001", v1::UPDATE_ACTION_RETURN, "c").refused, log::Refusal::kNone);
  EXPECT_EQ(ticket().assignee_code(), "CTY_SWJ");
  ASSERT_EQ(report("CTY_SWJ", v1::UPDATE_ACTION_RETURN, "d").refused, log::Refusal::kNone);
  t = ticket();
  EXPECT_EQ(t.tier(), v1::TIER_CENTER);
  EXPECT_EQ(t.assignee_code(), "CTR_12345");
  EXPECT_EQ(t.status(), v1::TICKET_STATUS_RETURNED);
  EXPECT_FALSE(t.has_sla_due());
  EXPECT_EQ(t.assignee_history_size(), 4);
}

TEST_F(LifecycleTest, WithoutAPolicyTheReturnLimitIsTheDocumentedDefaultOfThree) {
  // One return under the policy (grid -> community); then a hub without [sla] takes the second:
  // no tier above, and two returns are below the default limit (sla.max_returns, 3), so the rule is
  // "no higher tier", not "returns exhausted".
  ASSERT_EQ(report("610431001001001", v1::UPDATE_ACTION_RETURN, "g").refused, log::Refusal::kNone);
  auto second = report("610431001001", v1::UPDATE_ACTION_RETURN, "c", 0, false);
  ASSERT_EQ(second.refused, log::Refusal::kNone) << second.reason;
  EXPECT_EQ(ticket().return_count(), 2u);
  EXPECT_EQ(ticket().assignee_code(), "CTR_12345");
  EXPECT_EQ(rule_at(second.seq), "returned_no_higher_tier");
}

TEST_F(LifecycleTest, ExtendMovesTheDeadlineAndResolveStopsIt) {
  ASSERT_EQ(report("610431001001001", v1::UPDATE_ACTION_EXTEND, "e", 8).refused, log::Refusal::kNone);
  EXPECT_EQ(ticket().sla_due().unix_micros(), kStart + 32 * kHour);
  ASSERT_EQ(report("610431001001001", v1::UPDATE_ACTION_RESOLVE, "done").refused, log::Refusal::kNone);
  auto t = ticket();
  EXPECT_EQ(t.status(), v1::TICKET_STATUS_RESOLVED);
  EXPECT_EQ(t.resolution(), "because");
  EXPECT_FALSE(t.has_sla_due());
  EXPECT_EQ(report("610431001001001", v1::UPDATE_ACTION_RESOLVE, "again").refused, log::Refusal::kBadTransition);
  EXPECT_EQ(report("610431001001001", v1::UPDATE_ACTION_EXTEND, "late", 8).refused, log::Refusal::kBadTransition);
}

TEST_F(LifecycleTest, AnEscalationFiresOncePerDeadlineAndNotForAnOldOne) {
  const std::int64_t due = kStart + 24 * kHour;
  clock_.set(due + 1);
  auto e = append(make_escalation(ticket_id_, due, policy_));
  ASSERT_EQ(e.refused, log::Refusal::kNone) << e.reason;
  auto t = ticket();
  EXPECT_EQ(t.tier(), v1::TIER_COMMUNITY);
  EXPECT_EQ(t.escalation_count(), 1u);
  EXPECT_EQ(t.sla_due().unix_micros(), due + 1 + 48 * kHour);
  EXPECT_EQ(e.ticket.sla_due, t.sla_due().unix_micros());   // what the SLA watcher learns after the commit
  // Noticed again (a restart): the same deadline writes nothing.
  EXPECT_TRUE(append(make_escalation(ticket_id_, due, policy_)).duplicate);
  // A breach computed from a deadline the ticket no longer has is stale.
  EXPECT_EQ(append(make_escalation(ticket_id_, due + 5, policy_)).refused, log::Refusal::kBadTransition);
}

TEST_F(LifecycleTest, BadReportsNameTheField) {
  v1::UpdateTicket u;
  u.set_ticket_id(ticket_id_);
  u.set_action(v1::UPDATE_ACTION_NOTE);
  EXPECT_NE(validate_update(u).find("request_id"), std::string::npos);
  u.set_request_id("x");
  EXPECT_NE(validate_update(u).find("update.text"), std::string::npos);
  u.set_action(v1::UPDATE_ACTION_EXTEND);
  u.set_text("more");
  EXPECT_NE(validate_update(u).find("extend_hours"), std::string::npos);
}

}  // namespace
}  // namespace gridhub::core
