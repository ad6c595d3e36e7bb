#include "gridhub/common/logging.hpp"

#include <spdlog/formatter.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <chrono>
#include <ctime>
#include <stdexcept>

#include <fmt/format.h>

namespace gridhub::logging {
namespace {

/// Length of the valid UTF-8 sequence at s[i], or 0 (overlong forms, surrogates and values past
/// U+10FFFF are invalid, as RFC 3629 says).
std::size_t utf8_sequence(std::string_view s, std::size_t i) {
  const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = b(i);
  if (c < 0x80) return 1;
  std::size_t n = 0;
  unsigned char lo = 0x80, hi = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  if (b(i + 1) < lo || b(i + 1) > hi) return 0;
  for (std::size_t k = 2; k < n; ++k) {
    if (b(i + k) < 0x80 || b(i + k) > 0xBF) return 0;
  }
  return n;
}

std::string valid_utf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    const std::size_t n = utf8_sequence(s, i);
    if (n == 0) {
      out += "\xEF\xBF\xBD";
      ++i;
    } else {
      out.append(s.data() + i, n);
      i += n;
    }
  }
  return out;
}

class JsonFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    const auto micros =
        std::chrono::duration_cast<std::chrono::microseconds>(msg.time.time_since_epoch()).count();
    const auto level = spdlog::level::to_string_view(msg.level);
    const std::string line = json_line(std::string_view(msg.logger_name.data(), msg.logger_name.size()),
                                       std::string_view(level.data(), level.size()), micros, pid_,
                                       std::string_view(msg.payload.data(), msg.payload.size()));
    dest.append(line.data(), line.data() + line.size());
  }
  std::unique_ptr<spdlog::formatter> clone() const override { return std::make_unique<JsonFormatter>(); }

 private:
  int pid_ = static_cast<int>(::getpid());
};

}  // namespace

std::string json_line(std::string_view process, std::string_view level, std::int64_t unix_micros, int pid,
                      std::string_view message) {
  const std::time_t secs = static_cast<std::time_t>(unix_micros / 1'000'000);
  std::tm tm{};
  ::gmtime_r(&secs, &tm);
  const std::string time = fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                                       tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, unix_micros % 1'000'000);
  boost::json::object o;
  o["time"] = time;
  o["level"] = boost::json::string_view(level.data(), level.size());
  o["process"] = valid_utf8(process);
  o["pid"] = pid;
  o["msg"] = valid_utf8(message);
  return boost::json::serialize(o) + "\n";
}

void setup(const std::string& process_name, const std::string& level, const std::string& format) {
  auto lvl = spdlog::level::from_str(level);
  if (lvl == spdlog::level::off && level != "off") {
    throw std::invalid_argument("log level '" + level + "' is not one of trace, debug, info, warn, error, off");
  }
  std::shared_ptr<spdlog::logger> logger;
  if (format == "text") {
    logger = spdlog::stderr_color_mt(process_name);
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e%z %n %^%l%$ %v");
  } else if (format == "json") {
    logger = spdlog::stderr_logger_mt(process_name);   // no colour codes inside the JSON
    logger->set_formatter(std::make_unique<JsonFormatter>());
  } else {
    throw std::invalid_argument("log format '" + format + "' is not one of text, json");
  }
  logger->set_level(lvl);
  spdlog::set_default_logger(logger);
}

}  // namespace gridhub::logging
