// verify's ticket trail (hub/audit/src/projection_check): the records that created and last changed
// each ticket, and the stale-change check, whatever the ticket ids look like.
#include "../../../hub/audit/src/projection_check.hpp"

#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace gridhub::audit {
namespace {

BodyFields change(std::string_view ticket_id, std::uint64_t prior_seq) {
  BodyFields f;
  f.ticket_id = ticket_id;
  f.prior_seq = prior_seq;
  return f;
}

TEST(TicketTrail, IdsThatSpellTheSameNumberDifferentlyAreDifferentTickets) {
  TicketTrail trail;
  // T00000002 is the hub's spelling for the ticket record 2 made; the others are not, and must not
  // share its state.
  EXPECT_EQ(trail.see(1, change("T2", 0)), "");
  EXPECT_EQ(trail.see(2, change("T00000002", 0)), "");
  EXPECT_EQ(trail.see(3, change("T000000002", 0)), "");
  EXPECT_EQ(trail.see(4, change("T00000002", 2)), "");
  EXPECT_NE(trail.see(5, change("T2", 2)), "") << "T2's previous record is 1";
  EXPECT_EQ(trail.size(), 3u);
  ASSERT_NE(trail.find("T00000002"), nullptr);
  EXPECT_EQ(trail.find("T00000002")->first, 2u);
  EXPECT_EQ(trail.find("T00000002")->last, 4u);
  EXPECT_EQ(trail.find("T2")->first, 1u);
  EXPECT_EQ(trail.find("T2")->last, 5u);
  EXPECT_EQ(trail.find("T000000002")->last, 3u);
  EXPECT_EQ(trail.find("T00000003"), nullptr);
  EXPECT_EQ(trail.find("T00000009"), nullptr);
}

TEST(TicketTrail, AnIdNamedBeforeItsNumbersRecordKeepsOneState) {
  TicketTrail trail;
  // Record 1 names T00000005 (a number beyond it); record 6 changes it as of record 1.
  EXPECT_EQ(trail.see(1, change("T00000005", 0)), "");
  EXPECT_EQ(trail.see(6, change("T00000005", 1)), "");
  EXPECT_NE(trail.see(7, change("T00000005", 1)), "") << "its previous record is now 6";
  EXPECT_EQ(trail.size(), 1u);
  EXPECT_EQ(trail.find("T00000005")->first, 1u);
  EXPECT_EQ(trail.find("T00000005")->last, 7u);
}

TEST(TicketTrail, EveryTicketIsListedOnceWithItsSpan) {
  TicketTrail trail;
  const char* ids[] = {"T00000001", "C-17", "T00000003", "T123456789", "T00000001"};
  for (std::uint64_t seq = 1; seq <= 5; ++seq) trail.see(seq, change(ids[seq - 1], 0));
  trail.see(6, change("T123456789", 0));
  std::map<std::string, TicketTrail::Span> listed;
  trail.for_each([&](std::string_view id, const TicketTrail::Span& span) {
    EXPECT_TRUE(listed.emplace(std::string(id), span).second) << id;
  });
  ASSERT_EQ(listed.size(), 4u);
  EXPECT_EQ(listed.at("T00000001").first, 1u);
  EXPECT_EQ(listed.at("T00000001").last, 5u);
  EXPECT_EQ(listed.at("C-17").first, 2u);
  EXPECT_EQ(listed.at("T00000003").first, 3u);
  EXPECT_EQ(listed.at("T123456789").first, 4u);
  EXPECT_EQ(listed.at("T123456789").last, 6u);
  EXPECT_EQ(trail.size(), 4u);
}

TEST(TicketTrail, ATicketIsCountedInTheProjectionOnceHoweverOftenItsRowIsFound) {
  TicketTrail trail;
  trail.see(1, change("T00000001", 0));
  trail.see(2, change("C-2", 0));
  trail.see(3, change("T00000003", 0));
  // A duplicated row must not stand in for a missing one.
  EXPECT_NE(trail.find_in_projection("T00000001"), nullptr);
  EXPECT_NE(trail.find_in_projection("T00000001"), nullptr);
  EXPECT_NE(trail.find_in_projection("C-2"), nullptr);
  EXPECT_EQ(trail.find_in_projection("T00000002"), nullptr);
  EXPECT_EQ(trail.in_projection(), 2u);
  std::vector<std::string> missing;
  trail.for_each([&](std::string_view id, const TicketTrail::Span& span) {
    if (!span.in_projection) missing.emplace_back(id);
  });
  EXPECT_EQ(missing, std::vector<std::string>{"T00000003"});
}

}  // namespace
}  // namespace gridhub::audit
