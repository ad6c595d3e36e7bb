#pragma once
/// The hub's configuration file: its declared keys and their translation into component options.
///
/// | key                        | type     | default                  | meaning |
/// |----------------------------|----------|--------------------------|---------|
/// | hub.log_db                 | string   | (required)               | SQLite file of the event log (relative: to the config file) |
/// | hub.durability             | string   | "full"                   | "full": fsync per commit; "normal": fsync at checkpoints |
/// | hub.log_level              | string   | "info"                   | trace, debug, info, warn, error |
/// | hub.log_format             | string   | "text"                   | "json": one JSON object per line on stderr (gridhub/common/logging.hpp) |
/// | log.backend                | string   | sqlite                   | sqlite, or jetstream: a NATS JetStream stream is the log, hub.log_db its replica (docs/jetstream.md) |
/// | log.servers                | string[] | (required for jetstream) | nats:// URLs of the cluster's nodes |
/// | log.stream                 | string   | GRIDHUB_LOG              | the log stream (personal-data keys: bucket `<stream>_KEYS`) |
/// | log.subject                | string   | gridhub.log              | the subject records are published on |
/// | log.replicas               | integer  | 3                        | copies of the stream and bucket in the cluster (1..5) |
/// | log.credentials            | string   | (none)                   | NATS user credentials file (.creds) |
/// | log.timeout_ms             | integer  | 10000                    | how long one append may wait for the cluster before it fails |
/// | ingest.endpoints           | [string] | (required)               | ROUTER endpoints adapters connect to |
/// | ingest.max_frame_bytes     | int      | 1048576                  | larger frames are nacked too_large |
/// | ingest.max_batch           | int      | 1000                     | events per commit at most |
/// | ingest.max_pending         | int      | 16384                    | queued events before intake pauses |
/// | ingest.max_dead_letters_per_peer | int | 1000                   | refused frames (malformed, too large, invalid) dead-lettered per peer per run; the rest are nacked and counted |
/// | ingest.workers            | int      | cores - 1 (at least 1)   | threads running a Submit's stateless stages (ticket, normalize, resolve, classify, route); results reach the writer in arrival order; 0 = on the io thread |
/// | stream.endpoints           | [string] | (required)               | ROUTER endpoints subscribers connect to |
/// | stream.max_credit          | int      | 1000                     | records in flight per subscriber |
/// | stream.max_batch           | int      | 256                      | records per message to subscribers that take batches |
/// | stream.session_timeout_ms  | int      | 30000                    | silent subscribers are dropped after this |
/// | stream.ack_timeout_ms      | int      | 30000                    | named subscriptions: outstanding records sent again after this long without acknowledgement progress |
/// | pipeline.*, plugins.*      |          |                          | the routing pipeline (gridhub/pipeline/pipeline.hpp) |
/// | sla.calendar               | string   | (required in [sla])      | working-hours calendar (docs/lifecycle.md) |
/// | sla.categories             | string   | (required in [sla])      | categories.csv with each tier's SLA hours |
/// | sla.max_returns            | int      | 3                        | "not ours" returns before the 12345 centre dispatches by hand |
/// | sla.center_code            | string   | "CTR_12345"              | the centre's assignee code |
/// | hotspots.tickets           | int      | 5                        | tickets of one category in one grid (or road) that make a hotspot; [hotspots] needs [sla] (gridhub/core/hotspots.hpp) |
/// | hotspots.hours             | int      | 24                       | ... within this many hours |
/// | hotspots.categories        | table    | (none)                   | per category code: "N/T" or "off" |
/// | audit.checkpoint_dir       | string   | (required in [audit])    | folder for signed checkpoints (copy them off the machine) |
/// | audit.signing_key          | string   | (required in [audit])    | Ed25519 secret key file from `gridhubctl keygen` (mode 0600) |
/// | audit.checkpoint_every     | int      | 10000                    | a checkpoint at least every this many records |
/// | audit.checkpoint_seconds   | int      | 60                       | ... or at the first commit this long after the last one |
/// | security.mode              | string   | "off"                    | "off" (single trusted machine) or "curve" (gridhub/auth/security.hpp) |
/// | security.secret_key_file   | string   | (required for curve)     | the hub's CURVE secret key (`gridhubctl keygen --curve`, mode 0600) |
/// | security.identities        | string   | (required for curve)     | identities file: keys, names, roles, codes (gridhub/auth/directory.hpp) |
/// | lookup.max_failures_per_reference | int | 5                 | residents' progress lookups: misses before a reference is locked for the window (gridhub/core/progress_lookup.hpp) |
/// | lookup.max_failures_per_requester | int | 20                | ... before a requester (the address or OpenID the adapter names) is locked |
/// | lookup.window_s            | int      | 3600                     | the window misses are counted in; a lock lasts until it ends |
/// | admin.listen               | string   | (off when absent)        | host:port of the HTTP admin endpoint: /metrics, /healthz, /readyz (gridhub/admin/admin_server.hpp) |
/// | admin.allow_remote         | bool     | false                    | allow a non-loopback admin.listen (the endpoint has no authentication) |
///
/// Without [audit] the log still keeps its hash chain, but no checkpoints are written (docs/audit.md).

#include <filesystem>
#include <optional>
#include <string>

#include "gridhub/admin/admin_server.hpp"
#include "gridhub/auth/security.hpp"
#include "gridhub/common/config.hpp"
#include "gridhub/core/hotspots.hpp"
#include "gridhub/core/ingest_server.hpp"
#include "gridhub/core/progress_lookup.hpp"
#include "gridhub/core/stream_server.hpp"
#include "gridhub/log/event_log.hpp"
#include "gridhub/log/jetstream_event_log.hpp"
#include "gridhub/pipeline/pipeline.hpp"
#include "gridhub/sla/sla_policy.hpp"

namespace gridhub::core {

const config::Spec& hub_config_spec();

struct HubConfig {
  std::filesystem::path config_file;   // where this came from (reloads read it again)
  std::filesystem::path log_db;
  log::LogOptions log;
  /// Set when [log] backend = "jetstream": the log is a JetStream stream and log_db its replica.
  std::optional<log::JetStreamOptions> jetstream;
  std::string log_level;
  std::string log_format;
  IngestOptions ingest;
  StreamOptions stream;
  LookupOptions lookup;
  /// Absent when the file has no [pipeline] section: tickets are then stored unrouted.
  std::optional<pipeline::PipelineOptions> pipeline;
  /// Absent when the file has no [sla] section: no SLA clocks, no escalation.
  std::optional<sla::SlaSettings> sla;
  /// Absent when the file has no [hotspots] section: no hotspots.
  std::optional<HotspotSettings> hotspots;
  /// Absent when the file has no [audit] section: no signed checkpoints.
  std::optional<log::CheckpointOptions> audit;
  /// Absent when the file has no [admin] listen: no HTTP admin endpoint.
  std::optional<admin::AdminOptions> admin;
  /// Off unless [security] says "curve".
  auth::SecurityOptions security;
};

/// Loads and validates; throws config::ConfigError naming file, key and line.
HubConfig load_hub_config(const std::filesystem::path& file);
HubConfig hub_config_from(const config::Config& cfg);

}  // namespace gridhub::core
