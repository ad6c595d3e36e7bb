#pragma once
/// The hub's configuration file: its declared keys and their translation into component options.
///
/// | key                        | type     | default                  | meaning |
/// |----------------------------|----------|--------------------------|---------|
/// | hub.log_db                 | string   | (required)               | SQLite file of the event log (relative: to the config file) |
/// | hub.durability             | string   | "full"                   | "full": fsync per commit; "normal": fsync at checkpoints |
/// | hub.log_level              | string   | "info"                   | trace, debug, info, warn, error |
/// | ingest.endpoints           | [string] | (required)               | ROUTER endpoints adapters connect to |
/// | ingest.max_frame_bytes     | int      | 1048576                  | larger frames are nacked too_large |
/// | ingest.max_batch           | int      | 1000                     | events per commit at most |
/// | ingest.max_pending         | int      | 16384                    | queued events before intake pauses |
/// | stream.endpoints           | [string] | (required)               | ROUTER endpoints subscribers connect to |
/// | stream.max_credit          | int      | 1000                     | records in flight per subscriber |
/// | stream.session_timeout_ms  | int      | 30000                    | silent subscribers are dropped after this |
/// | pipeline.*, plugins.*      |          |                          | the routing pipeline (gridhub/pipeline/pipeline.hpp) |

#include <filesystem>
#include <optional>
#include <string>

#include "gridhub/common/config.hpp"
#include "gridhub/core/ingest_server.hpp"
#include "gridhub/core/stream_server.hpp"
#include "gridhub/log/event_log.hpp"
#include "gridhub/pipeline/pipeline.hpp"

namespace gridhub::core {

const config::Spec& hub_config_spec();

struct HubConfig {
  std::filesystem::path config_file;   // where this came from (reloads read it again)
  std::filesystem::path log_db;
  log::LogOptions log;
  std::string log_level;
  IngestOptions ingest;
  StreamOptions stream;
  /// Absent when the file has no [pipeline] section: tickets are then stored unrouted.
  std::optional<pipeline::PipelineOptions> pipeline;
};

/// Loads and validates; throws config::ConfigError naming file, key and line.
HubConfig load_hub_config(const std::filesystem::path& file);
HubConfig hub_config_from(const config::Config& cfg);

}  // namespace gridhub::core
