#include "gridhub/common/logging.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

namespace gridhub::logging {
namespace {

boost::json::object parsed(const std::string& line) {
  EXPECT_EQ(line.back(), '\n');
  boost::system::error_code ec;
  auto v = boost::json::parse(line, ec);
  EXPECT_FALSE(ec) << line;
  return ec ? boost::json::object{} : v.as_object();
}

TEST(JsonLogLine, CarriesTimeLevelProcessPidAndMessageAsOneObject) {
  const auto o = parsed(json_line("gridhub", "info", 1'764'776'946'123'456, 42, "hub: log gridhub.db at seq 7"));
  EXPECT_EQ(o.at("time").as_string(), "2025-12-03T15:49:06.123456Z");
  EXPECT_EQ(o.at("level").as_string(), "info");
  EXPECT_EQ(o.at("process").as_string(), "gridhub");
  EXPECT_EQ(o.at("pid").as_int64(), 42);
  EXPECT_EQ(o.at("msg").as_string(), "hub: log gridhub.db at seq 7");
}

TEST(JsonLogLine, EscapesQuotesAndNewlinesAndKeepsChinese) {
  const auto o = parsed(json_line("gridhub-hotline", "warn", 0, 1, "row 3: \"来电人\"\nnext\tline \\"));
  EXPECT_EQ(o.at("msg").as_string(), "row 3: \"来电人\"\nnext\tline \\");
  EXPECT_EQ(o.at("time").as_string(), "1970-01-01T00:00:00.000000Z");
}

TEST(JsonLogLine, ReplacesInvalidUtf8SoEveryLineParses) {
  // A GBK byte pair from a mis-declared file, a lone continuation byte, a truncated sequence and an
  // encoded surrogate: each invalid byte becomes U+FFFD.
  const auto o = parsed(json_line("gridhub", "error", 0, 1, std::string("a\xC0\xB2z \x80 \xE6\x9D \xED\xA0\x80!")));
  EXPECT_EQ(o.at("msg").as_string(), "a\xEF\xBF\xBD\xEF\xBF\xBDz \xEF\xBF\xBD \xEF\xBF\xBD\xEF\xBF\xBD \xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD!");
}

TEST(LoggingSetup, RefusesAnUnknownFormat) {
  EXPECT_THROW(setup("gridhub-logging-test", "info", "xml"), std::invalid_argument);
}

}  // namespace
}  // namespace gridhub::logging
