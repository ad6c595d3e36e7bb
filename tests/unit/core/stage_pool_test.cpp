#include "gridhub/core/stage_pool.hpp"

#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <atomic>
#include <latch>
#include <memory>
#include <thread>
#include <vector>

namespace gridhub::core {
namespace {

/// Runs the io context's handlers on this (the "io") thread until `until` holds.
template <class Pred>
void run_io_until(boost::asio::io_context& io, Pred until) {
  while (!until()) io.run_one();
}

TEST(StagePool, DoneRunsInSubmissionOrderWhicheverWorkFinishesFirst) {
  boost::asio::io_context io;
  auto guard = boost::asio::make_work_guard(io);
  StagePool pool(io, 4);
  constexpr int kJobs = 200;
  // The first job's work cannot finish before every other job's work has: the finish order is the
  // reverse of the submission order at least for it, whatever the scheduler does.
  std::latch others_finished(kJobs - 1);
  std::vector<int> order;
  for (int i = 0; i < kJobs; ++i) {
    if (i % 10 == 5) {
      // An item without work keeps its place among the others.
      pool.then([&order, i] { order.push_back(i); });
      others_finished.count_down();
      continue;
    }
    pool.run([&others_finished, i] { i == 0 ? others_finished.wait() : others_finished.count_down(); },
             [&order, i] { order.push_back(i); });
  }
  run_io_until(io, [&] { return order.size() == kJobs; });
  for (int i = 0; i < kJobs; ++i) ASSERT_EQ(order[static_cast<std::size_t>(i)], i);
  EXPECT_EQ(pool.in_flight(), 0u);
}

TEST(StagePool, InFlightCountsJobsUntilTheirDoneRanOnTheIoThread) {
  boost::asio::io_context io;
  auto guard = boost::asio::make_work_guard(io);
  StagePool pool(io, 2);
  std::latch release(1);
  int done = 0;
  pool.run([&release] { release.wait(); }, [&done] { ++done; });
  pool.then([&done] { ++done; });   // waits behind the first
  pool.run([] {}, [&done] { ++done; });
  EXPECT_EQ(pool.in_flight(), 3u);  // what backpressure counts
  EXPECT_EQ(done, 0);
  release.count_down();
  run_io_until(io, [&] { return done == 3; });
  EXPECT_EQ(pool.in_flight(), 0u);
  pool.then([&done] { ++done; });   // nothing ahead of it: at once
  EXPECT_EQ(done, 4);
}

TEST(StagePool, WhatAJobCapturesLivesUntilItsDoneAndIsReleasedOnTheIoThread) {
  // How ingest keeps a reloaded-away pipeline alive: the job holds it, not the caller.
  struct Probe {
    std::atomic<std::thread::id>* freed_on;
    ~Probe() { freed_on->store(std::this_thread::get_id()); }
  };
  boost::asio::io_context io;
  auto guard = boost::asio::make_work_guard(io);
  StagePool pool(io, 1);
  std::atomic<std::thread::id> freed_on{};
  auto probe = std::make_shared<Probe>(Probe{&freed_on});
  std::weak_ptr<Probe> watch = probe;
  std::latch dropped(1);
  bool alive_in_done = false;
  pool.run([p = probe, &dropped] { dropped.wait(); },   // the caller has let go by now
           [&watch, &alive_in_done] { alive_in_done = !watch.expired(); });
  probe.reset();                             // a reload replaces the pipeline
  dropped.count_down();
  run_io_until(io, [&] { return watch.expired(); });
  EXPECT_TRUE(alive_in_done);
  EXPECT_EQ(freed_on.load(), std::this_thread::get_id());
}

TEST(StagePool, WithoutWorkersEveryJobRunsAtOnceOnTheCallingThread) {
  boost::asio::io_context io;
  StagePool pool(io, 0);
  EXPECT_EQ(pool.workers(), 0u);
  std::vector<std::thread::id> ran;
  pool.run([&ran] { ran.push_back(std::this_thread::get_id()); }, [&ran] { ran.push_back(std::this_thread::get_id()); });
  ASSERT_EQ(ran.size(), 2u);
  EXPECT_EQ(ran[0], std::this_thread::get_id());
  EXPECT_EQ(ran[1], std::this_thread::get_id());
  EXPECT_EQ(pool.in_flight(), 0u);
}

TEST(StagePool, TheDefaultLeavesOneCoreToTheIoThreadAndHasAtLeastOneWorker) {
  const unsigned cores = std::thread::hardware_concurrency();
  EXPECT_GE(StagePool::default_workers(), 1u);
  if (cores > 2) {
    EXPECT_EQ(StagePool::default_workers(), cores - 1);
  }
}

}  // namespace
}  // namespace gridhub::core
