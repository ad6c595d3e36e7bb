#include "gridhub/core/routing.hpp"

#include <fmt/format.h>

#include <vector>

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
  for (const auto& s : a.suggestions) *t->add_suggestions() = s;
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

Result<std::uint64_t> recall_merger(log::LogReader& reader, pipeline::Pipeline& pipeline) {
  constexpr std::size_t kChunk = 1024;
  auto head = reader.head_seq();
  if (!head) return head.error();
  std::uint64_t read = 0;
  std::vector<std::pair<std::uint64_t, std::string>> chunk;
  v1::LogRecord rec;
  for (std::uint64_t end = head.value(); end > 0;) {   // (from, end]: one chunk, read forward, handed back newest first
    const std::uint64_t from = end > kChunk ? end - kChunk : 0;
    chunk.clear();
    auto n = reader.read(from + 1, end - from, [&](std::uint64_t seq, std::string_view body) { chunk.emplace_back(seq, body); });
    if (!n) return n.error();
    for (auto it = chunk.rbegin(); it != chunk.rend(); ++it) {
      ++read;
      if (!rec.ParseFromString(it->second)) {
        return Error(Errc::storage_failed, fmt::format("merger recall: log record {} does not parse", it->first));
      }
      if (!rec.has_intake_accepted()) continue;
      if (!pipeline.recall(rec.intake_accepted(), rec.ticket_id())) return read;
    }
    end = from;
  }
  return read;
}

}  // namespace gridhub::core
