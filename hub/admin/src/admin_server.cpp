#include "gridhub/admin/admin_server.hpp"

#include <chrono>
#include <mutex>
#include <stdexcept>
#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "gridhub/http/server.hpp"

namespace gridhub::admin {

namespace net = boost::asio;

namespace {
// A scrape the hub has not answered by then (its io thread stuck) gets a 503 rather than a hang.
constexpr std::chrono::seconds kScrapeTimeout{10};
constexpr const char* kStarting = "starting: the hub is opening and replaying its log";
}  // namespace

void validate(const AdminOptions& options) {
  const auto [host, port] = http::HttpServer::parse_listen(options.listen);
  (void)port;
  if (!options.allow_remote && !net::ip::make_address(host).is_loopback()) {
    throw std::invalid_argument(fmt::format(
        "'{}' is not a loopback address; the admin endpoint has no authentication, so binding it elsewhere "
        "needs allow_remote = true",
        host));
  }
}

struct AdminServer::Impl {
  explicit Impl(AdminOptions o) : options(std::move(o)), server(io, {.listen = options.listen}) {}

  AdminOptions options;
  net::io_context io;   // first: destroyed after the server's sockets and timers
  net::executor_work_guard<net::io_context::executor_type> work = net::make_work_guard(io);
  http::HttpServer server;
  std::thread thread;
  std::mutex mu;
  Scrape scrape;
  Readiness readiness;
};

AdminServer::AdminServer(AdminOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {
  Impl* impl = impl_.get();
  impl->server.route("GET", "/readyz", [impl](const http::HttpRequest&) {
    Readiness ready;
    {
      std::lock_guard lock(impl->mu);
      ready = impl->readiness;
    }
    std::string why = ready ? ready() : std::string(kStarting);
    if (why.empty()) return http::HttpResponse::text(200, "ready\n");
    return http::HttpResponse::text(503, why + "\n");
  });
  impl->server.route_async("GET", "/metrics", [impl](const http::HttpRequest&, http::HttpResponder respond) {
    Scrape scrape;
    {
      std::lock_guard lock(impl->mu);
      scrape = impl->scrape;
    }
    if (!scrape) return respond(http::HttpResponse::text(503, std::string(kStarting) + "\n"));
    // The responder answers once: whichever of the hub and the timer comes first.
    auto timer = std::make_shared<net::steady_timer>(impl->io, kScrapeTimeout);
    timer->async_wait([respond, timer](const boost::system::error_code& ec) {
      if (ec) return;
      respond(http::HttpResponse::text(503, "the hub did not answer the scrape in time\n"));
    });
    scrape([respond, timer, impl](std::string text) {
      http::HttpResponse r = http::HttpResponse::text(200, std::move(text));
      r.content_type = "text/plain; version=0.0.4; charset=utf-8";
      respond(std::move(r));
      net::post(impl->io, [timer] { timer->cancel(); });
    });
  });
}

AdminServer::~AdminServer() {
  if (impl_->thread.joinable()) {
    net::post(impl_->io, [impl = impl_.get()] {
      impl->server.stop();
      impl->work.reset();
      impl->io.stop();   // a scrape's timeout timer may still be armed
    });
    impl_->thread.join();
  }
}

Status AdminServer::start() {
  if (auto st = impl_->server.start(); !st) return st;
  impl_->thread = std::thread([impl = impl_.get()] {
    for (;;) {
      try {
        impl->io.run();
        return;
      } catch (const std::exception& e) {
        spdlog::error("admin: {}", e.what());   // a handler's failure; the endpoint keeps serving
      }
    }
  });
  return Ok{};
}

std::string AdminServer::ready_line() const {
  std::string line = impl_->server.ready_line();   // "READY http=..."
  return "ADMIN" + line.substr(line.find(' '));
}

unsigned short AdminServer::port() const { return impl_->server.port(); }

void AdminServer::attach(Scrape scrape, Readiness readiness) {
  std::lock_guard lock(impl_->mu);
  impl_->scrape = std::move(scrape);
  impl_->readiness = std::move(readiness);
}

void AdminServer::detach() { attach({}, {}); }

}  // namespace gridhub::admin
