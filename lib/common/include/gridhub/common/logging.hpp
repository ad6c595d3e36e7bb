#pragma once
/// Process-wide logging set-up: single lines on stderr, one place to choose the level and the format.
///
/// Formats: "text" (default), `2026-12-03T15:49:06.123+0000 gridhub info message`; "json", one JSON
/// object per line for log shippers (journald's JSON export, Vector, Fluent Bit, Loki's promtail):
///   {"time":"2026-12-03T15:49:06.123456Z","level":"info","process":"gridhub","pid":1234,"msg":"..."}
/// `time` is UTC with microseconds; `msg` is the message, its invalid UTF-8 replaced by U+FFFD so every
/// line parses. Config keys: hub.log_format, adapter.log_format (and gridhub's --log-format).

#include <cstdint>
#include <string>
#include <string_view>

namespace gridhub::logging {

/// level: trace|debug|info|warn|error|off; format: text|json. Throws std::invalid_argument on anything else.
void setup(const std::string& process_name, const std::string& level, const std::string& format = "text");

/// One record as a "json" line (newline included); what the json format writes. For tests.
std::string json_line(std::string_view process, std::string_view level, std::int64_t unix_micros, int pid,
                      std::string_view message);

}  // namespace gridhub::logging
