#pragma once
/// Process-wide logging set-up: structured-ish single lines on stderr, one place to choose the level.

#include <string>

namespace gridhub::logging {

/// level: trace|debug|info|warn|error|off. Throws std::invalid_argument on anything else.
void setup(const std::string& process_name, const std::string& level);

}  // namespace gridhub::logging
