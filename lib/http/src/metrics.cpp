#include "gridhub/http/metrics.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

namespace gridhub::http {

namespace {

/// Label values may hold anything; the exposition format escapes \ " and newline.
std::string escape_label(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

/// HELP text escapes \ and newline.
std::string escape_help(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

void add_double(std::atomic<double>& a, double v) noexcept {
  double cur = a.load(std::memory_order_relaxed);
  while (!a.compare_exchange_weak(cur, cur + v, std::memory_order_relaxed)) {
  }
}

}  // namespace

std::string format_value(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (v == std::floor(v) && std::fabs(v) < 1e15) return fmt::format("{}", static_cast<std::int64_t>(v));
  return fmt::format("{}", v);
}

std::string render_labels(const Labels& labels) {
  if (labels.empty()) return {};
  std::string out = "{";
  for (std::size_t i = 0; i < labels.size(); ++i) {
    out += fmt::format("{}{}=\"{}\"", i ? "," : "", labels[i].first, escape_label(labels[i].second));
  }
  return out + "}";
}

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)), buckets_(std::make_unique<std::atomic<std::uint64_t>[]>(bounds_.size() + 1)) {
  std::sort(bounds_.begin(), bounds_.end());
  for (std::size_t i = 0; i <= bounds_.size(); ++i) buckets_[i].store(0, std::memory_order_relaxed);
}

void Histogram::observe(double v) noexcept {
  const auto i = static_cast<std::size_t>(std::lower_bound(bounds_.begin(), bounds_.end(), v) - bounds_.begin());
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  add_double(sum_, v);
}

std::vector<std::uint64_t> Histogram::cumulative() const {
  std::vector<std::uint64_t> out(bounds_.size() + 1);
  std::uint64_t total = 0;
  for (std::size_t i = 0; i <= bounds_.size(); ++i) {
    total += buckets_[i].load(std::memory_order_relaxed);
    out[i] = total;
  }
  return out;
}

void TextWriter::family(std::string_view name, std::string_view help, std::string_view type) {
  out_ += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, escape_help(help), name, type);
}

void TextWriter::sample(std::string_view name, const Labels& labels, double value) {
  out_ += fmt::format("{}{} {}\n", name, render_labels(labels), format_value(value));
}

void TextWriter::sample_rendered(std::string_view name, std::string_view labels, double value) {
  out_ += fmt::format("{}{} {}\n", name, labels, format_value(value));
}

void TextWriter::histogram(std::string_view name, const Labels& labels, const Histogram& h) {
  const auto counts = h.cumulative();
  Labels with_le = labels;
  with_le.emplace_back("le", "");
  for (std::size_t i = 0; i < counts.size(); ++i) {
    with_le.back().second = i < h.bounds().size() ? format_value(h.bounds()[i]) : "+Inf";
    out_ += fmt::format("{}_bucket{} {}\n", name, render_labels(with_le), counts[i]);
  }
  out_ += fmt::format("{}_sum{} {}\n", name, render_labels(labels), format_value(h.sum()));
  out_ += fmt::format("{}_count{} {}\n", name, render_labels(labels), counts.back());
}

Metrics::Family& Metrics::family(std::string_view name, std::string_view help, Kind kind) {
  auto it = families_.find(name);
  if (it == families_.end()) {
    it = families_.emplace(std::string(name), Family{}).first;
    it->second.help = std::string(help);
    it->second.kind = kind;
  }
  return it->second;
}

Counter& Metrics::counter(std::string_view name, std::string_view help, std::string_view label,
                          std::string_view value) {
  Labels labels;
  if (!label.empty()) labels.emplace_back(std::string(label), std::string(value));
  return counter(name, help, labels);
}

Counter& Metrics::counter(std::string_view name, std::string_view help, const Labels& labels) {
  std::lock_guard lock(mu_);
  auto& slot = family(name, help, Kind::kCounter).counters[render_labels(labels)];
  if (!slot) slot = std::make_unique<Counter>();
  return *slot;
}

Gauge& Metrics::gauge(std::string_view name, std::string_view help) {
  std::lock_guard lock(mu_);
  auto& f = family(name, help, Kind::kGauge);
  if (!f.gauge) f.gauge = std::make_unique<Gauge>();
  return *f.gauge;
}

void Metrics::gauge_fn(std::string_view name, std::string_view help, std::function<double()> read) {
  std::lock_guard lock(mu_);
  auto& f = family(name, help, Kind::kGauge);
  f.help = std::string(help);
  f.kind = Kind::kGauge;
  f.read = std::move(read);
}

Histogram& Metrics::histogram(std::string_view name, std::string_view help, std::vector<double> bounds) {
  std::lock_guard lock(mu_);
  auto& f = family(name, help, Kind::kHistogram);
  if (!f.histogram) f.histogram = std::make_unique<Histogram>(std::move(bounds));
  return *f.histogram;
}

std::string Metrics::render() const {
  std::lock_guard lock(mu_);
  TextWriter w;
  for (const auto& [name, f] : families_) {
    switch (f.kind) {
      case Kind::kCounter:
        w.family(name, f.help, "counter");
        for (const auto& [labels, c] : f.counters) w.sample_rendered(name, labels, static_cast<double>(c->value()));
        break;
      case Kind::kGauge:
        w.family(name, f.help, "gauge");
        w.sample(name, {}, f.read ? f.read() : (f.gauge ? f.gauge->value() : 0.0));
        break;
      case Kind::kHistogram:
        w.family(name, f.help, "histogram");
        if (f.histogram) w.histogram(name, {}, *f.histogram);
        break;
    }
  }
  return w.take();
}

}  // namespace gridhub::http
