// lib/http's server-sent-events route: the response header, event framing, a client that leaves,
// a client too far behind.
#include <chrono>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/write.hpp>
#include <gtest/gtest.h>

#include "gridhub/http/server.hpp"

namespace gridhub::http {
namespace {

namespace net = boost::asio;
using tcp = net::ip::tcp;

class EventStreamFixture : public ::testing::Test {
 protected:
  void start(HttpServerOptions options = {}) {
    server_.emplace(io_, std::move(options));
    server_->route_events("/events", [this](const HttpRequest& r, std::shared_ptr<EventStream> events) {
      events->send("hello", "from " + r.path);
      events_ = std::move(events);
    });
    ASSERT_TRUE(server_->start().ok());
    thread_ = std::thread([this] { io_.run(); });
  }
  void TearDown() override {
    if (server_) net::post(io_, [this] { server_->stop(); });
    if (thread_.joinable()) thread_.join();
  }
  /// Runs `f` on the server's thread and returns its result.
  template <class F>
  auto on_io(F f) {
    std::promise<decltype(f())> p;
    net::post(io_, [&] { p.set_value(f()); });
    return p.get_future().get();
  }

  net::io_context io_;
  std::optional<HttpServer> server_;
  std::shared_ptr<EventStream> events_;   // touched on the io thread only
  std::thread thread_;
};

TEST_F(EventStreamFixture, StreamsEventsUntilTheClientLeaves) {
  start();
  net::io_context client_io;
  tcp::socket s(client_io);
  s.connect({net::ip::make_address("127.0.0.1"), server_->port()});
  net::write(s, net::buffer(std::string("GET /events HTTP/1.1\r\nHost: x\r\n\r\n")));
  std::string in;
  net::read_until(s, net::dynamic_buffer(in), "\r\n\r\n");
  EXPECT_TRUE(in.starts_with("HTTP/1.1 200 OK\r\n")) << in;
  EXPECT_NE(in.find("Content-Type: text/event-stream"), std::string::npos) << in;
  const std::size_t body = in.find("\r\n\r\n") + 4;
  in.erase(0, body);
  net::read_until(s, net::dynamic_buffer(in), "\n\n");
  EXPECT_EQ(in, "event: hello\ndata: from /events\n\n");
  in.clear();

  // Data over several lines is several data fields; the default event has no name.
  EXPECT_TRUE(on_io([&] { return events_->send("", "a\nb"); }));
  net::read_until(s, net::dynamic_buffer(in), "\n\n");
  EXPECT_EQ(in, "data: a\ndata: b\n\n");

  // The client leaves: the stream says so (the server notices the end of file).
  s.close();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  bool open = true;
  while (open && std::chrono::steady_clock::now() < deadline) {
    open = on_io([&] { return events_->open(); });
    if (open) std::this_thread::sleep_for(std::chrono::milliseconds(10));   // polling with a deadline
  }
  EXPECT_FALSE(open);
  EXPECT_FALSE(on_io([&] { return events_->send("", "late"); }));
}

TEST_F(EventStreamFixture, ClosesAStreamWhoseBacklogExceedsItsLimit) {
  start(HttpServerOptions{.event_backlog_limit = 200});
  net::io_context client_io;
  tcp::socket s(client_io);
  s.connect({net::ip::make_address("127.0.0.1"), server_->port()});
  net::write(s, net::buffer(std::string("GET /events HTTP/1.1\r\nHost: x\r\n\r\n")));
  std::string in;
  net::read_until(s, net::dynamic_buffer(in), "from /events\n\n");
  // One event larger than the limit cannot be queued: the stream closes rather than grow.
  EXPECT_FALSE(on_io([&] { return events_->send("big", std::string(300, 'x')); }));
  EXPECT_FALSE(on_io([&] { return events_->open(); }));
}

TEST_F(EventStreamFixture, OtherMethodsOnAnEventsPathAreRefused) {
  start();
  net::io_context client_io;
  tcp::socket s(client_io);
  s.connect({net::ip::make_address("127.0.0.1"), server_->port()});
  net::write(s, net::buffer(std::string("POST /events HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")));
  std::string in;
  net::read_until(s, net::dynamic_buffer(in), "\r\n\r\n");
  EXPECT_TRUE(in.starts_with("HTTP/1.1 405")) << in;
}

}  // namespace
}  // namespace gridhub::http
