#include "gridhub/adapter/metrics.hpp"

#include <cmath>

#include <fmt/format.h>

namespace gridhub::adapter {

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

std::string format_value(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (v == std::floor(v) && std::fabs(v) < 1e15) return fmt::format("{}", static_cast<std::int64_t>(v));
  return fmt::format("{}", v);
}

}  // namespace

Counter& Metrics::counter(std::string_view name, std::string_view help, std::string_view label,
                          std::string_view value) {
  std::lock_guard lock(mu_);
  auto it = families_.find(name);
  if (it == families_.end()) it = families_.emplace(std::string(name), Family{std::string(help), true, {}, {}, {}}).first;
  std::string key = label.empty() ? std::string() : fmt::format("{{{}=\"{}\"}}", label, escape_label(value));
  auto& slot = it->second.counters[key];
  if (!slot) slot = std::make_unique<Counter>();
  return *slot;
}

Gauge& Metrics::gauge(std::string_view name, std::string_view help) {
  std::lock_guard lock(mu_);
  auto it = families_.find(name);
  if (it == families_.end()) it = families_.emplace(std::string(name), Family{std::string(help), false, {}, {}, {}}).first;
  if (!it->second.gauge) it->second.gauge = std::make_unique<Gauge>();
  return *it->second.gauge;
}

void Metrics::gauge_fn(std::string_view name, std::string_view help, std::function<double()> read) {
  std::lock_guard lock(mu_);
  auto& f = families_[std::string(name)];
  f.help = std::string(help);
  f.is_counter = false;
  f.read = std::move(read);
}

std::string Metrics::render() const {
  std::lock_guard lock(mu_);
  std::string out;
  for (const auto& [name, f] : families_) {
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, f.help, name, f.is_counter ? "counter" : "gauge");
    if (f.is_counter) {
      for (const auto& [labels, c] : f.counters) out += fmt::format("{}{} {}\n", name, labels, c->value());
    } else {
      const double v = f.read ? f.read() : (f.gauge ? f.gauge->value() : 0.0);
      out += fmt::format("{} {}\n", name, format_value(v));
    }
  }
  return out;
}

AdapterCounters::AdapterCounters(Metrics& m)
    : metrics(m),
      received(m.counter("gridhub_adapter_received_total", "requests or records taken in")),
      duplicates_outbox(m.counter("gridhub_adapter_duplicates_total",
                                  "already known: in the outbox (a source's retry) or at the hub", "where", "outbox")),
      duplicates_hub(m.counter("gridhub_adapter_duplicates_total",
                               "already known: in the outbox (a source's retry) or at the hub", "where", "hub")),
      refused_outbox_full(m.counter("gridhub_adapter_refused_total", "turned away for backpressure, by reason",
                                    "reason", "outbox_full")),
      sent(m.counter("gridhub_adapter_sent_total", "frames sent to the hub, resends included")),
      acked(m.counter("gridhub_adapter_acked_total", "events the hub acknowledged (stored or duplicate)")) {}

}  // namespace gridhub::adapter
