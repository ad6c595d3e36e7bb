#include "gridhub/common/config.hpp"

#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "../../testing/temp_dir.hpp"

namespace gridhub::config {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

const Spec& test_spec() {
  static const Spec spec = {
      {"hub.name", Type::kString, true, "the hub's display name"},
      {"hub.mode", Type::kString, false, "fast or safe"},
      {"hub.debug", Type::kBoolean, false, "verbose diagnostics"},
      {"ingest.endpoints", Type::kStringArray, true, "where adapters connect"},
      {"ingest.max_batch", Type::kInteger, false, "events per commit"},
      {"ingest.ratio", Type::kFloat, false, "a tuning factor"},
      {"log.path", Type::kString, false, "the log database file"},
      {"hotline.columns", Type::kStringMap, false, "export column -> event field"},
  };
  return spec;
}

// Line numbers in the comments are what error messages must point at.
constexpr const char* kValid =
    "[hub]\n"                                        // 1
    "name = \"county hub\"\n"                        // 2
    "mode = \"safe\"\n"                              // 3
    "debug = true\n"                                 // 4
    "\n"                                             // 5
    "[ingest]\n"                                     // 6
    "endpoints = [\"tcp://127.0.0.1:7001\"]\n"       // 7
    "max_batch = 64\n"                               // 8
    "ratio = 2\n"                                    // 9
    "\n"                                             // 10
    "[log]\n"                                        // 11
    "path = \"var/log.db\"\n"                        // 12
    "\n"                                             // 13
    "[hotline.columns]\n"                            // 14
    "\"工单编号\" = \"source_key\"\n"                 // 15
    "\"来电时间\" = \"reported_at\"\n";               // 16

Config parse(std::string_view text, std::filesystem::path base = "/etc/gridhub") {
  return Config::parse(text, "hub.toml", std::move(base), test_spec());
}

/// Runs `fn`, which must throw ConfigError, and returns the message.
std::string config_error(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const ConfigError& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected a ConfigError";
  return {};
}

TEST(Config, ValidFileParsesAndGettersReturnItsValues) {
  Config cfg = parse(kValid);
  EXPECT_EQ(cfg.get_string("hub.name"), "county hub");
  EXPECT_TRUE(cfg.get_bool("hub.debug", false));
  EXPECT_EQ(cfg.get_int("ingest.max_batch", 1, 1, 1000), 64);
  EXPECT_EQ(cfg.get_strings("ingest.endpoints"), std::vector<std::string>{"tcp://127.0.0.1:7001"});
  EXPECT_TRUE(cfg.has("log.path"));
  EXPECT_FALSE(cfg.has("hub.nothing"));
  EXPECT_EQ(cfg.source_name(), "hub.toml");
}

TEST(Config, AbsentOptionalKeysYieldTheirFallbacks) {
  Config cfg = parse("hub.name = \"x\"\ningest.endpoints = []\n");
  EXPECT_EQ(cfg.get_string("hub.mode", "fast"), "fast");
  EXPECT_EQ(cfg.get_int("ingest.max_batch", 32, 1, 1000), 32);
  EXPECT_FALSE(cfg.get_bool("hub.debug", false));
  EXPECT_TRUE(cfg.get_string_map("hotline.columns").empty());
}

TEST(Config, UnknownKeyNamesFileLineFullDottedKeyAndSuggestsKnownKeys) {
  const std::string msg = config_error([] {
    parse("[hub]\n"
          "name = \"x\"\n"
          "[ingest]\n"
          "endpoints = []\n"
          "max_bacth = 3\n");  // line 5, a typo
  });
  EXPECT_THAT(msg, AllOf(HasSubstr("hub.toml:5"), HasSubstr("'ingest.max_bacth'"), HasSubstr("max_batch"),
                         HasSubstr("endpoints")));
}

TEST(Config, UnknownTopLevelTableIsRejectedAtItsLine) {
  const std::string msg = config_error([] {
    parse("hub.name = \"x\"\n"
          "ingest.endpoints = []\n"
          "[metrics]\n"  // line 3: no such section
          "port = 9100\n");
  });
  EXPECT_THAT(msg, AllOf(HasSubstr("hub.toml:3"), HasSubstr("'metrics'"), HasSubstr("hub"), HasSubstr("ingest")));
}

TEST(Config, UnknownKeyWrittenAsDottedKeyIsRejectedWithItsFullPath) {
  const std::string msg = config_error([] {
    parse("hub.name = \"x\"\n"
          "ingest.endpoints = []\n"
          "log.pth = \"a.db\"\n");  // line 3
  });
  EXPECT_THAT(msg, AllOf(HasSubstr("hub.toml:3"), HasSubstr("'log.pth'"), HasSubstr("path")));
}

TEST(Config, WrongTypeNamesKeyLineAndExpectedType) {
  const std::string msg = config_error([] {
    parse("[hub]\n"
          "name = \"x\"\n"
          "[ingest]\n"
          "endpoints = []\n"
          "max_batch = \"sixty-four\"\n");  // line 5
  });
  EXPECT_THAT(msg, AllOf(HasSubstr("hub.toml:5"), HasSubstr("'ingest.max_batch'"), HasSubstr("integer")));
}

TEST(Config, StringArrayWithANonStringElementIsAWrongType) {
  const std::string msg = config_error([] {
    parse("hub.name = \"x\"\n"
          "ingest.endpoints = [\"tcp://127.0.0.1:1\", 7002]\n");  // line 2
  });
  EXPECT_THAT(msg, AllOf(HasSubstr("hub.toml:2"), HasSubstr("'ingest.endpoints'"), HasSubstr("array of strings")));
}

TEST(Config, FloatKeyAcceptsIntegersButNotStrings) {
  EXPECT_NO_THROW(parse("hub.name = \"x\"\ningest.endpoints = []\ningest.ratio = 3\n"));
  EXPECT_NO_THROW(parse("hub.name = \"x\"\ningest.endpoints = []\ningest.ratio = 0.5\n"));
  EXPECT_THAT(config_error([] { parse("hub.name = \"x\"\ningest.endpoints = []\ningest.ratio = \"1.5\"\n"); }),
              AllOf(HasSubstr("hub.toml:3"), HasSubstr("'ingest.ratio'")));
}

TEST(Config, MissingRequiredKeyIsNamed) {
  const std::string msg = config_error([] { parse("[ingest]\nendpoints = []\n"); });
  EXPECT_THAT(msg, AllOf(HasSubstr("hub.toml"), HasSubstr("'hub.name'"), HasSubstr("required")));
}

TEST(Config, TomlSyntaxErrorNamesFileAndLine) {
  const std::string msg = config_error([] {
    parse("hub.name = \"x\"\n"
          "ingest.endpoints = [\n"
          "[broken\n");  // line 3
  });
  EXPECT_THAT(msg, HasSubstr("hub.toml:3"));
}

TEST(Config, GetIntOutOfRangeNamesFileLineKeyAndRange) {
  Config cfg = parse("hub.name = \"x\"\n"
                     "ingest.endpoints = []\n"
                     "ingest.max_batch = 5000\n");  // line 3
  const std::string msg = config_error([&] { (void)cfg.get_int("ingest.max_batch", 64, 1, 1000); });
  EXPECT_THAT(msg, AllOf(HasSubstr("hub.toml:3"), HasSubstr("ingest.max_batch"), HasSubstr("5000"),
                         HasSubstr("[1, 1000]")));
  // The bounds are inclusive.
  EXPECT_EQ(cfg.get_int("ingest.max_batch", 64, 1, 5000), 5000);
  EXPECT_EQ(cfg.get_int("ingest.max_batch", 64, 5000, 6000), 5000);
  EXPECT_THROW((void)cfg.get_int("ingest.max_batch", 64, 5001, 6000), ConfigError);
}

TEST(Config, GetEnumRejectsAnUnlistedValueAndListsTheAllowedOnes) {
  Config cfg = parse("hub.name = \"x\"\n"
                     "hub.mode = \"turbo\"\n"  // line 2
                     "ingest.endpoints = []\n");
  const std::string msg = config_error([&] { (void)cfg.get_enum("hub.mode", "safe", {"fast", "safe"}); });
  EXPECT_THAT(msg, AllOf(HasSubstr("hub.toml:2"), HasSubstr("hub.mode"), HasSubstr("turbo"), HasSubstr("fast"),
                         HasSubstr("safe")));

  Config ok = parse(kValid);
  EXPECT_EQ(ok.get_enum("hub.mode", "fast", {"fast", "safe"}), "safe");
  Config absent = parse("hub.name = \"x\"\ningest.endpoints = []\n");
  EXPECT_EQ(absent.get_enum("hub.mode", "fast", {"fast", "safe"}), "fast");
}

TEST(Config, RelativePathsResolveAgainstTheConfigFolder) {
  Config cfg = parse(kValid, "/etc/gridhub");
  EXPECT_EQ(cfg.get_path("log.path"), std::filesystem::path("/etc/gridhub/var/log.db"));
  // A relative fallback is relative to the config file too.
  EXPECT_EQ(cfg.get_path("hub.nothing", "run/x.db"), std::filesystem::path("/etc/gridhub/run/x.db"));

  Config up = parse("hub.name = \"x\"\ningest.endpoints = []\nlog.path = \"../data/./log.db\"\n", "/etc/gridhub");
  EXPECT_EQ(up.get_path("log.path"), std::filesystem::path("/etc/data/log.db"));

  Config abs = parse("hub.name = \"x\"\ningest.endpoints = []\nlog.path = \"/var/lib/gridhub/log.db\"\n",
                     "/etc/gridhub");
  EXPECT_EQ(abs.get_path("log.path"), std::filesystem::path("/var/lib/gridhub/log.db"));
}

TEST(Config, IpcEndpointsResolveAgainstTheConfigFolderOthersAreUnchanged) {
  Config cfg = parse("hub.name = \"x\"\n"
                     "ingest.endpoints = [\"ipc://run/ingest.sock\", \"tcp://127.0.0.1:7001\", "
                     "\"ipc:///tmp/abs.sock\"]\n",
                     "/etc/gridhub");
  EXPECT_EQ(cfg.get_endpoints("ingest.endpoints"),
            (std::vector<std::string>{"ipc:///etc/gridhub/run/ingest.sock", "tcp://127.0.0.1:7001",
                                      "ipc:///tmp/abs.sock"}));
}

TEST(Config, EndpointWithoutTransportIsRejectedNamingKeyAndLine) {
  Config cfg = parse("hub.name = \"x\"\n"
                     "ingest.endpoints = [\"127.0.0.1:7001\"]\n");  // line 2
  EXPECT_THAT(config_error([&] { (void)cfg.get_endpoints("ingest.endpoints"); }),
              AllOf(HasSubstr("hub.toml:2"), HasSubstr("ingest.endpoints"), HasSubstr("127.0.0.1:7001")));
}

TEST(Config, StringMapAcceptsFreeKeys) {
  Config cfg = parse(kValid);
  const std::map<std::string, std::string> expected{{"工单编号", "source_key"}, {"来电时间", "reported_at"}};
  EXPECT_EQ(cfg.get_string_map("hotline.columns"), expected);
}

TEST(Config, StringMapRejectsNonStringValues) {
  const std::string msg = config_error([] {
    parse("hub.name = \"x\"\n"
          "ingest.endpoints = []\n"
          "[hotline.columns]\n"
          "\"工单编号\" = \"source_key\"\n"
          "\"来电时间\" = 5\n");
  });
  // The error points at the offending entry's own line, not at the table header.
  EXPECT_THAT(msg, AllOf(HasSubstr("hub.toml:5"), HasSubstr("'hotline.columns.来电时间'"), HasSubstr("must be a string")));

  EXPECT_THROW(parse("hub.name = \"x\"\n"
                     "ingest.endpoints = []\n"
                     "[hotline.columns.nested]\n"
                     "a = \"b\"\n"),
               ConfigError);
}

TEST(Config, LoadFileResolvesAgainstTheFilesFolder) {
  gridhub::testing::TempDir dir;
  const auto file = dir.write("etc/hub.toml",
                              "hub.name = \"x\"\n"
                              "ingest.endpoints = [\"ipc://run/ingest.sock\"]\n"
                              "log.path = \"var/log.db\"\n");
  Config cfg = Config::load_file(file, test_spec());
  EXPECT_EQ(cfg.base_dir(), dir.path() / "etc");
  EXPECT_EQ(cfg.get_path("log.path"), dir.path() / "etc/var/log.db");
  EXPECT_EQ(cfg.get_endpoints("ingest.endpoints"),
            std::vector<std::string>{"ipc://" + (dir.path() / "etc/run/ingest.sock").string()});
}

TEST(Config, LoadFileErrorsNameTheFileAndLine) {
  gridhub::testing::TempDir dir;
  const auto file = dir.write("etc/hub.toml",
                              "hub.name = \"x\"\n"
                              "ingest.endpoints = []\n"
                              "ingest.max_batch = true\n");  // line 3
  EXPECT_THAT(config_error([&] { (void)Config::load_file(file, test_spec()); }),
              AllOf(HasSubstr(file.string() + ":3"), HasSubstr("'ingest.max_batch'")));
}

TEST(Config, LoadFileOfAMissingFileIsAConfigErrorNamingIt) {
  gridhub::testing::TempDir dir;
  const auto file = dir / "nope.toml";
  EXPECT_THAT(config_error([&] { (void)Config::load_file(file, test_spec()); }), HasSubstr(file.string()));
}

}  // namespace
}  // namespace gridhub::config
