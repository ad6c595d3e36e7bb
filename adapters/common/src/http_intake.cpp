#include "gridhub/adapter/http_intake.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <filesystem>
#include <memory>

#include "gridhub/adapter/hub_delivery.hpp"

namespace gridhub::adapter {

HttpIntake::HttpIntake(boost::asio::io_context& io, Outbox& outbox, const Clock& clock, AdapterCounters& counters,
                       IntakeOptions options, HubDelivery* delivery)
    : io_(io),
      outbox_(outbox),
      clock_(clock),
      counters_(counters),
      options_(std::move(options)),
      delivery_(delivery),
      overflowed_(counters.metrics.counter("gridhub_adapter_overflow_total",
                                           "events accepted beyond adapter.max_pending because their sender cannot retry")) {
  counters_.metrics.gauge_fn("gridhub_adapter_outbox_pending", "events in the outbox not yet acknowledged by the hub",
                             [&outbox] {
                               auto n = outbox.pending_count();
                               return n ? static_cast<double>(n.value()) : -1.0;
                             });
}

void HttpIntake::submit(gridhub::v1::Event event, std::function<void(IntakeResult)> done) {
  event.set_adapter_id(options_.adapter_id);
  event.mutable_received_at()->set_unix_micros(clock_.now_micros());
  event.mutable_received_at()->set_utc_offset_minutes(options_.utc_offset_minutes);
  counters_.received.inc();
  if (event.has_rejection()) counters_.rejected(event.rejection().reason_code()).inc();
  batch_.push_back(std::move(event));
  waiting_.push_back(std::move(done));
  if (batch_.size() >= options_.max_batch) {
    flush();
  } else if (!flush_posted_) {
    flush_posted_ = true;
    boost::asio::post(io_, [this] {
      flush_posted_ = false;
      flush();
    });
  }
}

HttpIntake::~HttpIntake() { writer_.join(); }

void HttpIntake::flush() {
  // One commit at a time: what arrives while it runs (on the writer thread, so the io thread keeps
  // reading and answering) forms the next batch, flushed when the commit's answers are sent.
  if (batch_.empty() || in_flight_) return;
  in_flight_ = true;
  auto events = std::make_shared<std::vector<gridhub::v1::Event>>();
  auto waiting = std::make_shared<std::vector<std::function<void(IntakeResult)>>>();
  events->swap(batch_);
  waiting->swap(waiting_);
  // The work guard keeps io_.run() from returning while the commit is on the writer thread.
  boost::asio::post(writer_, [this, events, waiting, work = boost::asio::make_work_guard(io_)]() mutable {
    auto results = std::make_shared<Result<std::vector<EnqueueResult>>>(
        disk_below_bound() ? Result<std::vector<EnqueueResult>>(std::vector<EnqueueResult>(events->size(), EnqueueResult::kFull))
                           : outbox_.enqueue(*events));
    boost::asio::post(io_, [this, events, waiting, results, work = std::move(work)] {
      in_flight_ = false;
      answer_batch(*events, *waiting, *results);
      flush();
    });
  });
}

bool HttpIntake::disk_below_bound() {
  if (!options_.overflow) return false;
  std::error_code ec;
  const auto dir = outbox_.file().has_parent_path() ? outbox_.file().parent_path() : std::filesystem::path(".");
  const auto space = std::filesystem::space(dir, ec);
  if (ec) {
    // Unknown is not "full": refusing would lose messages the disk may well hold.
    spdlog::warn("outbox {}: cannot read the free disk space ({}); accepting", outbox_.file().string(), ec.message());
    return false;
  }
  if (space.available >= options_.min_free_bytes) return false;
  spdlog::error("outbox {}: {} MiB free on its disk, below adapter.min_free_disk_mb ({} MiB): refusing new messages",
                outbox_.file().string(), space.available >> 20, options_.min_free_bytes >> 20);
  return true;
}

void HttpIntake::answer_batch(const std::vector<gridhub::v1::Event>& events,
                              std::vector<std::function<void(IntakeResult)>>& waiting,
                              const Result<std::vector<EnqueueResult>>& results) {
  if (!results) {
    spdlog::error("outbox {}: {}; {} requests answered 500", outbox_.file().string(), results.error().message(),
                  events.size());
  }
  std::size_t queued = 0;
  for (std::size_t i = 0; i < waiting.size(); ++i) {
    IntakeResult r = IntakeResult::kFailed;
    if (results) {
      switch (results.value()[i]) {
        case EnqueueResult::kQueued:
        case EnqueueResult::kCorrected: r = IntakeResult::kQueued; ++queued; break;
        case EnqueueResult::kAlreadyKnown: r = IntakeResult::kAlreadyKnown; break;
        case EnqueueResult::kFull: r = IntakeResult::kFull; break;
      }
    }
    try {
      waiting[i](r);
    } catch (const std::exception& e) {
      spdlog::error("intake callback for {}: {}", events[i].source_key(), e.what());
    }
  }
  if (queued > 0 && options_.overflow) {
    const auto pending = outbox_.pending_count();
    if (pending && pending.value() > options_.soft_bound) {
      overflowed_.inc(std::min(queued, pending.value() - options_.soft_bound));
      const std::int64_t now = clock_.now_micros();
      if (now - last_overflow_log_us_ >= 60LL * 1000000) {
        last_overflow_log_us_ = now;
        spdlog::warn("outbox {} holds {} unacknowledged events, beyond adapter.max_pending ({}): the hub is down or "
                     "behind; still accepting because the sender cannot retry, until less than {} MiB is free on the "
                     "disk (gridhub_adapter_overflow_total counts them)",
                     outbox_.file().string(), pending.value(), options_.soft_bound, options_.min_free_bytes >> 20);
      }
    }
  }
  if (queued > 0 && delivery_ != nullptr) delivery_->notify();
}

HttpResponse HttpIntake::answer(IntakeResult result, std::string_view request, std::string ok_body) const {
  switch (result) {
    case IntakeResult::kQueued:
      return HttpResponse::text(200, std::move(ok_body));
    case IntakeResult::kAlreadyKnown:
      counters_.duplicates_outbox.inc();
      return HttpResponse::text(200, std::move(ok_body));
    case IntakeResult::kFull: {
      counters_.refused_outbox_full.inc();
      auto r = HttpResponse::error(
          503, options_.overflow
                   ? fmt::format("{}: the outbox's disk has less than adapter.min_free_disk_mb free; retry later", request)
                   : fmt::format("{}: the outbox holds adapter.max_pending unacknowledged events "
                                 "(the hub is not keeping up or is unreachable); retry later",
                                 request));
      r.headers.emplace_back("Retry-After", std::to_string(options_.retry_after.count()));
      return r;
    }
    case IntakeResult::kFailed:
      return HttpResponse::error(500, fmt::format("{}: the outbox could not be written; retry later", request));
  }
  return HttpResponse::error(500, "unreachable");
}

}  // namespace gridhub::adapter
