#include "gridhub/core/sla_clocks.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>

namespace gridhub::core {

namespace v1 = gridhub::v1;

namespace {

// The timer is a hint: it wakes at the next deadline, or at this interval whatever happens, so a clock
// that jumped (or a fake one in tests) is caught up with soon.
constexpr std::int64_t kMaxWaitMicros = 60 * 1000000LL;

}  // namespace

std::unique_ptr<SlaLifecyclePolicy> SlaLifecyclePolicy::load(const sla::SlaSettings& settings) {
  return std::make_unique<SlaLifecyclePolicy>(sla::WorkCalendar::load_file(settings.calendar), sla::SlaPolicy::load(settings));
}

std::int64_t SlaLifecyclePolicy::due(const v1::Ticket& ticket, v1::Tier tier, std::int64_t start_us) const {
  return policy_.due(calendar_, ticket.category_code(), tier, start_us).value_or(0);
}

std::int64_t SlaLifecyclePolicy::extend(std::int64_t due_us, std::uint32_t hours) const {
  const std::int64_t due = calendar_.add_working_hours(due_us, hours);
  return due == sla::kNever ? due_us : due;
}

std::optional<Assignment> SlaLifecyclePolicy::next_tier(const v1::Ticket& ticket, std::int64_t now_us) const {
  auto plan = sla::plan_escalation(ticket, now_us, calendar_, policy_);
  if (!plan.escalate) return std::nullopt;
  return Assignment{plan.to_tier, plan.to_assignee, plan.rule, plan.detail, plan.new_due.value_or(0)};
}

SlaWatcher::SlaWatcher(boost::asio::io_context& io, const Clock& clock, const LifecyclePolicy& policy, WriteFn write)
    : io_(io), clock_(clock), policy_(policy), write_(std::move(write)), timer_(io) {}

Status SlaWatcher::start(log::LogReader& reader) {
  auto st = reader.for_each_ticket([this](const v1::Ticket& t) { tracker_.observe(t); });
  if (!st) return st;
  spdlog::info("sla: {} running clocks", tracker_.armed());
  check();
  return Ok{};
}

void SlaWatcher::stop() {
  stopped_ = true;
  timer_.cancel();
}

void SlaWatcher::observe(std::span<const log::AppendOutcome> outcomes) {
  bool earlier = false;
  const auto before = tracker_.next_due();
  for (const auto& o : outcomes) {
    if (o.duplicate) continue;
    for (const log::TicketState* t : {&o.ticket, &o.follow_up}) {   // follow_up: a hotspot's incident ticket
      if (!t->ticket_id.empty()) {
        tracker_.observe(t->ticket_id, static_cast<v1::TicketStatus>(t->status), t->sla_due, t->version,
                         static_cast<v1::Tier>(t->tier));
      }
    }
  }
  const auto after = tracker_.next_due();
  earlier = after && (!before || *after < *before);
  if (earlier) arm();
}

void SlaWatcher::check() {
  if (stopped_) return;
  const std::int64_t now = clock_.now_micros();
  for (auto& clock : tracker_.due_at_or_before(now)) {
    spdlog::info("sla: {} ran out of time (due {} us, version {}): escalating", clock.ticket_id, clock.due, clock.version);
    write_(make_escalation(clock.ticket_id, clock.due, policy_),
           [this, id = clock.ticket_id](const Status& st, const log::AppendOutcome& o) {
             if (!st.ok()) {
               ++counters_.write_failures;
               spdlog::error("sla: escalating {} failed (retried at the next check): {}", id, st.error().message());
               return;
             }
             if (o.refused != log::Refusal::kNone || o.duplicate) {
               ++counters_.stale;
               spdlog::info("sla: {} not escalated: {}", id, o.duplicate ? "already escalated for this deadline" : o.reason);
               return;
             }
             ++counters_.escalations;
           });
  }
  arm();
}

void SlaWatcher::arm() {
  if (stopped_) return;
  std::int64_t wait = kMaxWaitMicros;
  if (auto next = tracker_.next_due()) wait = std::clamp<std::int64_t>(*next - clock_.now_micros(), 0, kMaxWaitMicros);
  timer_.expires_after(std::chrono::microseconds(wait));
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) check();
  });
}

}  // namespace gridhub::core
