#include "gridhub/core/stage_pool.hpp"

#include <pthread.h>

#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>

namespace gridhub::core {

namespace {

struct Slot {
  StagePool::Work work;
  StagePool::Done done;
  bool ready = false;
};

}  // namespace

struct StagePool::Shared {
  std::mutex mu;
  std::condition_variable cv;
  // Every job in flight, in submission order. A deque: workers hold pointers to their slot while the
  // io thread appends at the back and removes at the front, which leaves other elements in place.
  std::deque<Slot> slots;
  std::deque<Slot*> todo;        // slots whose work no worker has taken yet
  std::size_t idle = 0;          // workers waiting for work: only then does run() need to wake one
  // Invariant: whenever slots.front() is ready, a flush is posted (the worker that readied the front
  // posted it), so a finished prefix never waits for an unrelated event.
  bool flush_posted = false;
  bool stopping = false;         // the pool is gone: posted flushes do nothing
  std::atomic<std::size_t> in_flight{0};

  /// io thread: runs the done of every finished job at the front, in order.
  void flush() {
    std::vector<Slot> finished;
    {
      std::lock_guard lock(mu);
      flush_posted = false;
      if (stopping) return;
      while (!slots.empty() && slots.front().ready) {
        finished.push_back(std::move(slots.front()));
        slots.pop_front();
      }
      in_flight -= finished.size();
    }
    for (auto& s : finished) s.done();
    // `finished` goes here, on the io thread: what the jobs captured (a pipeline a reload replaced)
    // is released where it was taken, never on a worker.
  }
};

StagePool::StagePool(boost::asio::io_context& io, std::size_t workers) : io_(io), shared_(std::make_shared<Shared>()) {
  threads_.reserve(workers);
  for (std::size_t i = 0; i < workers; ++i) {
    threads_.emplace_back([this] { work_loop(); });
    ::pthread_setname_np(threads_.back().native_handle(), "gridhub-stage");
  }
}

StagePool::~StagePool() {
  {
    std::lock_guard lock(shared_->mu);
    shared_->stopping = true;
  }
  shared_->cv.notify_all();
  for (auto& t : threads_) t.join();
}

void StagePool::run(Work work, Done done) {
  if (threads_.empty()) {
    work();
    done();
    return;
  }
  auto& s = *shared_;
  bool wake = false;
  {
    std::lock_guard lock(s.mu);
    s.todo.push_back(&s.slots.emplace_back(Slot{std::move(work), std::move(done), false}));
    ++s.in_flight;
    wake = s.idle > 0;
  }
  // Under load every worker is busy and this costs nothing; a wake-up is a system call.
  if (wake) s.cv.notify_one();
}

void StagePool::then(Done done) {
  auto& s = *shared_;
  {
    std::lock_guard lock(s.mu);
    if (!s.slots.empty()) {
      s.slots.push_back(Slot{{}, std::move(done), true});
      ++s.in_flight;
      return;
    }
  }
  done();   // nothing ahead of it
}

std::size_t StagePool::in_flight() const { return shared_->in_flight.load(std::memory_order_relaxed); }

std::size_t StagePool::default_workers() {
  const unsigned cores = std::thread::hardware_concurrency();
  return cores > 2 ? cores - 1 : 1;
}

void StagePool::work_loop() {
  auto& s = *shared_;
  for (;;) {
    Slot* job = nullptr;
    {
      std::unique_lock lock(s.mu);
      ++s.idle;
      s.cv.wait(lock, [&] { return s.stopping || !s.todo.empty(); });
      --s.idle;
      if (s.stopping) return;
      job = s.todo.front();
      s.todo.pop_front();
    }
    try {
      job->work();
    } catch (const std::exception& e) {
      // Work is noexcept by contract; should one throw anyway, its done still runs with what it has.
      spdlog::error("ingest: a stage job threw: {}", e.what());
    } catch (...) {
      spdlog::error("ingest: a stage job threw");
    }
    bool post = false;
    {
      std::lock_guard lock(s.mu);
      job->ready = true;
      if (!s.flush_posted && &s.slots.front() == job) {
        s.flush_posted = true;
        post = true;
      }
    }
    if (post) boost::asio::post(io_, [sh = shared_] { sh->flush(); });
  }
}

}  // namespace gridhub::core
