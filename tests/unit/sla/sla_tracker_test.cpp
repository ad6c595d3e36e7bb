#include "gridhub/sla/sla_tracker.hpp"

#include <gtest/gtest.h>

#include <string>

namespace gridhub::sla {
namespace {

v1::Ticket ticket(const std::string& id, std::int64_t due, std::uint64_t version,
                  v1::TicketStatus status = v1::TICKET_STATUS_ASSIGNED) {
  v1::Ticket t;
  t.set_ticket_id(id);
  if (due != 0) t.mutable_sla_due()->set_unix_micros(due);
  t.set_version(version);
  t.set_status(status);
  return t;
}

TEST(SlaTracker, FiresExactlyAtDueAndOnce) {
  SlaTracker tr;
  tr.observe(ticket("T1", 1000, 5));
  tr.observe(ticket("T2", 900, 6));
  EXPECT_EQ(tr.next_due(), 900);
  EXPECT_TRUE(tr.due_at_or_before(899).empty());
  auto fired = tr.due_at_or_before(900);
  ASSERT_EQ(fired.size(), 1U);
  EXPECT_EQ(fired[0], (DueClock{"T2", 900, 6}));
  EXPECT_EQ(tr.next_due(), 1000);
  EXPECT_TRUE(tr.due_at_or_before(999).empty());
  fired = tr.due_at_or_before(5000);
  ASSERT_EQ(fired.size(), 1U);
  EXPECT_EQ(fired[0].ticket_id, "T1");
  EXPECT_TRUE(tr.due_at_or_before(5000).empty());
  EXPECT_FALSE(tr.next_due().has_value());
  // A repeated snapshot of a version that already fired does not re-arm it.
  tr.observe(ticket("T1", 1000, 5));
  EXPECT_TRUE(tr.due_at_or_before(5000).empty());
}

TEST(SlaTracker, ReturnsBreachesOldestFirst) {
  SlaTracker tr;
  tr.observe(ticket("C", 300, 1));
  tr.observe(ticket("A", 100, 2));
  tr.observe(ticket("B", 200, 3));
  auto fired = tr.due_at_or_before(1000);
  ASSERT_EQ(fired.size(), 3U);
  EXPECT_EQ(fired[0].ticket_id, "A");
  EXPECT_EQ(fired[1].ticket_id, "B");
  EXPECT_EQ(fired[2].ticket_id, "C");
}

TEST(SlaTracker, ASupersededVersionNeverFiresForItsOldDue) {
  SlaTracker tr;
  tr.observe(ticket("T1", 100, 5));
  tr.observe(ticket("T1", 500, 9));   // extended: new version, later due
  EXPECT_TRUE(tr.due_at_or_before(499).empty());
  tr.observe(ticket("T1", 100, 5));   // a stale snapshot arriving late changes nothing
  EXPECT_TRUE(tr.due_at_or_before(499).empty());
  auto fired = tr.due_at_or_before(500);
  ASSERT_EQ(fired.size(), 1U);
  EXPECT_EQ(fired[0], (DueClock{"T1", 500, 9}));
  // After it fired, the escalation (a newer version) arms a fresh clock.
  tr.observe(ticket("T1", 800, 10));
  EXPECT_EQ(tr.next_due(), 800);
}

TEST(SlaTracker, ResolvedAndClosedTicketsStopTheirClockAndAreForgotten) {
  SlaTracker tr;
  tr.observe(ticket("T1", 100, 1));
  tr.observe(ticket("T2", 200, 2, v1::TICKET_STATUS_ACCEPTED));
  tr.observe(ticket("T3", 300, 3, v1::TICKET_STATUS_RETURNED));
  tr.observe(ticket("T4", 400, 4, v1::TICKET_STATUS_NEW));   // not yet assigned: no clock
  tr.observe(ticket("T5", 0, 5));                            // a tier without a clock
  EXPECT_EQ(tr.tracked(), 3U);
  tr.observe(ticket("T1", 100, 7, v1::TICKET_STATUS_RESOLVED));
  tr.observe(ticket("T2", 200, 8, v1::TICKET_STATUS_CLOSED));
  EXPECT_EQ(tr.tracked(), 1U);   // memory follows open tickets
  auto fired = tr.due_at_or_before(1000);
  ASSERT_EQ(fired.size(), 1U);
  EXPECT_EQ(fired[0].ticket_id, "T3");
}

TEST(SlaTracker, CountsRunningAndBreachedClocksByTheTicketsTier) {
  SlaTracker tr;
  auto at = [](v1::Ticket t, v1::Tier tier) {
    t.set_tier(tier);
    return t;
  };
  tr.observe(at(ticket("G1", 100, 1), v1::TIER_GRID));
  tr.observe(at(ticket("G2", 900, 2), v1::TIER_GRID));
  tr.observe(at(ticket("C1", 200, 3), v1::TIER_COMMUNITY));
  tr.observe("K1", v1::TICKET_STATUS_ACCEPTED, 300, 4, v1::TIER_COUNTY);
  ASSERT_EQ(tr.due_at_or_before(250).size(), 2U);
  auto by = tr.by_tier();
  EXPECT_EQ(by[v1::TIER_GRID].running, 1U);
  EXPECT_EQ(by[v1::TIER_GRID].breached, 1U);
  EXPECT_EQ(by[v1::TIER_COMMUNITY].running, 0U);
  EXPECT_EQ(by[v1::TIER_COMMUNITY].breached, 1U);
  EXPECT_EQ(by[v1::TIER_COUNTY].running, 1U);
  // Escalated: a new version at the next tier runs a new clock there.
  tr.observe(at(ticket("G1", 5000, 7), v1::TIER_COMMUNITY));
  by = tr.by_tier();
  EXPECT_EQ(by[v1::TIER_GRID].breached, 0U);
  EXPECT_EQ(by[v1::TIER_COMMUNITY].running, 1U);
  EXPECT_EQ(tr.fired(), 1U);
}

TEST(SlaTracker, RebuildFromTheProjectionRestoresTheClocks) {
  // What a restarted hub does: the projection's tickets re-arm every clock that has not fired.
  std::vector<v1::Ticket> projection = {ticket("T1", 100, 1), ticket("T2", 200, 2, v1::TICKET_STATUS_RESOLVED),
                                        ticket("T3", 50, 3)};
  SlaTracker tr;
  tr.observe(ticket("OLD", 10, 1));
  tr.rebuild(projection);
  EXPECT_EQ(tr.armed(), 2U);
  EXPECT_EQ(tr.next_due(), 50);
  auto fired = tr.due_at_or_before(100);
  ASSERT_EQ(fired.size(), 2U);
  EXPECT_EQ(fired[0].ticket_id, "T3");
  EXPECT_EQ(fired[1].ticket_id, "T1");
}

}  // namespace
}  // namespace gridhub::sla
