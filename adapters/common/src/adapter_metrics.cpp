#include "gridhub/adapter/metrics.hpp"

namespace gridhub::adapter {

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
