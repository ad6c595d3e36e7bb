#include "gridhub/adapter/hub_delivery.hpp"

#include <spdlog/spdlog.h>

namespace gridhub::adapter {

HubDelivery::HubDelivery(Outbox& outbox, HubClientOptions options, AdapterCounters& counters)
    : outbox_(outbox), options_(std::move(options)), counters_(counters) {}

HubDelivery::~HubDelivery() { stop(); }

void HubDelivery::start() {
  stop_ = false;
  thread_ = std::thread([this] { run(); });
}

void HubDelivery::notify() {
  {
    std::lock_guard lock(mu_);
    notified_ = true;
  }
  cv_.notify_one();
}

void HubDelivery::stop() {
  stop_ = true;
  notify();
  if (thread_.joinable()) thread_.join();
}

void HubDelivery::run() {
  zmq::context_t zmq(1);
  HubClient client(zmq, outbox_, options_, &counters_);
  while (!stop_) {
    auto stats = client.drain([this] { return !stop_.load(); });
    if (!stats) {
      // Storage trouble: nothing is lost (entries stay pending); try again after a pause.
      spdlog::error("outbox {}: {}; delivery retries in 1 s", outbox_.file().string(), stats.error().message());
    }
    std::unique_lock lock(mu_);
    // The timeout is a safety net only: notify() wakes us for every commit.
    cv_.wait_for(lock, stats ? std::chrono::milliseconds(500) : std::chrono::milliseconds(1000),
                 [this] { return notified_ || stop_.load(); });
    notified_ = false;
  }
}

}  // namespace gridhub::adapter
