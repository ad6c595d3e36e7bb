#pragma once
/// Bridges the routing pipeline into the hub: the stateless assessment is applied to the new ticket
/// on the io thread; merging happens in log order inside the writer (IntakeHook).

#include "gridhub/log/event_log.hpp"
#include "gridhub/pipeline/pipeline.hpp"
#include "gridhub/v1/log.pb.h"

namespace gridhub::core {

/// Copies the assessment's decisions and routing into the intake record and its ticket.
void apply_assessment(const pipeline::Assessment& a, gridhub::v1::IntakeAccepted& body);

/// Merges in log order and decides each record's disposition.
class PipelineHook final : public log::IntakeHook {
 public:
  explicit PipelineHook(pipeline::Pipeline& pipeline) : pipeline_(pipeline) {}
  void complete(log::IntakeItem& item, std::uint64_t seq, const std::string& ticket_id) noexcept override;

 private:
  pipeline::Pipeline& pipeline_;
};

}  // namespace gridhub::core
