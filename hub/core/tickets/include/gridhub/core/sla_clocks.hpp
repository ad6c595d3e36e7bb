#pragma once
/// SLA clocks in the hub: the county's working-hours calendar and per-category hours as the lifecycle's
/// policy, and the watcher that escalates tickets whose clock ran out.
///
/// Config keys ([sla], see gridhub/sla/sla_policy.hpp): calendar, categories, max_returns, center_code.
/// Without [sla] nothing escalates, tickets have no deadline, and returns go straight to the centre after
/// sla::kDefaultMaxReturns.

#include <span>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <cstdint>
#include <vector>

#include "gridhub/common/clock.hpp"
#include "gridhub/core/lifecycle.hpp"
#include "gridhub/core/log_writer.hpp"
#include "gridhub/sla/escalation.hpp"
#include "gridhub/sla/sla_policy.hpp"
#include "gridhub/sla/sla_tracker.hpp"
#include "gridhub/sla/work_calendar.hpp"

namespace gridhub::core {

class SlaLifecyclePolicy final : public LifecyclePolicy {
 public:
  SlaLifecyclePolicy(sla::WorkCalendar calendar, sla::SlaPolicy policy)
      : calendar_(std::move(calendar)), policy_(std::move(policy)) {}
  /// Loads both files; throws config::ConfigError naming file:line.
  static std::unique_ptr<SlaLifecyclePolicy> load(const sla::SlaSettings& settings);

  std::int64_t due(const gridhub::v1::Ticket& ticket, gridhub::v1::Tier tier, std::int64_t start_us) const override;
  std::int64_t extend(std::int64_t due_us, std::uint32_t hours) const override;
  std::optional<Assignment> next_tier(const gridhub::v1::Ticket& ticket, std::int64_t now_us) const override;
  const std::string& center_code() const override { return policy_.center_code(); }
  std::uint32_t max_returns() const override { return static_cast<std::uint32_t>(policy_.max_returns()); }

 private:
  sla::WorkCalendar calendar_;
  sla::SlaPolicy policy_;
};

struct SlaCounters {
  std::uint64_t escalations = 0;     // breaches written to the log
  std::uint64_t stale = 0;           // clocks that ran out but the ticket had moved on by its turn in the log
  std::uint64_t write_failures = 0;
};

/// Keeps one clock per open ticket (rebuilt from the projection at start, then fed by every commit) and
/// writes an escalation when one runs out. Time comes from the injected Clock; check() can be called by
/// tests after moving a fake clock.
class SlaWatcher {
 public:
  SlaWatcher(boost::asio::io_context& io, const Clock& clock, const LifecyclePolicy& policy, WriteFn write);

  /// Start-up: the clocks of every ticket in the projection; then arms the timer.
  Status start(log::LogReader& reader);
  void stop();
  /// The writer committed these records (io thread).
  void observe(std::span<const log::AppendOutcome> outcomes);
  /// Escalates whatever ran out by now; re-arms the timer.
  void check();

  const SlaCounters& counters() const { return counters_; }
  std::size_t running() const { return tracker_.armed(); }
  /// Clocks that ran out and whose ticket has not changed since (escalated tickets start a new clock).
  std::size_t breached() const { return tracker_.fired(); }
  /// Running and breached clocks by their ticket's tier (metrics; io thread).
  std::map<gridhub::v1::Tier, sla::SlaTracker::TierClocks> by_tier() const { return tracker_.by_tier(); }

 private:
  void arm();

  boost::asio::io_context& io_;
  const Clock& clock_;
  const LifecyclePolicy& policy_;
  WriteFn write_;
  sla::SlaTracker tracker_;
  boost::asio::steady_timer timer_;
  bool stopped_ = false;
  SlaCounters counters_;
};

}  // namespace gridhub::core
