// gridhub::audit::state_as_of: what the hub knew at a past moment, from the log alone.
#include "gridhub/audit/state.hpp"

#include <cstdio>
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

/// Joins every report whose key starts with "M:" to the incident T00000001, like a merger would.
class JoinFirstHook final : public core::IntakeHook {
 public:
  void complete(log::IntakeItem& item, std::uint64_t, const std::string&, std::int64_t) noexcept override {
    const auto& key = item.body.event().source_key();
    if (key.rfind("NT:", 0) == 0) item.body.set_disposition(v1::DISPOSITION_NOT_A_TICKET);
    if (key.rfind("M:", 0) == 0) {
      item.body.set_disposition(v1::DISPOSITION_MERGED);
      item.body.mutable_ticket()->set_incident_id("T00000001");
    }
  }
};

class StateTest : public ::testing::Test {
 protected:
  // Day 0: T00000001 created (assigned to grid G1); day 1: a chat "收到" (no ticket); day 2: a second
  // report merged into T00000001; day 3: T00000004 created.
  void SetUp() override {
    auto l = core::open_log(db_, log::LogOptions{}, clock_, &hook_);
    ASSERT_TRUE(l.ok()) << l.error().message();
    for (const char* key : {"WO-1", "NT:chat", "M:WO-2", "WO-3"}) {
      v1::Event ev;
      ev.set_channel(v1::CHANNEL_HOTLINE);
      ev.set_adapter_id("t");
      ev.set_source_key(key);
      ev.mutable_fields()->set_text("路灯不亮");
      ev.mutable_fields()->set_reporter_phone("13800000001");
      log::IntakeItem item;
      *item.body.mutable_event() = ev;
      *item.body.mutable_ticket() = core::ticket_from_event(ev);
      item.body.mutable_ticket()->set_grid_code("G1");
      std::vector<log::AppendItem> items;
      items.push_back(std::move(item));
      std::vector<log::AppendOutcome> out;
      ASSERT_TRUE(l.value()->append(items, out).ok());
      clock_.advance(kDay);
    }
  }

  std::vector<std::string> lines(std::int64_t as_of, const std::vector<std::string>& only, bool show_pii = false) {
    std::FILE* f = std::tmpfile();
    auto n = write_state(db_, as_of, only, show_pii, f);
    EXPECT_TRUE(n.ok()) << n.error().message();
    std::rewind(f);
    std::vector<std::string> out;
    char buf[8192];
    while (std::fgets(buf, sizeof buf, f) != nullptr) out.emplace_back(buf);
    std::fclose(f);
    return out;
  }

  gridhub::testing::TempDir dir_;
  std::filesystem::path db_ = dir_ / "gridhub.db";
  ManualClock clock_{kMay6};
  JoinFirstHook hook_;
};

TEST_F(StateTest, BeforeTheFirstRecordThereAreNoTickets) {
  auto s = state_as_of(db_, kMay6 - 1);
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE(s->empty());
}

TEST_F(StateTest, ARecordCountsFromItsOwnTimeOnAndTheMergeReplacesTheIncidentState) {
  // Exactly at the first record's time: it counts (as-of is inclusive).
  auto at0 = state_as_of(db_, kMay6);
  ASSERT_TRUE(at0.ok());
  ASSERT_EQ(at0->size(), 1u);
  EXPECT_EQ(at0->at(0).ticket_id, "T00000001");
  EXPECT_EQ(at0->at(0).last_seq, 1u);
  EXPECT_EQ(at0->at(0).ticket.provenance_size(), 1);

  // Just before the merge: still one report; just after: two, and the merge did not create a ticket.
  auto before = state_as_of(db_, kMay6 + 2 * kDay - 1);
  ASSERT_TRUE(before.ok());
  ASSERT_EQ(before->size(), 1u);
  EXPECT_EQ(before->at(0).ticket.provenance_size(), 1);
  auto after = state_as_of(db_, kMay6 + 2 * kDay);
  ASSERT_TRUE(after.ok());
  ASSERT_EQ(after->size(), 1u);
  EXPECT_EQ(after->at(0).last_seq, 3u);
  EXPECT_EQ(after->at(0).ticket.provenance_size(), 2);
  EXPECT_EQ(after->at(0).ticket.provenance(1).source_key(), "M:WO-2");

  auto all = state_as_of(db_, kMay6 + 10 * kDay);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ(all->at(1).ticket_id, "T00000004");
}

TEST_F(StateTest, NamedTicketsOnlyAndOneNotYetCreatedPrintsNull) {
  auto out = lines(kMay6 + kDay, {"T00000004", "T00000001"});
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0], "{\"ticket_id\":\"T00000004\",\"as_of\":\"2024-05-07T00:00:00.000000Z\",\"last_seq\":0,\"ticket\":null}\n");
  EXPECT_EQ(out[1].rfind("{\"ticket_id\":\"T00000001\",\"as_of\":\"2024-05-07T00:00:00.000000Z\",\"last_seq\":1,\"ticket\":{", 0), 0u)
      << out[1];
}

TEST_F(StateTest, PersonalDataIsMaskedUnlessAsked) {
  auto masked = lines(kMay6 + 10 * kDay, {});
  ASSERT_EQ(masked.size(), 2u);
  EXPECT_EQ(masked[0].find("13800000001"), std::string::npos) << masked[0];
  EXPECT_NE(masked[0].find("138****0001"), std::string::npos) << masked[0];
  auto shown = lines(kMay6 + 10 * kDay, {}, true);
  EXPECT_NE(shown[0].find("13800000001"), std::string::npos) << shown[0];
}

/// A change to `ticket_id` as the hub's lifecycle writes one: the ticket's whole state after it.
log::ChangeItem change(const std::string& ticket_id, bool escalate, v1::TicketStatus status, const std::string& assignee) {
  log::ChangeItem item;
  item.ticket_id = ticket_id;
  item.apply = [=](const v1::Ticket& current, v1::LogRecord& record, std::string&) {
    v1::Ticket* t = escalate ? record.mutable_escalation()->mutable_ticket() : record.mutable_ticket_update()->mutable_ticket();
    *t = current;
    t->set_status(status);
    t->set_assignee_code(assignee);
    if (!escalate) record.mutable_ticket_update()->set_action(v1::UPDATE_ACTION_RESOLVE);
    return log::Refusal::kNone;
  };
  return item;
}

TEST_F(StateTest, UpdatesAndEscalationsCountFromTheirOwnTimeOnLikeTheProjection) {
  // Day 4: T00000001 escalates to C1; day 5: C1 resolves it.
  {
    auto l = core::open_log(db_, log::LogOptions{}, clock_, &hook_);
    ASSERT_TRUE(l.ok()) << l.error().message();
    for (auto item : {change("T00000001", true, v1::TICKET_STATUS_ASSIGNED, "C1"),
                      change("T00000001", false, v1::TICKET_STATUS_RESOLVED, "C1")}) {
      std::vector<log::AppendItem> items{std::move(item)};
      std::vector<log::AppendOutcome> out;
      ASSERT_TRUE(l.value()->append(items, out).ok());
      ASSERT_EQ(out.at(0).refused, log::Refusal::kNone) << out.at(0).reason;
      clock_.advance(kDay);
    }
  }
  auto before = state_as_of(db_, kMay6 + 4 * kDay - 1, {"T00000001"});
  ASSERT_TRUE(before.ok());
  EXPECT_EQ(before->at(0).last_seq, 3u);
  EXPECT_EQ(before->at(0).ticket.assignee_code(), "");
  auto escalated = state_as_of(db_, kMay6 + 4 * kDay, {"T00000001"});
  ASSERT_TRUE(escalated.ok());
  EXPECT_EQ(escalated->at(0).last_seq, 5u);
  EXPECT_EQ(escalated->at(0).ticket.assignee_code(), "C1");
  EXPECT_EQ(escalated->at(0).ticket.status(), v1::TICKET_STATUS_ASSIGNED);
  auto resolved = state_as_of(db_, kMay6 + 5 * kDay, {"T00000001"});
  ASSERT_TRUE(resolved.ok());
  EXPECT_EQ(resolved->at(0).last_seq, 6u);
  EXPECT_EQ(resolved->at(0).ticket.status(), v1::TICKET_STATUS_RESOLVED);
  // Now is the projection: the same state, byte for byte.
  auto reader = log::LogReader::open(db_);
  ASSERT_TRUE(reader.ok());
  auto projected = reader->ticket("T00000001");
  ASSERT_TRUE(projected.ok());
  EXPECT_EQ(projected->SerializeAsString(), resolved->at(0).ticket.SerializeAsString());
}

TEST(State, AMissingFileIsAnError) {
  gridhub::testing::TempDir dir;
  EXPECT_FALSE(state_as_of(dir / "nope.db", 0).ok());
}

}  // namespace
}  // namespace gridhub::audit
