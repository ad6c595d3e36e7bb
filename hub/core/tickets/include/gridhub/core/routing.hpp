#pragma once
/// Bridges the routing pipeline into the hub: the stateless assessment is applied to the new ticket
/// on the io thread; merging happens in log order in the sequencer (IntakeHook).

#include "gridhub/core/lifecycle.hpp"
#include "gridhub/core/sequencer.hpp"
#include "gridhub/log/event_log.hpp"
#include "gridhub/pipeline/pipeline.hpp"
#include "gridhub/v1/log.pb.h"

namespace gridhub::core {

/// Copies the assessment's decisions and routing into the intake record and its ticket.
void apply_assessment(const pipeline::Assessment& a, gridhub::v1::IntakeAccepted& body);

/// Merges in log order, decides each record's disposition and starts a new ticket's history and SLA
/// clock (stamp_assignment; `policy` may be null: then the ticket has no deadline).
class PipelineHook final : public IntakeHook {
 public:
  PipelineHook(pipeline::Pipeline& pipeline, const LifecyclePolicy* policy) : pipeline_(pipeline), policy_(policy) {}
  void complete(log::IntakeItem& item, std::uint64_t seq, const std::string& ticket_id, std::int64_t now_us) noexcept override;

 private:
  pipeline::Pipeline& pipeline_;
  const LifecyclePolicy* policy_;
};

/// Start-up: hands the intake records already in the log to the pipeline's merger, newest first, until
/// it needs no more (Pipeline::recall), so a restart never changes a merge decision. Returns how many
/// records were read.
Result<std::uint64_t> recall_merger(log::LogReader& reader, pipeline::Pipeline& pipeline);

}  // namespace gridhub::core
