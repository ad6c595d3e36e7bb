#include "gridhub/adapter/http_server.hpp"

#include <thread>

#include <gtest/gtest.h>

#include "../../testing/http_client.hpp"
#include "gridhub/adapter/metrics.hpp"

namespace gridhub::adapter {
namespace {

using gridhub::testing::HttpClient;

/// A server on 127.0.0.1:0 with its io_context on a thread of its own.
class ServerFixture : public ::testing::Test {
 protected:
  void start(HttpServerOptions options = {}) {
    server_.emplace(io_, std::move(options), &metrics_);
    server_->route("GET", "/echo", [](const HttpRequest& r) {
      return HttpResponse::text(200, std::string(r.param("a")) + "|" + std::string(r.param("b")) + "|" +
                                         std::string(r.header("X-Test")) + "|" + r.path);
    });
    server_->route("POST", "/echo", [](const HttpRequest& r) { return HttpResponse::text(201, r.body); });
    server_->route("GET", "/throws", [](const HttpRequest&) -> HttpResponse { throw std::runtime_error("boom"); });
    server_->route_async("POST", "/later", [](const HttpRequest& r, HttpResponder respond) {
      std::thread([respond, body = r.body] { respond(HttpResponse::text(202, "later:" + body)); }).detach();
    });
    ASSERT_TRUE(server_->start().ok());
    address_ = "127.0.0.1:" + std::to_string(server_->port());
    thread_ = std::thread([this] { io_.run(); });
  }
  void TearDown() override {
    if (server_) boost::asio::post(io_, [this] { server_->stop(); });
    if (thread_.joinable()) thread_.join();
  }

  boost::asio::io_context io_;
  Metrics metrics_;
  std::optional<HttpServer> server_;
  std::thread thread_;
  std::string address_;
};

TEST_F(ServerFixture, DecodesPathQueryAndHeadersAndKeepsTheConnectionAlive) {
  start();
  EXPECT_EQ(server_->ready_line(), "READY http=" + address_);
  HttpClient c(address_);
  auto r = c.request("GET", "/ec%68o?a=%E5%B9%B8%E7%A6%8F+%E8%B7%AF&b=x%26y&a=second", {}, {}, {{"X-Test", "v1"}});
  EXPECT_EQ(r.status, 200u);
  EXPECT_EQ(r.body, "幸福 路|x&y|v1|/echo");
  EXPECT_TRUE(r.keep_alive);
  auto r2 = c.request("POST", "/echo", "body bytes");   // same connection
  EXPECT_EQ(r2.status, 201u);
  EXPECT_EQ(r2.body, "body bytes");
}

TEST_F(ServerFixture, AnswersUnknownPathsAndMethodsAndHandlerFailures) {
  start();
  HttpClient c(address_);
  EXPECT_EQ(c.request("GET", "/nope").status, 404u);
  auto r = c.request("DELETE", "/echo");
  EXPECT_EQ(r.status, 405u);
  EXPECT_EQ(r.header("Allow"), "GET, POST");
  auto t = c.request("GET", "/throws");
  EXPECT_EQ(t.status, 500u);
  EXPECT_NE(t.body.find("GET /throws from 127.0.0.1:"), std::string::npos) << t.body;
  EXPECT_NE(t.body.find("boom"), std::string::npos);
  EXPECT_EQ(c.request("GET", "/healthz").status, 200u);   // the connection survived all of it
}

TEST_F(ServerFixture, AsyncHandlersMayAnswerFromAnotherThread) {
  start();
  HttpClient c(address_);
  for (int i = 0; i < 3; ++i) {
    auto r = c.request("POST", "/later", "n" + std::to_string(i));
    EXPECT_EQ(r.status, 202u);
    EXPECT_EQ(r.body, "later:n" + std::to_string(i));
  }
}

TEST_F(ServerFixture, BodiesOverTheLimitGet413AndTheConnectionCloses) {
  HttpServerOptions o;
  o.body_limit = 100;
  start(o);
  HttpClient c(address_);
  EXPECT_EQ(c.request("POST", "/echo", std::string(100, 'x')).status, 201u);
  auto r = c.request("POST", "/echo", std::string(101, 'x'));
  EXPECT_EQ(r.status, 413u);
  EXPECT_FALSE(r.keep_alive);
  EXPECT_NE(r.body.find("100 bytes"), std::string::npos) << r.body;
  // Chunked bodies are held to the same limit.
  HttpClient c2(address_);
  c2.send_raw("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n80\r\n" + std::string(128, 'y') +
              "\r\n0\r\n\r\n");
  EXPECT_EQ(c2.read().status, 413u);
}

TEST_F(ServerFixture, GarbageGets400AndASlowHeaderGets408) {
  HttpServerOptions o;
  o.header_timeout = std::chrono::milliseconds(200);
  start(o);
  HttpClient c(address_);
  c.send_raw("THIS IS NOT HTTP\r\n\r\n");
  EXPECT_EQ(c.read().status, 400u);
  HttpClient slow(address_);
  slow.send_raw("GET /echo HTTP/1.1\r\nHost: x\r\n");   // never finished
  auto r = slow.read();
  EXPECT_EQ(r.status, 408u);
  EXPECT_NE(r.body.find("request header"), std::string::npos) << r.body;
}

TEST_F(ServerFixture, MetricsCountAnswersByStatus) {
  start();
  HttpClient c(address_);
  c.request("GET", "/nope");
  c.request("GET", "/nope");
  c.request("GET", "/echo");
  auto m = c.request("GET", "/metrics");
  EXPECT_EQ(m.status, 200u);
  EXPECT_EQ(m.header("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_NE(m.body.find("# TYPE gridhub_http_requests_total counter\n"), std::string::npos) << m.body;
  EXPECT_NE(m.body.find("gridhub_http_requests_total{status=\"404\"} 2\n"), std::string::npos) << m.body;
  EXPECT_NE(m.body.find("gridhub_http_requests_total{status=\"200\"} 1\n"), std::string::npos) << m.body;
}

TEST(HttpServerListen, ParsesAddressesAndRejectsNames) {
  EXPECT_EQ(HttpServer::parse_listen("127.0.0.1:0"), (std::pair<std::string, unsigned short>{"127.0.0.1", 0}));
  EXPECT_EQ(HttpServer::parse_listen("[::1]:8080"), (std::pair<std::string, unsigned short>{"::1", 8080}));
  EXPECT_THROW(HttpServer::parse_listen("example.invalid:80"), std::invalid_argument);
  EXPECT_THROW(HttpServer::parse_listen("127.0.0.1:99999"), std::invalid_argument);
  EXPECT_THROW(HttpServer::parse_listen("127.0.0.1"), std::invalid_argument);
}

TEST(HttpServerListen, StartFailsNamingTheAddressWhenThePortIsTaken) {
  boost::asio::io_context io;
  HttpServer a(io, {});
  ASSERT_TRUE(a.start().ok());
  HttpServerOptions o;
  o.listen = "127.0.0.1:" + std::to_string(a.port());
  HttpServer b(io, o);
  auto s = b.start();
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message().find(o.listen), std::string::npos) << s.error().message();
}

TEST(Metrics, RendersTheExpositionFormatWithEscapedLabels) {
  Metrics m;
  m.counter("c_total", "a counter", "reason", "bad \"x\"\n").inc(3);
  m.counter("c_total", "ignored").inc();
  m.gauge("g", "a gauge").set(2.5);
  m.gauge_fn("h", "computed", [] { return 7.0; });
  EXPECT_EQ(m.render(),
            "# HELP c_total a counter\n# TYPE c_total counter\nc_total 1\nc_total{reason=\"bad \\\"x\\\"\\n\"} 3\n"
            "# HELP g a gauge\n# TYPE g gauge\ng 2.5\n"
            "# HELP h computed\n# TYPE h gauge\nh 7\n");
}

TEST(UrlDecode, DecodesEscapesAndKeepsBrokenOnes) {
  EXPECT_EQ(url_decode("a%20b+c", true), "a b c");
  EXPECT_EQ(url_decode("a%20b+c", false), "a b+c");
  EXPECT_EQ(url_decode("100%", true), "100%");
  EXPECT_EQ(url_decode("%zz%4", true), "%zz%4");
}

}  // namespace
}  // namespace gridhub::adapter
