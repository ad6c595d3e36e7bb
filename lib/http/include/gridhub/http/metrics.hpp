#pragma once
/// Metrics for any gridhub process, rendered in the Prometheus text exposition format (version 0.0.4)
/// at GET /metrics by http::Server. The adapters (gridhub/adapter/metrics.hpp) and the hub's admin
/// endpoint (gridhub/admin/admin_server.hpp) both use it.
///
/// Counters and gauges carry a label set (e.g. rejected{reason="bad_xml"},
/// dead_letters{channel="wechat",reason="bad_xml"}). Counters and histograms are lock-free relaxed
/// atomics: take the reference once and keep it on hot paths; the registry's map is locked only to find
/// or create a series and to render. Gauges are either set by hand or computed when scraped (a
/// callback, e.g. the outbox's pending count). Histograms have fixed upper bounds chosen at creation.
/// Families computed elsewhere at scrape time (a component's own state, read on its own thread) are
/// written with TextWriter and appended to render()'s output. Thread-safe.

#include <atomic>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gridhub::http {

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

/// A histogram with fixed upper bounds (ascending; +Inf is implied). observe() is a few relaxed
/// atomic adds and a search of the bounds: no lock, no allocation. A scrape reads the buckets one by
/// one, so it may see an observation in one bucket and not yet in the count; Prometheus tolerates that.
class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds);
  void observe(double v) noexcept;

  const std::vector<double>& bounds() const noexcept { return bounds_; }
  /// Cumulative counts per bound, then the total (the +Inf bucket); and the sum.
  std::vector<std::uint64_t> cumulative() const;
  double sum() const noexcept { return sum_.load(std::memory_order_relaxed); }

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> buckets_;   // bounds_.size() + 1, not cumulative
  std::atomic<double> sum_{0};
};

/// Label name/value pairs in the order they are rendered.
using Labels = std::vector<std::pair<std::string, std::string>>;

/// Writes families in the text format: a family's HELP and TYPE once, then its samples.
class TextWriter {
 public:
  /// type: "counter", "gauge" or "histogram".
  void family(std::string_view name, std::string_view help, std::string_view type);
  void sample(std::string_view name, const Labels& labels, double value);
  /// The same with labels already rendered by render_labels().
  void sample_rendered(std::string_view name, std::string_view labels, double value);
  void histogram(std::string_view name, const Labels& labels, const Histogram& h);
  const std::string& text() const noexcept { return out_; }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

/// `{k="v",...}` with the format's escaping ("" for no labels).
std::string render_labels(const Labels& labels);
/// A sample value as the format writes it (integers without a fraction, NaN, +Inf, -Inf).
std::string format_value(double v);

class Metrics {
 public:
  /// The counter `name` (with `label`=`value` when label is not empty). Created at zero on first
  /// use; the reference stays valid for the registry's lifetime. `help` is kept from the first call.
  Counter& counter(std::string_view name, std::string_view help, std::string_view label = {},
                   std::string_view value = {});
  Counter& counter(std::string_view name, std::string_view help, const Labels& labels);
  Gauge& gauge(std::string_view name, std::string_view help);
  /// A gauge computed at scrape time. The callback runs on the scraping thread; it must not throw.
  void gauge_fn(std::string_view name, std::string_view help, std::function<double()> read);
  /// The histogram `name` with these bounds (the first call's bounds are kept).
  Histogram& histogram(std::string_view name, std::string_view help, std::vector<double> bounds);

  /// The whole registry in the Prometheus text format, families in name order.
  std::string render() const;

 private:
  enum class Kind { kCounter, kGauge, kHistogram };
  struct Family {
    std::string help;
    Kind kind = Kind::kCounter;
    std::map<std::string, std::unique_ptr<Counter>> counters;   // by rendered label set ("" or {k="v"})
    std::unique_ptr<Gauge> gauge;
    std::function<double()> read;
    std::unique_ptr<Histogram> histogram;
  };
  Family& family(std::string_view name, std::string_view help, Kind kind);
  mutable std::mutex mu_;
  std::map<std::string, Family, std::less<>> families_;
};

}  // namespace gridhub::http
