#pragma once
// --since / --until as the audit commands (replay, report) take them.

#include <cstdint>
#include <iostream>
#include <optional>
#include <string>
#include <utility>

#include "gridhub/audit/replay.hpp"

namespace gridhub::ctl {

/// Parses each non-empty text (RFC 3339 or YYYY-MM-DD, UTC) into its bound, in unix micros; false, with
/// the reason on stderr, at the first that does not parse.
inline bool parse_since_until(const std::string& since, const std::string& until, std::optional<std::int64_t>& since_micros,
                              std::optional<std::int64_t>& until_micros) {
  for (auto [text, slot] : {std::pair{&since, &since_micros}, std::pair{&until, &until_micros}}) {
    if (text->empty()) continue;
    auto t = gridhub::audit::parse_time(*text);
    if (!t) {
      std::cerr << "gridhubctl: " << t.error().detail << "\n";
      return false;
    }
    *slot = t.value();
  }
  return true;
}

}  // namespace gridhub::ctl
