// [log] in hub.toml: the backend and its keys, and the errors a wrong one gets (docs/jetstream.md).
#include <gtest/gtest.h>

#include "gridhub/core/hub_config.hpp"

namespace gridhub::core {
namespace {

const char* kBase =
    "[hub]\nlog_db = \"gridhub.db\"\n[ingest]\nendpoints = [\"ipc://in.sock\"]\n[stream]\nendpoints = [\"ipc://out.sock\"]\n";

HubConfig parse(const std::string& log_section) {
  return hub_config_from(config::Config::parse(std::string(kBase) + log_section, "hub.toml", "/etc/gridhub", hub_config_spec()));
}

std::string error_of(const std::string& log_section) {
  try {
    parse(log_section);
  } catch (const config::ConfigError& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(HubConfigLogTest, SqliteIsTheDefaultBackend) {
  EXPECT_FALSE(parse("").jetstream.has_value());
  EXPECT_FALSE(parse("[log]\nbackend = \"sqlite\"\n").jetstream.has_value());
}

TEST(HubConfigLogTest, JetStreamTakesServersStreamSubjectReplicasAndCredentials) {
  auto h = parse("[log]\nbackend = \"jetstream\"\nservers = [\"nats://10.0.0.1:4222\", \"nats://10.0.0.2:4222\"]\n"
                 "stream = \"WUGONG\"\nsubject = \"gridhub.wugong.log\"\nreplicas = 5\ncredentials = \"hub.creds\"\n"
                 "timeout_ms = 2000\n");
  ASSERT_TRUE(h.jetstream.has_value());
  EXPECT_EQ(h.jetstream->servers, (std::vector<std::string>{"nats://10.0.0.1:4222", "nats://10.0.0.2:4222"}));
  EXPECT_EQ(h.jetstream->stream, "WUGONG");
  EXPECT_EQ(h.jetstream->subject, "gridhub.wugong.log");
  EXPECT_EQ(h.jetstream->replicas, 5);
  EXPECT_EQ(h.jetstream->credentials, std::filesystem::path("/etc/gridhub/hub.creds"));
  EXPECT_EQ(h.jetstream->timeout, std::chrono::milliseconds(2000));
  auto d = parse("[log]\nbackend = \"jetstream\"\nservers = [\"nats://127.0.0.1:4222\"]\n");
  EXPECT_EQ(d.jetstream->replicas, 3);
  EXPECT_EQ(d.jetstream->stream, "GRIDHUB_LOG");
}

TEST(HubConfigLogTest, WrongLogSettingsFailNamingTheKey) {
  EXPECT_NE(error_of("[log]\nbackend = \"kafka\"\n").find("log.backend"), std::string::npos);
  EXPECT_NE(error_of("[log]\nbackend = \"jetstream\"\n").find("needs servers"), std::string::npos);
  EXPECT_NE(error_of("[log]\nbackend = \"jetstream\"\nservers = [\"127.0.0.1:4222\"]\n").find("not a nats://"),
            std::string::npos);
  EXPECT_NE(error_of("[log]\nbackend = \"jetstream\"\nservers = [\"nats://a:1\"]\nstream = \"a.b\"\n").find("log.stream"),
            std::string::npos);
  EXPECT_NE(error_of("[log]\nbackend = \"jetstream\"\nservers = [\"nats://a:1\"]\nsubject = \"log.>\"\n").find("log.subject"),
            std::string::npos);
  EXPECT_NE(error_of("[log]\nbackend = \"jetstream\"\nservers = [\"nats://a:1\"]\nreplicas = 7\n").find("log.replicas"),
            std::string::npos);
  EXPECT_NE(error_of("[log]\nservers = [\"nats://a:1\"]\n").find("only used with"), std::string::npos);
}

}  // namespace
}  // namespace gridhub::core
