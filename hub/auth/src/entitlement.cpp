#include "gridhub/auth/entitlement.hpp"

#include <algorithm>

namespace gridhub::auth {

namespace {

bool acts_for(const Identity& id, const std::string& code) {
  return !code.empty() && std::find(id.codes.begin(), id.codes.end(), code) != id.codes.end();
}

// "Assigned to it now or before": the history holds every assignee, but the current one is checked
// too so a ticket whose history was never filled (older records) is not lost to its assignee.
bool ever_assigned(const Identity& id, const gridhub::v1::Ticket& t) {
  if (acts_for(id, t.assignee_code())) return true;
  return std::any_of(t.assignee_history().begin(), t.assignee_history().end(),
                     [&](const std::string& a) { return acts_for(id, a); });
}

}  // namespace

bool entitled(const Identity& id, const gridhub::v1::Ticket& t) {
  if (role_info(id.role).sees_everything) return true;
  switch (id.role) {
    case Role::kDepartment: return ever_assigned(id, t);
    case Role::kCommunity: return acts_for(id, t.community_code()) || ever_assigned(id, t);
    case Role::kGridWorker: return acts_for(id, t.grid_code()) || ever_assigned(id, t);
    case Role::kAdapter: return false;
    case Role::kCenter:
    case Role::kAuditor:
    case Role::kOperator: return true;
  }
  return false;
}

bool entitled_to_non_tickets(const Identity& id) { return role_info(id.role).sees_everything; }

}  // namespace gridhub::auth
