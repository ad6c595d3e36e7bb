#include "gridhub/core/routing.hpp"

namespace gridhub::core {

namespace v1 = gridhub::v1;

namespace {

v1::Tier tier_of(const std::string& t) {
  if (t == "grid") return v1::TIER_GRID;
  if (t == "community") return v1::TIER_COMMUNITY;
  if (t == "county") return v1::TIER_COUNTY;
  if (t == "center") return v1::TIER_CENTER;
  return v1::TIER_UNSPECIFIED;
}

}  // namespace

void apply_assessment(const pipeline::Assessment& a, v1::IntakeAccepted& body) {
  for (const auto& d : a.decisions) *body.add_decisions() = d;
  auto* t = body.mutable_ticket();
  t->set_category_code(a.classification.category_code);
  t->set_community_code(a.resolution.community_code);
  t->set_grid_code(a.resolution.grid_code);
  t->mutable_location()->set_out_of_area(a.resolution.out_of_area);
  if (!a.resolution.compound.empty()) t->mutable_location()->set_compound(a.resolution.compound);
  if (!a.resolution.building.empty()) t->mutable_location()->set_building(a.resolution.building);
  t->set_tier(tier_of(a.routing.tier));
  t->set_assignee_code(a.routing.assignee_code);
  if (a.routing.sla_due_us > 0) t->mutable_sla_due()->set_unix_micros(a.routing.sla_due_us);
  if (!a.routing.assignee_code.empty()) t->set_status(v1::TICKET_STATUS_ASSIGNED);
}

void PipelineHook::complete(log::IntakeItem& item, std::uint64_t /*seq*/, const std::string& ticket_id,
                            std::int64_t now_us) noexcept {
  auto* a = static_cast<pipeline::Assessment*>(item.hook_state.get());
  if (a == nullptr) return;
  if (!a->classification.is_ticket) {
    item.body.set_disposition(v1::DISPOSITION_NOT_A_TICKET);
    return;
  }
  const std::size_t before = a->decisions.size();
  auto r = pipeline_.merge(*a, ticket_id);
  for (std::size_t i = before; i < a->decisions.size(); ++i) *item.body.add_decisions() = a->decisions[i];
  item.body.mutable_ticket()->set_incident_id(r.incident_id.empty() ? ticket_id : r.incident_id);
  if (r.merged) {
    item.body.set_disposition(v1::DISPOSITION_MERGED);
    return;
  }
  stamp_assignment(*item.body.mutable_ticket(), now_us, policy_);
}

}  // namespace gridhub::core
