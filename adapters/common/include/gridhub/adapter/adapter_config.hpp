#pragma once
/// The [adapter] section every adapter's TOML file has.
///
/// | key                    | type   | default   | meaning |
/// |------------------------|--------|-----------|---------|
/// | adapter.id             | string | required  | this adapter instance's id, stored with every event |
/// | adapter.hub            | string | required  | the hub's ingest endpoint |
/// | adapter.outbox         | string | required  | SQLite file of the local outbox (relative: to the config file) |
/// | adapter.max_pending    | int    | 1000000   | unacknowledged events kept before new work is refused |
/// | adapter.window         | int    | 512       | events in flight to the hub |
/// | adapter.ack_timeout_ms | int    | 3000      | silence from the hub before reconnecting and resending |
/// | adapter.backoff_max_ms | int    | 5000      | longest pause between reconnects |
/// | adapter.retention_days | int    | 7         | acknowledged (or refused) events stay in the outbox this long, then are purged (personal data with them); a hub restored from a backup older than this cannot get them back from this adapter |
/// | adapter.log_level      | string | "info"    | trace, debug, info, warn, error |
/// | adapter.log_format     | string | "text"    | "json": one JSON object per line on stderr |
/// | adapter.retry_after_s  | int    | 5         | HTTP adapters: Retry-After of the 503 sent while the outbox is at max_pending |
/// | adapter.min_free_disk_mb | int  | 512       | HTTP adapters whose senders cannot retry (WeChat): beyond max_pending they keep accepting (and alert) until the outbox's disk has less than this free |
/// | adapter.metrics_listen | string | none      | file importers: serve GET /metrics on host:port while importing (prints READY http=...) |
/// | adapter.server_public_key | string | none   | the hub's CURVE public key (Z85), when the hub runs [security] mode "curve" |
/// | adapter.secret_key_file   | string | none   | this adapter's CURVE secret key (`gridhubctl keygen --curve`, mode 0600); with server_public_key |

#include <filesystem>
#include <string>

#include "gridhub/adapter/hub_client.hpp"
#include "gridhub/common/config.hpp"

namespace gridhub::adapter {

/// The [adapter] keys; an adapter appends its own section's keys to these.
config::Spec adapter_config_spec();

struct AdapterConfig {
  std::string id;
  std::filesystem::path outbox;
  std::size_t max_pending = 1000000;
  std::chrono::seconds retry_after{5};
  std::uint64_t min_free_disk_bytes = 512ull << 20;
  std::string metrics_listen;   // empty: no /metrics for a file import
  std::string log_level;
  std::string log_format;
  HubClientOptions client;
};

AdapterConfig adapter_config_from(const config::Config& cfg);

}  // namespace gridhub::adapter
