#pragma once
// The writer thread: takes whatever the io thread queued since the last commit, has the sequencer
// decide it and storage append it in one transaction (group commit), and posts the outcomes back to
// the io thread. While one commit's fsync
// runs, the next batch accumulates — so batch size follows load and no timer is needed.

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "gridhub/core/sequencer.hpp"

namespace gridhub::core {

template <class Tag>
class GroupCommitWriter {
 public:
  using Done = std::function<void(std::vector<Tag>&&, Status, std::vector<log::AppendOutcome>&&)>;

  GroupCommitWriter(boost::asio::io_context& io, Sequencer& log, std::size_t max_batch, Done done)
      : io_(io), log_(log), max_batch_(max_batch), done_(std::move(done)), head_(log.head_seq()) {
    thread_ = std::thread([this] { run(); });
  }
  GroupCommitWriter(const GroupCommitWriter&) = delete;
  GroupCommitWriter& operator=(const GroupCommitWriter&) = delete;
  ~GroupCommitWriter() { stop(); }

  /// io thread: queue one item for the next commit.
  void submit(Tag tag, log::AppendItem item) {
    {
      std::lock_guard lock(mu_);
      tags_.push_back(std::move(tag));
      items_.push_back(std::move(item));
    }
    ++queued_;
    cv_.notify_one();
  }

  /// Items queued or being committed.
  std::size_t pending() const { return queued_.load(std::memory_order_relaxed); }
  std::uint64_t head_seq() const { return head_.load(std::memory_order_relaxed); }

  /// Finishes everything queued, then joins.
  void stop() {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    cv_.notify_one();
    if (thread_.joinable()) thread_.join();
  }

 private:
  void run() {
    std::vector<Tag> tags;
    std::vector<log::AppendItem> items;
    for (;;) {
      {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [&] { return stopping_ || !items_.empty(); });
        if (items_.empty()) return;  // stopping and drained
        if (items_.size() <= max_batch_) {
          tags.swap(tags_);
          items.swap(items_);
        } else {
          // Take the oldest max_batch; the rest goes in the next commit.
          tags.assign(std::make_move_iterator(tags_.begin()), std::make_move_iterator(tags_.begin() + max_batch_));
          items.assign(std::make_move_iterator(items_.begin()), std::make_move_iterator(items_.begin() + max_batch_));
          tags_.erase(tags_.begin(), tags_.begin() + max_batch_);
          items_.erase(items_.begin(), items_.begin() + max_batch_);
        }
      }
      std::vector<log::AppendOutcome> outcomes;
      Status status = log_.append(items, outcomes);
      head_.store(log_.head_seq(), std::memory_order_relaxed);
      queued_ -= items.size();
      items.clear();
      boost::asio::post(io_, [this, t = std::move(tags), s = std::move(status), o = std::move(outcomes)]() mutable {
        done_(std::move(t), std::move(s), std::move(o));
      });
      tags = {};
    }
  }

  boost::asio::io_context& io_;
  Sequencer& log_;
  const std::size_t max_batch_;
  Done done_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Tag> tags_;
  std::vector<log::AppendItem> items_;
  bool stopping_ = false;
  std::atomic<std::size_t> queued_{0};
  std::atomic<std::uint64_t> head_{0};
  std::thread thread_;
};

}  // namespace gridhub::core
