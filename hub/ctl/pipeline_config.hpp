#pragma once
// The hub configuration whose [pipeline] `route` and `reroute` run offline.

#include <exception>
#include <iostream>
#include <optional>
#include <string>

#include "gridhub/core/hub_config.hpp"

namespace gridhub::ctl {

/// The configuration in `file`; nullopt, with the reason on stderr, when it does not load or has no
/// [pipeline] section (both exit 2: a bad configuration).
inline std::optional<gridhub::core::HubConfig> load_pipeline_config(const std::string& file) {
  gridhub::core::HubConfig cfg;
  try {
    cfg = gridhub::core::load_hub_config(file);
  } catch (const std::exception& e) {
    std::cerr << "gridhubctl: " << e.what() << "\n";
    return std::nullopt;
  }
  if (!cfg.pipeline) {
    std::cerr << "gridhubctl: " << file << " has no [pipeline] section: nothing to route with\n";
    return std::nullopt;
  }
  return cfg;
}

}  // namespace gridhub::ctl
