#pragma once
// `--server-key Z85 --key FILE`: how gridhubctl talks CURVE to a hub in [security] mode "curve".

#include <optional>
#include <string>

#include <CLI/CLI.hpp>
#include <zmq.hpp>

#include "gridhub/transport/curve.hpp"

namespace gridhub::ctl {

/// The client's CURVE options (both or neither).
struct CurveClient {
  std::string server_key;
  std::string key_file;
  std::optional<gridhub::transport::CurveKeyPair> keys;

  /// Loads the key file; false (with the reason on stderr) when the options are unusable.
  bool load();
  /// Makes `s` a CURVE client of the hub, when keys were given.
  void apply(zmq::socket_t& s) const;
};

/// Adds --server-key and --key to `cmd`, filling `curve`.
void add_curve_options(CLI::App* cmd, CurveClient& curve);

}  // namespace gridhub::ctl
