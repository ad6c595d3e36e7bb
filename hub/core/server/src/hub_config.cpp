#include "gridhub/core/hub_config.hpp"

#include <stdexcept>

namespace gridhub::core {

const config::Spec& hub_config_spec() {
  using config::Type;
  static const config::Spec spec = [] {
    config::Spec s = {
      {"hub.log_db", Type::kString, true, "SQLite file of the event log"},
      {"hub.durability", Type::kString, false, "full | normal"},
      {"hub.log_level", Type::kString, false, "trace | debug | info | warn | error"},
      {"hub.log_format", Type::kString, false, "text | json (one JSON object per line, for log shippers)"},
      {"log.backend", Type::kString, false, "sqlite (default: hub.log_db is the log) | jetstream (a NATS JetStream stream is the log, hub.log_db its replica)"},
      {"log.servers", Type::kStringArray, false, "jetstream: nats:// URLs of the cluster's nodes"},
      {"log.stream", Type::kString, false, "jetstream: the log stream's name (default GRIDHUB_LOG)"},
      {"log.subject", Type::kString, false, "jetstream: the subject records are published on (default gridhub.log)"},
      {"log.replicas", Type::kInteger, false, "jetstream: copies of the stream in the cluster (default 3)"},
      {"log.credentials", Type::kString, false, "jetstream: NATS user credentials file (.creds), optional"},
      {"log.timeout_ms", Type::kInteger, false, "jetstream: how long one append may wait for the cluster (a leader election) before it fails"},
      {"ingest.endpoints", Type::kStringArray, true, "ZeroMQ endpoints adapters connect to"},
      {"ingest.max_frame_bytes", Type::kInteger, false, "largest accepted frame"},
      {"ingest.max_batch", Type::kInteger, false, "events per commit at most"},
      {"ingest.max_pending", Type::kInteger, false, "queued events before intake pauses"},
      {"ingest.max_dead_letters_per_peer", Type::kInteger, false, "refused frames dead-lettered per peer; the rest are counted"},
      {"ingest.workers", Type::kInteger, false, "threads for the stateless stages of a Submit (0: the io thread)"},
      {"stream.endpoints", Type::kStringArray, true, "ZeroMQ endpoints subscribers connect to"},
      {"stream.max_credit", Type::kInteger, false, "records in flight per subscriber"},
      {"stream.max_batch", Type::kInteger, false, "records per message to subscribers that take batches"},
      {"stream.session_timeout_ms", Type::kInteger, false, "silence before a subscriber session is dropped"},
      {"stream.ack_timeout_ms", Type::kInteger, false, "named subscriptions: outstanding records are sent again after this long without an acknowledgement that moves the cursor"},
      {"audit.checkpoint_dir", Type::kString, false, "folder for signed checkpoints"},
      {"audit.signing_key", Type::kString, false, "Ed25519 secret key file (gridhubctl keygen)"},
      {"audit.checkpoint_every", Type::kInteger, false, "records between checkpoints"},
      {"audit.checkpoint_seconds", Type::kInteger, false, "seconds between checkpoints"},
      {"security.mode", Type::kString, false, "off | curve"},
      {"security.secret_key_file", Type::kString, false, "the hub's CURVE secret key (gridhubctl keygen --curve)"},
      {"security.identities", Type::kString, false, "identities file: keys, names, roles, codes"},
      {"lookup.max_failures_per_reference", Type::kInteger, false, "residents' lookups: misses before a reference is locked for the window"},
      {"lookup.max_failures_per_requester", Type::kInteger, false, "residents' lookups: misses before a requester (address, OpenID) is locked for the window"},
      {"lookup.window_s", Type::kInteger, false, "residents' lookups: the window misses are counted in, and a lock lasts"},
      {"admin.listen", Type::kString, false, "host:port of the HTTP admin endpoint (/metrics, /healthz, /readyz)"},
      {"admin.allow_remote", Type::kBoolean, false, "allow a non-loopback admin.listen (no authentication)"},
    };
    for (auto& k : pipeline::pipeline_config_spec()) s.push_back(k);
    // [sla] is optional as a whole; within it, from_config insists on what it needs.
    for (auto k : sla::SlaSettings::spec()) {
      k.required = false;
      s.push_back(std::move(k));
    }
    for (auto& k : HotspotSettings::spec()) s.push_back(std::move(k));
    return s;
  }();
  return spec;
}

namespace {

/// A stream name or subject token: no whitespace, wildcards or (in a name) dots.
bool valid_nats_name(std::string_view s, bool dots_allowed) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c <= ' ' || c == '*' || c == '>' || c == '/' || c == '\\' || (c == '.' && !dots_allowed)) return false;
  }
  return s.front() != '.' && s.back() != '.' && s.find("..") == std::string_view::npos;
}

log::JetStreamOptions jetstream_options_from(const config::Config& cfg) {
  log::JetStreamOptions js;
  if (!cfg.has("log.servers")) throw config::ConfigError(cfg.where("log") + ": backend \"jetstream\" needs servers");
  js.servers = cfg.get_strings("log.servers");
  if (js.servers.empty()) throw config::ConfigError(cfg.where("log.servers") + ": needs at least one nats:// URL");
  for (const auto& url : js.servers) {
    if (url.rfind("nats://", 0) != 0 && url.rfind("tls://", 0) != 0) {
      throw config::ConfigError(cfg.where("log.servers") + ": \"" + url + "\" is not a nats:// or tls:// URL");
    }
  }
  if (cfg.has("log.stream")) js.stream = cfg.get_string("log.stream");
  if (!valid_nats_name(js.stream, false)) {
    throw config::ConfigError(cfg.where("log.stream") + ": \"" + js.stream + "\" is not a stream name (no spaces, dots, *, >)");
  }
  if (cfg.has("log.subject")) js.subject = cfg.get_string("log.subject");
  if (!valid_nats_name(js.subject, true)) {
    throw config::ConfigError(cfg.where("log.subject") + ": \"" + js.subject + "\" is not a subject without wildcards");
  }
  js.replicas = static_cast<int>(cfg.get_int("log.replicas", 3, 1, 5));
  if (cfg.has("log.credentials")) js.credentials = cfg.get_path("log.credentials");
  js.timeout = std::chrono::milliseconds(cfg.get_int("log.timeout_ms", 10000, 100, 600000));
  return js;
}

}  // namespace

HubConfig hub_config_from(const config::Config& cfg) {
  HubConfig h;
  h.log_db = cfg.get_path("hub.log_db");
  h.log.durability = cfg.get_enum("hub.durability", "full", {"full", "normal"}) == "full" ? log::Durability::kFull
                                                                                        : log::Durability::kNormal;
  if (cfg.get_enum("log.backend", "sqlite", {"sqlite", "jetstream"}) == "jetstream") {
    h.jetstream = jetstream_options_from(cfg);
  } else {
    for (const char* key : {"log.servers", "log.stream", "log.subject", "log.replicas", "log.credentials", "log.timeout_ms"}) {
      if (cfg.has(key)) throw config::ConfigError(cfg.where(key) + ": only used with [log] backend = \"jetstream\"");
    }
  }
  h.log_level = cfg.get_enum("hub.log_level", "info", {"trace", "debug", "info", "warn", "error"});
  h.log_format = cfg.get_enum("hub.log_format", "text", {"text", "json"});
  h.ingest.endpoints = cfg.get_endpoints("ingest.endpoints");
  if (h.ingest.endpoints.empty()) throw config::ConfigError(cfg.where("ingest.endpoints") + ": needs at least one endpoint");
  h.ingest.max_frame_bytes = static_cast<std::size_t>(cfg.get_int("ingest.max_frame_bytes", 1 << 20, 1024, 64 << 20));
  h.ingest.max_batch = static_cast<std::size_t>(cfg.get_int("ingest.max_batch", 1000, 1, 100000));
  h.ingest.max_pending = static_cast<std::size_t>(cfg.get_int("ingest.max_pending", 16384, 1, 10000000));
  h.ingest.max_dead_letters_per_peer =
      static_cast<std::size_t>(cfg.get_int("ingest.max_dead_letters_per_peer", 1000, 0, 1000000000));
  h.ingest.workers = static_cast<std::size_t>(
      cfg.get_int("ingest.workers", static_cast<std::int64_t>(StagePool::default_workers()), 0, 256));
  h.stream.endpoints = cfg.get_endpoints("stream.endpoints");
  if (h.stream.endpoints.empty()) throw config::ConfigError(cfg.where("stream.endpoints") + ": needs at least one endpoint");
  h.stream.max_credit = static_cast<std::uint32_t>(cfg.get_int("stream.max_credit", 1000, 1, 100000));
  h.stream.max_batch = static_cast<std::uint32_t>(cfg.get_int("stream.max_batch", 256, 1, 4096));
  h.stream.session_timeout = std::chrono::milliseconds(cfg.get_int("stream.session_timeout_ms", 30000, 100, 3600000));
  h.stream.ack_timeout = std::chrono::milliseconds(cfg.get_int("stream.ack_timeout_ms", 30000, 100, 3600000));
  h.lookup.max_failures_per_reference = static_cast<std::uint32_t>(cfg.get_int("lookup.max_failures_per_reference", 5, 1, 1000));
  h.lookup.max_failures_per_requester = static_cast<std::uint32_t>(cfg.get_int("lookup.max_failures_per_requester", 20, 1, 100000));
  h.lookup.window_s = cfg.get_int("lookup.window_s", 3600, 1, 86400 * 7);
  if (cfg.has("pipeline")) h.pipeline = pipeline::pipeline_options_from(cfg);
  if (cfg.has("sla")) {
    for (const char* key : {"sla.calendar", "sla.categories"}) {
      if (!cfg.has(key)) throw config::ConfigError(cfg.where("sla") + ": [sla] needs " + key);
    }
    h.sla = sla::SlaSettings::from_config(cfg);
  }
  if (cfg.has("hotspots")) {
    // The incident goes one tier up by the lifecycle policy's rule, which [sla] configures.
    if (!h.sla) throw config::ConfigError(cfg.where("hotspots") + ": [hotspots] needs [sla] (its tier-up rule routes a hotspot)");
    h.hotspots = HotspotSettings::from_config(cfg);
  }
  if (cfg.has("audit")) {
    for (const char* key : {"audit.checkpoint_dir", "audit.signing_key"}) {
      if (!cfg.has(key)) throw config::ConfigError(cfg.where("audit") + ": [audit] needs " + key);
    }
    log::CheckpointOptions a;
    a.dir = cfg.get_path("audit.checkpoint_dir");
    a.signing_key = cfg.get_path("audit.signing_key");
    a.every_records = static_cast<std::uint64_t>(cfg.get_int("audit.checkpoint_every", 10000, 1, 1'000'000'000));
    a.every_seconds = cfg.get_int("audit.checkpoint_seconds", 60, 1, 86400 * 365);
    h.audit = std::move(a);
  }
  if (cfg.get_enum("security.mode", "off", {"off", "curve"}) == "curve") {
    for (const char* key : {"security.secret_key_file", "security.identities"}) {
      if (!cfg.has(key)) throw config::ConfigError(cfg.where("security.mode") + ": mode \"curve\" needs " + key);
    }
    h.security.mode = auth::SecurityMode::kCurve;
  }
  if (cfg.has("security.secret_key_file")) h.security.secret_key_file = cfg.get_path("security.secret_key_file");
  if (cfg.has("security.identities")) h.security.identities = cfg.get_path("security.identities");
  if (cfg.has("admin")) {
    if (!cfg.has("admin.listen")) throw config::ConfigError(cfg.where("admin") + ": [admin] needs listen");
    admin::AdminOptions a{cfg.get_string("admin.listen"), cfg.get_bool("admin.allow_remote", false)};
    try {
      admin::validate(a);
    } catch (const std::invalid_argument& e) {
      throw config::ConfigError(cfg.where("admin.listen") + ": " + e.what());
    }
    h.admin = std::move(a);
  }
  return h;
}

HubConfig load_hub_config(const std::filesystem::path& file) {
  HubConfig h = hub_config_from(config::Config::load_file(file, hub_config_spec()));
  h.config_file = file;
  return h;
}

}  // namespace gridhub::core
