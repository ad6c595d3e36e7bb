#pragma once
/// The hub connection of a long-running (HTTP) adapter: a thread beside the io_context that runs
/// HubClient::drain (Lazy Pirate, adapters/common/hub_client.hpp) whenever the outbox holds pending
/// events, and sleeps on a condition variable otherwise.
///
/// Why a thread and not the io_context: HubClient polls a ZeroMQ socket and backs off with sleeps
/// while the hub is away; on the io thread that would stall every HTTP answer behind the hub. On its
/// own thread the only shared state is the outbox (internally locked) and the atomic counters, and
/// an unreachable hub costs the HTTP side nothing but outbox growth up to its bound.

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "gridhub/adapter/hub_client.hpp"
#include "gridhub/adapter/metrics.hpp"
#include "gridhub/adapter/outbox.hpp"

namespace gridhub::adapter {

class HubDelivery {
 public:
  HubDelivery(Outbox& outbox, HubClientOptions options, AdapterCounters& counters);
  ~HubDelivery();   // stop()s
  HubDelivery(const HubDelivery&) = delete;
  HubDelivery& operator=(const HubDelivery&) = delete;

  void start();
  /// Something was enqueued: send it now rather than at the next idle poll (any thread).
  void notify();
  /// Stops sending (what is pending stays in the outbox for the next start) and joins the thread.
  void stop();

 private:
  void run();

  Outbox& outbox_;
  HubClientOptions options_;
  AdapterCounters& counters_;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::condition_variable cv_;
  bool notified_ = false;
  std::thread thread_;
};

}  // namespace gridhub::adapter
