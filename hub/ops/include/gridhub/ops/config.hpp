#pragma once
/// gridhub-ops configuration: one [ops] table (examples/wugong/ops.toml).
///
///   ops.stream            required  the hub's stream endpoint ("tcp://127.0.0.1:5571")
///   ops.world_dir         required  the county's world folder (grids.csv with polygons, communities, departments, categories)
///   ops.listen            "127.0.0.1:8090"  host:port of the page; port 0 = any free port
///   ops.allow_remote      false     allow a non-loopback listen (the page has no login of its own)
///   ops.subscription      "ops"     the durable subscription's name at the hub
///   ops.server_key        ""        the hub's CURVE public key (Z85) when it runs [security] mode "curve"
///   ops.key               ""        this process's CURVE secret key file (an identity with a read-only role: auditor)
///   ops.hub_admin         ""        host:port of the hub's [admin] endpoint: log head and dead letters from /metrics
///   ops.state_file        ""        where the picture is saved (every 30 s and at stop) so a restart resumes after its seq
///   ops.title             "网格治理运行总览"  the page's heading
///   ops.push_interval_ms  250       at most one update per this interval to each open page
///   ops.log_level         "info"
///   ops.log_format        "text"    or "json"

#include <filesystem>
#include <string>

namespace gridhub::ops {

struct OpsConfig {
  std::string stream;
  std::filesystem::path world_dir;
  std::string listen = "127.0.0.1:8090";
  bool allow_remote = false;
  std::string subscription = "ops";
  std::string server_key;
  std::filesystem::path key_file;
  std::string hub_admin;
  std::filesystem::path state_file;
  std::string title = "网格治理运行总览";
  int push_interval_ms = 250;
  std::string log_level = "info";
  std::string log_format = "text";
};

/// Reads and checks the file; throws gridhub::config::ConfigError naming file, key and line.
OpsConfig load_ops_config(const std::filesystem::path& file);

}  // namespace gridhub::ops
