#pragma once
/// How an HTTP adapter takes events in: stamp them, write them to the outbox in group commits,
/// answer the caller only once the event is durably there — and refuse (503 + Retry-After) when
/// the outbox already holds adapter.max_pending unacknowledged events.
///
/// Group commit: submit() runs on the io thread and adds the event to the open batch; a handler
/// posted to the same io_context hands the batch to the intake's writer thread, which writes it in
/// one outbox transaction (one fsync) and posts the outcomes back. One commit runs at a time, and
/// the io thread keeps reading requests meanwhile: every request that arrived while a commit ran
/// shares the next one, started as soon as the previous one's answers are sent. Each request's
/// `done` callback runs, on the io thread, with its own outcome, only after its commit. (Committing
/// on the io thread instead stalled every connection for each fsync: see docs/http-adapters.md.)
/// The constructor registers the gridhub_adapter_outbox_pending gauge; the destructor waits for a
/// commit in progress.
///
/// Delivery to the hub runs on its own thread (HubDelivery), so an unreachable hub never delays an
/// answer: the outbox is the buffer, and its bound is the backpressure — except for senders that
/// cannot retry (IntakeOptions::overflow), where the bound alerts and free disk space refuses.

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>

#include "gridhub/adapter/http_server.hpp"
#include "gridhub/adapter/metrics.hpp"
#include "gridhub/adapter/outbox.hpp"
#include "gridhub/common/clock.hpp"
#include "gridhub/v1/event.pb.h"

namespace gridhub::adapter {

class HubDelivery;

enum class IntakeResult {
  kQueued,        // new, durably in the outbox
  kAlreadyKnown,  // the outbox has this (channel, source_key) already: a retry
  kFull,          // the outbox is at its bound: refused, nothing stored
  kFailed,        // the outbox could not be written (logged)
};

struct IntakeOptions {
  std::string adapter_id;
  int utc_offset_minutes = 480;               // how received_at is displayed
  std::chrono::seconds retry_after{5};        // Retry-After on a 503
  std::size_t max_batch = 512;                // a batch this size is handed to the writer at once
  // Senders that cannot retry (WeChat answers nothing twice after an error): a 503 would lose the
  // message, so the outbox is opened without a count bound and `soft_bound` (adapter.max_pending)
  // only alerts — each event accepted beyond it is logged (at most once a minute) and counted in
  // gridhub_adapter_overflow_total. New work is refused (kFull) only when the outbox's filesystem
  // has less than `min_free_bytes` available (adapter.min_free_disk_mb), the hard bound.
  bool overflow = false;
  std::size_t soft_bound = 0;
  std::uint64_t min_free_bytes = 0;
};

class HttpIntake {
 public:
  /// `delivery` (optional) is woken after each commit so it sends without waiting for its poll.
  HttpIntake(boost::asio::io_context& io, Outbox& outbox, const Clock& clock, AdapterCounters& counters,
             IntakeOptions options, HubDelivery* delivery = nullptr);
  ~HttpIntake();
  HttpIntake(const HttpIntake&) = delete;
  HttpIntake& operator=(const HttpIntake&) = delete;

  /// Sets adapter_id and received_at, counts it received (and rejected{reason} if it carries a
  /// rejection), and queues it for the next commit. `done` runs on the io thread.
  void submit(gridhub::v1::Event event, std::function<void(IntakeResult)> done);

  /// The answer for an outcome: 200 `ok_body` for queued or already known (a retry is answered as
  /// the original was), 503 with Retry-After when full, 500 when the outbox failed. Counts
  /// duplicates and refusals. `request` names the request in error bodies (HttpRequest::describe()).
  HttpResponse answer(IntakeResult result, std::string_view request, std::string ok_body) const;

  const IntakeOptions& options() const { return options_; }

 private:
  void flush();
  void answer_batch(const std::vector<gridhub::v1::Event>& events, std::vector<std::function<void(IntakeResult)>>& waiting,
                    const Result<std::vector<EnqueueResult>>& results);

  boost::asio::io_context& io_;
  Outbox& outbox_;
  const Clock& clock_;
  AdapterCounters& counters_;
  IntakeOptions options_;
  HubDelivery* delivery_;
  std::vector<gridhub::v1::Event> batch_;
  std::vector<std::function<void(IntakeResult)>> waiting_;
  /// Overflow mode: whether the outbox's filesystem is below options_.min_free_bytes (writer thread).
  bool disk_below_bound();

  Counter& overflowed_;
  std::int64_t last_overflow_log_us_ = 0;   // io thread
  bool flush_posted_ = false;
  bool in_flight_ = false;                   // a batch is being committed on writer_
  boost::asio::thread_pool writer_{1};       // the outbox commits; one thread, one commit at a time
};

}  // namespace gridhub::adapter
