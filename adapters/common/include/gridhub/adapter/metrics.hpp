#pragma once
/// A small metrics registry for adapter processes, rendered in the Prometheus text exposition
/// format (version 0.0.4) at GET /metrics by HttpServer.
///
/// Counters and gauges carry at most one label (e.g. rejected{reason="bad_xml"},
/// http_requests{status="503"}). Counters are lock-free atomics: take the reference once and keep
/// it on hot paths; the registry's map is locked only to find or create a series. Gauges are either
/// set by hand or computed when scraped (a callback, e.g. the outbox's pending count). Thread-safe:
/// the io thread and the hub-delivery thread update the same registry.
///
/// The metrics every adapter exposes (names fixed here so dashboards work across channels):
///   gridhub_adapter_received_total              requests/records taken in
///   gridhub_adapter_rejected_total{reason}      bad input, by reason (bad_signature, bad_xml, ...)
///   gridhub_adapter_duplicates_total{where}     already known: where="outbox" (a retry) or "hub"
///   gridhub_adapter_refused_total{reason}       turned away for backpressure (reason="outbox_full")
///   gridhub_adapter_sent_total                  frames sent to the hub, resends included
///   gridhub_adapter_acked_total                 events the hub acknowledged (stored or duplicate)
///   gridhub_adapter_outbox_pending              events waiting in the outbox (gauge)
///   gridhub_http_requests_total{status}         HTTP answers by status code

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

namespace gridhub::adapter {

class Counter {
 public:
  void inc(std::uint64_t n = 1) noexcept { v_.fetch_add(n, std::memory_order_relaxed); }
  std::uint64_t value() const noexcept { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> v_{0};
};

class Gauge {
 public:
  void set(double v) noexcept { v_.store(v, std::memory_order_relaxed); }
  double value() const noexcept { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> v_{0};
};

class Metrics {
 public:
  /// The counter `name` (with `label`=`value` when label is not empty). Created at zero on first
  /// use; the reference stays valid for the registry's lifetime. `help` is kept from the first call.
  Counter& counter(std::string_view name, std::string_view help, std::string_view label = {},
                   std::string_view value = {});
  Gauge& gauge(std::string_view name, std::string_view help);
  /// A gauge computed at scrape time. The callback runs on the scraping thread; it must not throw.
  void gauge_fn(std::string_view name, std::string_view help, std::function<double()> read);

  /// The whole registry in the Prometheus text format, families in name order.
  std::string render() const;

 private:
  struct Family {
    std::string help;
    bool is_counter = true;
    std::map<std::string, std::unique_ptr<Counter>> counters;   // by rendered label set ("" or {k="v"})
    std::unique_ptr<Gauge> gauge;
    std::function<double()> read;
  };
  mutable std::mutex mu_;
  std::map<std::string, Family, std::less<>> families_;
};

/// The standard adapter counters, looked up once.
struct AdapterCounters {
  explicit AdapterCounters(Metrics& m);
  Metrics& metrics;
  Counter& received;
  Counter& duplicates_outbox;
  Counter& duplicates_hub;
  Counter& refused_outbox_full;
  Counter& sent;
  Counter& acked;
  Counter& rejected(std::string_view reason) {
    return metrics.counter("gridhub_adapter_rejected_total", "bad input, by reason", "reason", reason);
  }
};

}  // namespace gridhub::adapter
