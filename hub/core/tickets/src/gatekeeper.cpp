#include "gridhub/core/gatekeeper.hpp"

#include <algorithm>

#include "gridhub/auth/entitlement.hpp"

namespace gridhub::core {

std::shared_ptr<const Principal> SecurityGatekeeper::identify(const transport::RouterMessage& msg,
                                                              std::string_view claimed) const {
  const auth::Identity* id = nullptr;
  if (!security_.curve() && !claimed.empty()) id = security_.claim(claimed);
  if (id == nullptr) id = security_.identify(msg);
  if (id == nullptr) return nullptr;
  auto& p = principals_[id];
  if (!p) {
    const auto& info = auth::role_info(id->role);
    p = std::make_shared<const Principal>(Principal{id->name, std::string(info.name), auth::may_see_pii(*id),
                                                    info.sees_everything, id->role != auth::Role::kAdapter, id});
  }
  return p;
}

bool SecurityGatekeeper::may_see(const Principal& who, const gridhub::v1::Ticket* ticket) const {
  if (who.all) return true;
  const auto* id = static_cast<const auth::Identity*>(who.handle);
  if (id == nullptr) return false;
  return ticket != nullptr ? auth::entitled(*id, *ticket) : auth::entitled_to_non_tickets(*id);
}

bool SecurityGatekeeper::may_update(const Principal& who, const gridhub::v1::Ticket& ticket) const {
  const auto* id = static_cast<const auth::Identity*>(who.handle);
  if (id == nullptr) return false;
  switch (id->role) {
    case auth::Role::kCenter:
    case auth::Role::kOperator:
      return true;
    case auth::Role::kAuditor:
    case auth::Role::kAdapter:
      return false;
    case auth::Role::kGridWorker:
    case auth::Role::kCommunity:
    case auth::Role::kDepartment:
      return std::find(id->codes.begin(), id->codes.end(), ticket.assignee_code()) != id->codes.end();
  }
  return false;
}

}  // namespace gridhub::core
