#include "gridhub/admin/admin_server.hpp"

#include <stdexcept>
#include <thread>

#include <gtest/gtest.h>

#include "../../testing/http_client.hpp"

namespace gridhub::admin {
namespace {

using gridhub::testing::HttpClient;

TEST(AdminOptions, ANonLoopbackAddressNeedsAllowRemote) {
  EXPECT_NO_THROW(validate({"127.0.0.1:9464", false}));
  EXPECT_NO_THROW(validate({"[::1]:0", false}));
  EXPECT_NO_THROW(validate({"localhost:0", false}));
  try {
    validate({"0.0.0.0:9464", false});
    FAIL() << "0.0.0.0 accepted without allow_remote";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("allow_remote"), std::string::npos) << e.what();
  }
  EXPECT_NO_THROW(validate({"0.0.0.0:9464", true}));
  EXPECT_THROW(validate({"admin.example:9464", true}), std::invalid_argument);
}

TEST(AdminServer, IsNotReadyAndServesNoMetricsUntilTheHubIsAttached) {
  AdminServer server({"127.0.0.1:0", false});
  ASSERT_TRUE(server.start().ok());
  EXPECT_EQ(server.ready_line(), "ADMIN http=127.0.0.1:" + std::to_string(server.port()));
  HttpClient c("127.0.0.1:" + std::to_string(server.port()));
  EXPECT_EQ(c.request("GET", "/healthz").status, 200u);
  auto r = c.request("GET", "/readyz");
  EXPECT_EQ(r.status, 503u);
  EXPECT_NE(r.body.find("starting"), std::string::npos) << r.body;
  EXPECT_EQ(c.request("GET", "/metrics").status, 503u);

  std::string why = "draining: the hub is stopping";
  server.attach(
      [](std::function<void(std::string)> reply) {
        // Answers from another thread, as the hub's io thread does.
        std::thread([reply] { reply("# HELP x y\n# TYPE x gauge\nx 1\n"); }).join();
      },
      [&why] { return why; });
  r = c.request("GET", "/readyz");
  EXPECT_EQ(r.status, 503u);
  EXPECT_EQ(r.body, "draining: the hub is stopping\n");
  why.clear();
  EXPECT_EQ(c.request("GET", "/readyz").status, 200u);
  auto m = c.request("GET", "/metrics");
  EXPECT_EQ(m.status, 200u);
  EXPECT_EQ(m.body, "# HELP x y\n# TYPE x gauge\nx 1\n");
  EXPECT_EQ(m.header("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");

  server.detach();
  EXPECT_EQ(c.request("GET", "/readyz").status, 503u);
}

}  // namespace
}  // namespace gridhub::admin
