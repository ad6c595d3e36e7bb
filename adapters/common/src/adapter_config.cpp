#include "gridhub/adapter/adapter_config.hpp"

#include "gridhub/transport/curve.hpp"

namespace gridhub::adapter {

config::Spec adapter_config_spec() {
  using config::Type;
  return {
      {"adapter.id", Type::kString, true, "this adapter instance's id"},
      {"adapter.hub", Type::kString, true, "the hub's ingest endpoint"},
      {"adapter.outbox", Type::kString, true, "SQLite file of the local outbox"},
      {"adapter.max_pending", Type::kInteger, false, "unacknowledged events kept before new work is refused"},
      {"adapter.window", Type::kInteger, false, "events in flight to the hub"},
      {"adapter.ack_timeout_ms", Type::kInteger, false, "silence from the hub before reconnecting"},
      {"adapter.backoff_max_ms", Type::kInteger, false, "longest pause between reconnects"},
      {"adapter.max_frame_bytes", Type::kInteger, false, "largest event sent to the hub (the hub's ingest.max_frame_bytes)"},
      {"adapter.retention_days", Type::kInteger, false, "days the hub's answered events stay in the outbox"},
      {"adapter.log_level", Type::kString, false, "trace | debug | info | warn | error"},
      {"adapter.log_format", Type::kString, false, "text | json (one JSON object per line, for log shippers)"},
      {"adapter.retry_after_s", Type::kInteger, false, "HTTP adapters: Retry-After (s) of the 503 while the outbox is full"},
      {"adapter.min_free_disk_mb", Type::kInteger, false,
       "HTTP adapters whose senders cannot retry: accept beyond max_pending until this much disk is left"},
      {"adapter.metrics_listen", Type::kString, false, "file importers: host:port serving GET /metrics while importing"},
      {"adapter.server_public_key", Type::kString, false, "the hub's CURVE public key (Z85)"},
      {"adapter.secret_key_file", Type::kString, false, "this adapter's CURVE secret key file"},
  };
}

AdapterConfig adapter_config_from(const config::Config& cfg) {
  AdapterConfig a;
  a.id = cfg.get_string("adapter.id");
  if (a.id.empty()) throw config::ConfigError(cfg.where("adapter.id") + ": must not be empty");
  a.outbox = cfg.get_path("adapter.outbox");
  a.max_pending = static_cast<std::size_t>(cfg.get_int("adapter.max_pending", 1000000, 1, 1000000000));
  a.retry_after = std::chrono::seconds(cfg.get_int("adapter.retry_after_s", 5, 1, 3600));
  a.min_free_disk_bytes = static_cast<std::uint64_t>(cfg.get_int("adapter.min_free_disk_mb", 512, 0, 1LL << 40)) << 20;
  a.metrics_listen = cfg.get_string("adapter.metrics_listen");
  a.log_level = cfg.get_enum("adapter.log_level", "info", {"trace", "debug", "info", "warn", "error"});
  a.log_format = cfg.get_enum("adapter.log_format", "text", {"text", "json"});
  a.client.endpoint = config::resolve_endpoint(cfg.get_string("adapter.hub"), cfg.base_dir());
  if (a.client.endpoint.find("://") == std::string::npos) {
    throw config::ConfigError(cfg.where("adapter.hub") + ": not a ZeroMQ endpoint (tcp://host:port or ipc://path)");
  }
  a.client.window = static_cast<std::size_t>(cfg.get_int("adapter.window", 512, 1, 100000));
  a.client.ack_timeout = std::chrono::milliseconds(cfg.get_int("adapter.ack_timeout_ms", 3000, 10, 600000));
  a.client.backoff_max = std::chrono::milliseconds(cfg.get_int("adapter.backoff_max_ms", 5000, 10, 600000));
  a.client.max_frame_bytes = static_cast<std::size_t>(cfg.get_int("adapter.max_frame_bytes", 1 << 20, 1024, 64 << 20));
  a.client.backoff_initial = std::min(a.client.backoff_initial, a.client.backoff_max);
  a.client.retention = std::chrono::hours(24 * cfg.get_int("adapter.retention_days", 7, 1, 3650));
  if (cfg.has("adapter.server_public_key") != cfg.has("adapter.secret_key_file")) {
    throw config::ConfigError(cfg.where(cfg.has("adapter.server_public_key") ? "adapter.server_public_key"
                                                                             : "adapter.secret_key_file") +
                              ": CURVE needs both adapter.server_public_key and adapter.secret_key_file");
  }
  if (cfg.has("adapter.server_public_key")) {
    a.client.server_public_key = cfg.get_string("adapter.server_public_key");
    if (!transport::is_z85_key(a.client.server_public_key)) {
      throw config::ConfigError(cfg.where("adapter.server_public_key") + ": not a CURVE public key (40 characters of Z85)");
    }
    auto k = transport::load_curve_secret_key(cfg.get_path("adapter.secret_key_file"));
    if (!k) throw config::ConfigError(cfg.where("adapter.secret_key_file") + ": " + k.error().detail);
    a.client.curve_key = std::move(k.value());
  }
  return a;
}

}  // namespace gridhub::adapter
