#include "gridhub/core/log_writer.hpp"

#include <pthread.h>

#include <boost/asio/post.hpp>

#include <chrono>

namespace gridhub::core {

LogWriter::LogWriter(boost::asio::io_context& io, Sequencer& sequencer, std::size_t max_batch)
    : io_(io), sequencer_(sequencer), max_batch_(max_batch), head_(sequencer.head_seq()) {
  thread_ = std::thread([this] { run(); });
  ::pthread_setname_np(thread_.native_handle(), "gridhub-writer");   // the bench's per-thread split names it
}

LogWriter::~LogWriter() { stop(); }

void LogWriter::submit(Waiter waiter, log::AppendItem item) {
  {
    std::lock_guard lock(mu_);
    waiters_.push_back(std::move(waiter));
    items_.push_back(std::move(item));
  }
  ++queued_;
  cv_.notify_one();
}

void LogWriter::observe_commits(http::Histogram& batch_size, http::Histogram& seconds) {
  std::lock_guard lock(mu_);
  batch_size_ = &batch_size;
  commit_seconds_ = &seconds;
}

void LogWriter::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void LogWriter::run() {
  std::vector<Waiter> waiters;
  std::vector<log::AppendItem> items;
  http::Histogram* batch_size = nullptr;
  http::Histogram* commit_seconds = nullptr;
  for (;;) {
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || !items_.empty(); });
      if (items_.empty()) return;  // stopping and drained
      batch_size = batch_size_;
      commit_seconds = commit_seconds_;
      if (items_.size() <= max_batch_) {
        waiters.swap(waiters_);
        items.swap(items_);
      } else {
        // Take the oldest max_batch; the rest goes in the next commit.
        waiters.assign(std::make_move_iterator(waiters_.begin()), std::make_move_iterator(waiters_.begin() + max_batch_));
        items.assign(std::make_move_iterator(items_.begin()), std::make_move_iterator(items_.begin() + max_batch_));
        waiters_.erase(waiters_.begin(), waiters_.begin() + max_batch_);
        items_.erase(items_.begin(), items_.begin() + max_batch_);
      }
    }
    std::vector<log::AppendOutcome> outcomes;
    const auto started = commit_seconds != nullptr ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point{};
    Status status = sequencer_.append(items, outcomes);
    if (commit_seconds != nullptr) {
      commit_seconds->observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
      batch_size->observe(static_cast<double>(items.size()));
    }
    head_.store(sequencer_.head_seq(), std::memory_order_relaxed);
    queued_ -= items.size();
    items.clear();
    boost::asio::post(io_, [this, w = std::move(waiters), s = std::move(status), o = std::move(outcomes)]() mutable {
      committed(w, s, o);
    });
    waiters = {};
  }
}

void LogWriter::committed(std::vector<Waiter>& waiters, const Status& status,
                          const std::vector<log::AppendOutcome>& outcomes) {
  const log::AppendOutcome none;
  for (std::size_t i = 0; i < waiters.size(); ++i) {
    if (waiters[i].done) waiters[i].done(status, status.ok() ? outcomes[i] : none);
  }
  const Commit commit{status, waiters, outcomes, head_seq()};
  for (const auto& fn : listeners_) fn(commit);
}

}  // namespace gridhub::core
