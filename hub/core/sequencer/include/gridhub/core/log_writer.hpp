#pragma once
/// The hub's one ordered writer. Every write to the log — adapters' events and dead letters (ingest),
/// subscribers' cursors and reports back (streams), SLA escalations — is submitted here. The writer
/// thread takes whatever was queued since the last commit, has the sequencer decide it and storage
/// store it in one transaction (group commit), and tells the submitters on the io thread. While one
/// commit's fsync runs, the next batch accumulates — so batch size follows load and no timer is needed.
/// Config: the batch is capped by [ingest] max_batch (hub_config.hpp).
///
/// The writer thread runs sequencer -> storage one batch after the other. To decide batch N+1 while
/// storage commits batch N, the loop would hand batch N to a second (storage) thread after decide(),
/// keep the sequencer's overlay until that commit is confirmed, and on a failed commit of N drop N+1's
/// decisions as well (see sequencer.hpp).

#include <boost/asio/io_context.hpp>

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "gridhub/core/sequencer.hpp"
#include "gridhub/http/metrics.hpp"

namespace gridhub::core {

/// How a component other than ingest (streams' cursor acks and reports back, SLA escalations) submits
/// to the hub's writer (group commit); `done` runs on the io thread after the commit.
using WriteFn = std::function<void(log::AppendItem, std::function<void(const Status&, const log::AppendOutcome&)>)>;

class LogWriter {
 public:
  using Done = std::function<void(const Status&, const log::AppendOutcome&)>;

  /// Who waits for an item's outcome: an adapter (routing id and correlation, answered by ingest with
  /// an ack) or a component's `done`, which the writer calls itself (empty routing id and no done: nobody).
  struct Waiter {
    std::string routing_id;
    std::uint64_t correlation_id = 0;
    Done done;
  };

  /// One commit as the io thread hears it. On failure `outcomes` is empty and nothing was stored.
  struct Commit {
    const Status& status;
    std::span<const Waiter> waiters;
    std::span<const log::AppendOutcome> outcomes;
    std::uint64_t head_seq;
  };

  /// Starts the writer thread. `sequencer` must outlive the writer.
  LogWriter(boost::asio::io_context& io, Sequencer& sequencer, std::size_t max_batch);
  LogWriter(const LogWriter&) = delete;
  LogWriter& operator=(const LogWriter&) = delete;
  ~LogWriter();

  /// io thread: queue one item for the next commit.
  void submit(Waiter waiter, log::AppendItem item);
  void submit(log::AppendItem item, Done done) { submit(Waiter{{}, 0, std::move(done)}, std::move(item)); }

  /// io thread: called after each commit (or its failure), in the order registered, after the waiters'
  /// own `done`s have run.
  void on_commit(std::function<void(const Commit&)> fn) { listeners_.push_back(std::move(fn)); }

  /// Observes each commit's size and duration on the writer thread (two relaxed atomic adds each, no
  /// lock); the histograms must outlive the writer. Call before the first submit.
  void observe_commits(http::Histogram& batch_size, http::Histogram& seconds);

  /// Items queued or being committed.
  std::size_t pending() const { return queued_.load(std::memory_order_relaxed); }
  std::uint64_t head_seq() const { return head_.load(std::memory_order_relaxed); }

  /// Finishes everything queued, then joins.
  void stop();

 private:
  void run();
  void committed(std::vector<Waiter>& waiters, const Status& status, const std::vector<log::AppendOutcome>& outcomes);

  boost::asio::io_context& io_;
  Sequencer& sequencer_;
  const std::size_t max_batch_;
  std::vector<std::function<void(const Commit&)>> listeners_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Waiter> waiters_;
  std::vector<log::AppendItem> items_;
  bool stopping_ = false;
  http::Histogram* batch_size_ = nullptr;      // guarded by mu_ (read by the writer with each batch)
  http::Histogram* commit_seconds_ = nullptr;
  std::atomic<std::size_t> queued_{0};
  std::atomic<std::uint64_t> head_{0};
  std::thread thread_;
};

}  // namespace gridhub::core
