// The JSON log format for log shippers, from real processes: every line a hub and an adapter write to
// stderr parses as one JSON object with the documented fields.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <sstream>
#include <string>
#include <vector>

#include "process.hpp"

namespace gridhub::testing {
namespace {

/// Every line of `text`, each parsed; a line that does not parse fails the test, naming it.
std::vector<boost::json::object> parse_lines(const std::string& text) {
  std::vector<boost::json::object> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    boost::system::error_code ec;
    auto v = boost::json::parse(line, ec);
    EXPECT_FALSE(ec) << "not JSON: " << line;
    if (ec) continue;
    EXPECT_TRUE(v.is_object()) << line;
    if (!v.is_object()) continue;
    const auto& o = v.as_object();
    for (const char* key : {"time", "level", "process", "msg"}) {
      EXPECT_TRUE(o.contains(key) && o.at(key).is_string()) << key << " in " << line;
    }
    EXPECT_TRUE(o.contains("pid") && o.at("pid").is_int64()) << line;
    out.push_back(o);
  }
  return out;
}

bool has_message_starting(const std::vector<boost::json::object>& lines, const std::string& prefix) {
  for (const auto& o : lines) {
    if (o.contains("msg") && o.at("msg").is_string() && std::string(o.at("msg").as_string()).rfind(prefix, 0) == 0) return true;
  }
  return false;
}

TEST(JsonLogTest, EveryLineOfAHubAndAnAdapterRunInJsonFormatParsesAsOneObject) {
  TempDir dir;
  HubProcess hub(dir.path());
  hub.start({"--log-format", "json"});
  const auto cfg = write_hotline_config(dir.path(), "hotline", hub.ingest(), "log_format = \"json\"\n");
  auto [rc, out] = run({bin("gridhub-hotline"), "-c", cfg.string(), source_path("examples/wugong/hotline/export_20240506-20240516.csv")},
                       dir / "hotline.stderr");
  ASSERT_EQ(rc, 0) << out << slurp(dir / "hotline.stderr");
  ASSERT_EQ(hub.terminate(), 0) << slurp(hub.stderr_file());

  const auto hub_lines = parse_lines(slurp(hub.stderr_file()));
  EXPECT_GE(hub_lines.size(), 3u);
  EXPECT_TRUE(has_message_starting(hub_lines, "READY ingest=")) << slurp(hub.stderr_file());
  EXPECT_TRUE(has_message_starting(hub_lines, "stopped")) << slurp(hub.stderr_file());
  for (const auto& o : hub_lines) {
    EXPECT_EQ(o.at("process").as_string(), "gridhub");
    const std::string time(o.at("time").as_string());
    EXPECT_EQ(time.size(), std::string("2026-12-03T15:49:06.123456Z").size()) << time;
    EXPECT_EQ(time.back(), 'Z') << time;
  }
  const std::string adapter_err = slurp(dir / "hotline.stderr");
  const auto adapter_lines = parse_lines(adapter_err);
  EXPECT_FALSE(adapter_lines.empty()) << adapter_err;
  for (const auto& o : adapter_lines) EXPECT_EQ(o.at("process").as_string(), "gridhub-hotline");
}

}  // namespace
}  // namespace gridhub::testing
