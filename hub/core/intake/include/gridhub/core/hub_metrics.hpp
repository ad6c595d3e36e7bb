#pragma once
/// The hub's Prometheus metrics (served by the [admin] endpoint, gridhub/admin/admin_server.hpp).
///
/// Every counter `gridhubctl status` shows is exported under the same name with the prefix
/// gridhub_hub_ (one source: IngestServer::fill_status). Beside them:
///   gridhub_hub_ingest_received_total{channel}            events received (refused frames included; unreadable: unspecified)
///   gridhub_hub_ingest_events_total{channel,outcome}      committed events: accepted, duplicate, dead_lettered
///   gridhub_hub_ingest_dead_letters_total{channel,reason} dead letters stored, by the reason they carry
///   gridhub_hub_plugin_decisions_total{stage,plugin,rule} the stateless stages' decisions (normalizer, resolver, classifier, router)
///   gridhub_hub_ack_latency_seconds                       histogram: receipt to acknowledgement
///   gridhub_hub_commit_batch_size                         histogram: items per commit
///   gridhub_hub_commit_duration_seconds                   histogram: decide + store + commit on the writer thread
///   gridhub_hub_writer_queue_depth                        items queued for or in the writer
///   gridhub_hub_log_head_seq                              the log's last seq
///   gridhub_hub_subscription_lag_records{subscription}    head - the subscription's acknowledged seq
///   gridhub_hub_subscription_lag_seconds{subscription}    age of its oldest unacknowledged record (0: caught up)
///   gridhub_hub_subscription_last_ack_timestamp_seconds{subscription}  when its cursor last moved
///   gridhub_hub_open_tickets{tier,assignee}               open tickets (new, assigned, accepted, returned)
///   gridhub_hub_sla_running_clocks / gridhub_hub_sla_breached_clocks   clocks armed / run out and not yet moved on (from status)
///   gridhub_hub_sla_clocks{tier,state}                    the same by the ticket's tier; state running | breached ([sla] only)
///   gridhub_hub_hotspots_opened_total / _joined_total     hotspot incidents opened / tickets joined to one ([hotspots] only, from status)
///   gridhub_hub_pipeline_reloads_total / _reload_failures_total   reloads swapped in / refused (from status)
///   gridhub_hub_ready                                     1 once started and the last commit succeeded

#include <string>

namespace gridhub::core {

/// Label values from the schema's enum names: CHANNEL_WECHAT -> "wechat", TIER_GRID -> "grid".
std::string channel_label(int channel);
std::string tier_label(int tier);

}  // namespace gridhub::core
