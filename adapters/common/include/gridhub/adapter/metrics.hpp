#pragma once
/// The metrics every adapter exposes, on the shared registry (gridhub/http/metrics.hpp). Names are
/// fixed here so dashboards work across channels:
///   gridhub_adapter_received_total              requests/records taken in
///   gridhub_adapter_rejected_total{reason}      bad input, by reason (bad_signature, bad_xml, ...)
///   gridhub_adapter_duplicates_total{where}     already known: where="outbox" (a retry) or "hub"
///   gridhub_adapter_refused_total{reason}       turned away for backpressure (reason="outbox_full")
///   gridhub_adapter_sent_total                  frames sent to the hub, resends included
///   gridhub_adapter_acked_total                 events the hub acknowledged (stored or duplicate)
///   gridhub_adapter_outbox_pending              events waiting in the outbox (gauge)
///   gridhub_http_requests_total{status}         HTTP answers by status code

#include <string_view>

#include "gridhub/http/metrics.hpp"

namespace gridhub::adapter {

using http::Counter;
using http::Gauge;
using http::Metrics;

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
