#pragma once
/// Worker threads for the stateless stages of intake (building the ticket, normalize, resolve,
/// classify, route), with the io thread's order restored afterwards.
///
/// The io thread hands each job to run() — or, for an item with no work that must keep its place,
/// to then() — in arrival order. Workers run the jobs' work concurrently, in any order; each job's
/// `done` then runs on the io thread strictly in submission order, however the work finished. So
/// whatever `done` passes on (to the log's writer) arrives in the order the io thread received it.
///
/// Why a thread pool of our own rather than boost::asio::thread_pool: restoring the order needs one
/// table of jobs in flight that the workers mark and the io thread drains, and the count of that
/// table is what backpressure reads. With that table under one mutex the work queue is one more
/// deque beside it; asio's pool would add a second queue and a second lock per job and still need
/// the table. Workers are named "gridhub-stage" so per-thread CPU figures can tell them apart.
///
/// Config key: [ingest] workers (hub_config.hpp); 0 runs every job inline on the io thread.

#include <boost/asio/io_context.hpp>

#include <cstddef>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

namespace gridhub::core {

class StagePool {
 public:
  /// Runs on a worker thread. Must not throw (the data path: failures become results, not exceptions).
  using Work = std::function<void()>;
  /// Runs on the io thread, in submission order, after its work. Must not call run() or then().
  using Done = std::function<void()>;

  /// `workers` threads (0: none; run() then does its work and done at once on the calling thread).
  StagePool(boost::asio::io_context& io, std::size_t workers);
  /// Stops the workers. Jobs not finished by then are dropped without their done: drain first
  /// (wait until in_flight() is 0) to keep them.
  ~StagePool();
  StagePool(const StagePool&) = delete;
  StagePool& operator=(const StagePool&) = delete;

  /// io thread: `work` on a worker, then `done` on the io thread in submission order. What the two
  /// capture is released on the io thread, after `done` ran.
  void run(Work work, Done done);
  /// io thread: `done` alone, in its place: at once when nothing is in flight, else after every
  /// job submitted before it.
  void then(Done done);

  /// Jobs submitted whose done has not run yet (io thread).
  std::size_t in_flight() const;
  std::size_t workers() const { return threads_.size(); }

  /// The default for [ingest] workers: every core but the one the io thread needs, at least one.
  static std::size_t default_workers();

 private:
  struct Shared;
  void work_loop();

  boost::asio::io_context& io_;
  std::shared_ptr<Shared> shared_;   // also held by flushes posted to the io thread
  std::vector<std::thread> threads_;
};

}  // namespace gridhub::core
