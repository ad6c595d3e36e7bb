#include "gridhub/auth/entitlement.hpp"

#include <random>

#include <gtest/gtest.h>

namespace gridhub::auth {
namespace {

namespace v1 = gridhub::v1;

v1::Ticket ticket(const std::string& assignee, const std::string& community, const std::string& grid,
                  std::vector<std::string> history = {}) {
  v1::Ticket t;
  t.set_ticket_id("T1");
  t.set_assignee_code(assignee);
  t.set_community_code(community);
  t.set_grid_code(grid);
  for (auto& h : history) t.add_assignee_history(h);
  return t;
}

Identity who(Role role, std::vector<std::string> codes) {
  Identity id;
  id.name = "x";
  id.role = role;
  id.codes = std::move(codes);
  id.pii = role_info(role).default_pii;
  return id;
}

TEST(Entitlement, DepartmentSeesTicketsAssignedToItNowOrBefore) {
  const auto cgj = who(Role::kDepartment, {"CTY_CGJ"});
  EXPECT_TRUE(entitled(cgj, ticket("CTY_CGJ", "C1", "G1", {"CTY_CGJ"})));
  EXPECT_TRUE(entitled(cgj, ticket("CTY_ZJJ", "C1", "G1", {"CTY_CGJ", "CTY_ZJJ"}))) << "re-assigned away: still its";
  EXPECT_TRUE(entitled(cgj, ticket("CTY_CGJ", "C1", "G1"))) << "current assignee without history";
  EXPECT_FALSE(entitled(cgj, ticket("CTY_ZJJ", "C1", "G1", {"CTY_ZJJ"})));
  EXPECT_FALSE(entitled(cgj, ticket("", "CTY_CGJ", "CTY_CGJ"))) << "a department is not a place";
  EXPECT_FALSE(entitled(who(Role::kDepartment, {}), ticket("", "", ""))) << "no codes, no tickets";
}

TEST(Entitlement, CommunityAndGridSeeTheirPlacesAndTheirAssignments) {
  const auto community = who(Role::kCommunity, {"C1"});
  EXPECT_TRUE(entitled(community, ticket("CTY_CGJ", "C1", "G9")));
  EXPECT_TRUE(entitled(community, ticket("CTY_CGJ", "C2", "G9", {"C1", "CTY_CGJ"})));
  EXPECT_FALSE(entitled(community, ticket("CTY_CGJ", "C2", "C1")));
  const auto grid = who(Role::kGridWorker, {"G1"});
  EXPECT_TRUE(entitled(grid, ticket("", "C1", "G1")));
  EXPECT_TRUE(entitled(grid, ticket("G1", "C2", "G2")));
  EXPECT_FALSE(entitled(grid, ticket("C1", "G1", "G2")));
}

TEST(Entitlement, FullRolesSeeEverythingAdaptersNothing) {
  for (Role r : {Role::kAuditor, Role::kCenter, Role::kOperator}) {
    EXPECT_TRUE(entitled(who(r, {}), ticket("A", "B", "C"))) << role_name(r);
    EXPECT_TRUE(entitled_to_non_tickets(who(r, {}))) << role_name(r);
  }
  for (Role r : {Role::kAdapter, Role::kDepartment, Role::kCommunity, Role::kGridWorker}) {
    EXPECT_FALSE(entitled_to_non_tickets(who(r, {"A"}))) << role_name(r);
  }
  EXPECT_FALSE(entitled(who(Role::kAdapter, {"A"}), ticket("A", "A", "A")));
}

TEST(Entitlement, PiiAndControlByRole) {
  EXPECT_TRUE(may_see_pii(who(Role::kCenter, {})));
  EXPECT_TRUE(may_see_pii(who(Role::kGridWorker, {})));
  EXPECT_FALSE(may_see_pii(who(Role::kAuditor, {})));
  EXPECT_FALSE(may_see_pii(who(Role::kAdapter, {})));
  EXPECT_TRUE(may_submit(who(Role::kAdapter, {})));
  EXPECT_FALSE(may_submit(who(Role::kOperator, {})));
  EXPECT_TRUE(may_control(who(Role::kOperator, {})));
  EXPECT_FALSE(may_control(who(Role::kAdapter, {})));
  EXPECT_FALSE(may_control(who(Role::kAuditor, {})));
  EXPECT_TRUE(may_control(local_operator())) << "security off: the machine is trusted";
  EXPECT_TRUE(may_see_pii(local_operator()));
}

// Property: over random tickets and departments, a department never receives a ticket that was
// not (ever) assigned to one of its codes — whatever the ticket's places say.
TEST(Entitlement, DepartmentNeverGetsATicketNeverAssignedToIt) {
  std::mt19937 rng(20261127);
  const std::vector<std::string> pool = {"CTY_CGJ", "CTY_ZJJ", "CTY_SWJ", "C1", "C2", "G1", "G2", "", "CTY_CGJ2"};
  auto pick = [&] { return pool[std::uniform_int_distribution<std::size_t>(0, pool.size() - 1)(rng)]; };
  std::size_t granted = 0;
  for (int i = 0; i < 20000; ++i) {
    std::vector<std::string> history;
    const auto n = std::uniform_int_distribution<int>(0, 4)(rng);
    for (int h = 0; h < n; ++h) history.push_back(pick());
    const auto t = ticket(pick(), pick(), pick(), history);
    std::vector<std::string> codes;
    const auto c = std::uniform_int_distribution<int>(0, 2)(rng);
    for (int k = 0; k < c; ++k) codes.push_back(pick());
    const auto dept = who(Role::kDepartment, codes);
    bool ever = false;
    for (const auto& code : codes) {
      if (code.empty()) continue;
      ever = ever || t.assignee_code() == code;
      for (const auto& h : t.assignee_history()) ever = ever || h == code;
    }
    ASSERT_EQ(entitled(dept, t), ever) << "ticket " << t.ShortDebugString() << " codes " << ::testing::PrintToString(codes);
    granted += ever ? 1 : 0;
  }
  EXPECT_GT(granted, 1000u) << "the generator must exercise both outcomes";
  EXPECT_LT(granted, 19000u);
}

// The stream parses only kEntitlementFields of each record's ticket: entitled() must decide the same
// on a ticket holding those fields alone, for every role.
TEST(Entitlement, DecidesOnTheFieldsItDeclaresAlone) {
  std::mt19937 rng(7);
  const std::vector<std::string> pool = {"CTY_CGJ", "C1", "C2", "G1", "G2", ""};
  auto pick = [&] { return pool[std::uniform_int_distribution<std::size_t>(0, pool.size() - 1)(rng)]; };
  for (int i = 0; i < 5000; ++i) {
    auto full = ticket(pick(), pick(), pick(), {pick(), pick()});
    full.set_category_code(pick());
    full.set_incident_id(pick());
    full.mutable_reporter()->set_name(pick());
    full.set_text(pick());
    v1::Ticket alone;
    for (const auto name : kEntitlementFields) {
      const auto* f = v1::Ticket::descriptor()->FindFieldByName(std::string(name));
      ASSERT_NE(f, nullptr) << name;
      v1::Ticket only_f;
      only_f.CopyFrom(full);
      std::vector<const google::protobuf::FieldDescriptor*> set;
      only_f.GetReflection()->ListFields(only_f, &set);
      for (const auto* other : set) {
        if (other != f) only_f.GetReflection()->ClearField(&only_f, other);
      }
      alone.MergeFrom(only_f);
    }
    for (Role r : {Role::kDepartment, Role::kCommunity, Role::kGridWorker, Role::kAuditor, Role::kCenter, Role::kOperator,
                   Role::kAdapter}) {
      const auto id = who(r, {pick(), pick()});
      ASSERT_EQ(entitled(id, alone), entitled(id, full)) << role_name(r) << " " << full.ShortDebugString();
    }
  }
}

}  // namespace
}  // namespace gridhub::auth
