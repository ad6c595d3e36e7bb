#include "gridhub/http/server.hpp"

#include <array>
#include <atomic>
#include <deque>
#include <optional>
#include <stdexcept>
#include <unordered_map>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "gridhub/http/metrics.hpp"

namespace gridhub::http {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

// ---------------------------------------------------------------------------------------------
// Small pieces

std::string url_decode(std::string_view s, bool plus_is_space) {
  std::string out;
  out.reserve(s.size());
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '%' && i + 2 < s.size()) {
      const int hi = hex(s[i + 1]);
      const int lo = hex(s[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
        continue;
      }
    }
    out += (plus_is_space && c == '+') ? ' ' : c;
  }
  return out;
}

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

/// An error body as one log line: error bodies name their request already.
std::string_view trim_line(std::string_view body) {
  body = body.substr(0, 400);
  while (!body.empty() && body.back() == '\n') body.remove_suffix(1);
  return body;
}

void parse_query(std::string_view q, std::map<std::string, std::string>& out) {
  while (!q.empty()) {
    const std::size_t amp = q.find('&');
    const std::string_view part = q.substr(0, amp);
    q = amp == std::string_view::npos ? std::string_view() : q.substr(amp + 1);
    if (part.empty()) continue;
    const std::size_t eq = part.find('=');
    std::string name = url_decode(part.substr(0, eq), true);
    std::string value = eq == std::string_view::npos ? std::string() : url_decode(part.substr(eq + 1), true);
    out.emplace(std::move(name), std::move(value));   // first one wins
  }
}

}  // namespace

std::string_view HttpRequest::param(std::string_view name) const {
  auto it = query.find(std::string(name));
  return it == query.end() ? std::string_view() : std::string_view(it->second);
}

std::string_view HttpRequest::header(std::string_view name) const {
  auto it = headers.find(lower(name));
  return it == headers.end() ? std::string_view() : std::string_view(it->second);
}

std::string HttpRequest::describe() const {
  return fmt::format("{} {} from {}", method.empty() ? "?" : method, path.empty() ? "?" : path, remote);
}

HttpResponse HttpResponse::text(unsigned status, std::string body) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

HttpResponse HttpResponse::error(unsigned status, std::string message) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(message);
  if (r.body.empty() || r.body.back() != '\n') r.body += '\n';
  return r;
}

std::pair<std::string, unsigned short> HttpServer::parse_listen(std::string_view listen) {
  std::string_view host;
  std::string_view port;
  if (listen.starts_with("[")) {
    const std::size_t close = listen.find(']');
    if (close == std::string_view::npos || close + 1 >= listen.size() || listen[close + 1] != ':') {
      throw std::invalid_argument(fmt::format("'{}' is not [ipv6]:port", listen));
    }
    host = listen.substr(1, close - 1);
    port = listen.substr(close + 2);
  } else {
    const std::size_t colon = listen.rfind(':');
    if (colon == std::string_view::npos) throw std::invalid_argument(fmt::format("'{}' is not host:port", listen));
    host = listen.substr(0, colon);
    port = listen.substr(colon + 1);
  }
  if (host == "localhost") host = "127.0.0.1";
  boost::system::error_code ec;
  net::ip::make_address(std::string(host), ec);
  if (ec) throw std::invalid_argument(fmt::format("'{}' is not an IP address (names are not resolved)", host));
  unsigned long p = 0;
  if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string_view::npos ||
      (p = std::stoul(std::string(port))) > 65535) {
    throw std::invalid_argument(fmt::format("'{}' is not a port number (0-65535)", port));
  }
  return {std::string(host), static_cast<unsigned short>(p)};
}

// ---------------------------------------------------------------------------------------------
// Server and sessions

namespace {

struct Route {
  HttpHandler sync;
  AsyncHttpHandler async;
  EventStreamHandler events;
};

class Session;

}  // namespace

struct HttpServer::Impl : std::enable_shared_from_this<HttpServer::Impl> {
  Impl(net::io_context& io_, HttpServerOptions o, Metrics* m) : io(io_), options(std::move(o)), metrics(m), acceptor(io_) {}

  net::io_context& io;
  HttpServerOptions options;
  Metrics* metrics;
  tcp::acceptor acceptor;
  std::map<std::string, std::map<std::string, Route>> routes;   // path -> method -> handler
  HttpServer::ErrorPage error_page;
  std::unordered_map<Session*, std::weak_ptr<Session>> sessions;
  std::unordered_map<unsigned, Counter*> status_counters;
  std::string host;
  unsigned short port = 0;
  bool stopped = false;

  void accept();
  void count(unsigned status) {
    if (metrics == nullptr) return;
    auto& c = status_counters[status];
    if (c == nullptr) {
      c = &metrics->counter("gridhub_http_requests_total", "HTTP answers by status code", "status", std::to_string(status));
    }
    c->inc();
  }
};

namespace {

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, std::shared_ptr<HttpServer::Impl> server)
      : stream_(std::move(socket)), timer_(stream_.get_executor()), server_(std::move(server)) {
    boost::system::error_code ec;
    const auto ep = stream_.socket().remote_endpoint(ec);
    remote_ = ec ? std::string("?") : fmt::format("{}:{}", ep.address().to_string(), ep.port());
  }
  ~Session() { server_->sessions.erase(this); }

  void start() {
    server_->sessions[this] = weak_from_this();
    read_header();
  }

  void close() {
    timer_.cancel();
    boost::system::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
    stream_.close();
  }

 private:
  void read_header() {
    parser_.emplace();
    parser_->body_limit(server_->options.body_limit);
    parser_->header_limit(static_cast<std::uint32_t>(server_->options.header_limit));
    arm(server_->options.header_timeout);
    bhttp::async_read_header(stream_, buffer_, *parser_,
                            [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_header(ec); });
  }

  /// Read deadlines use a timer of our own, not tcp_stream's expiry: that one closes the socket, and
  /// a client that is merely slow deserves its 408.
  void arm(std::chrono::milliseconds timeout) {
    stream_.expires_never();
    timed_out_ = false;
    timer_.expires_after(timeout);
    timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (ec) return;
      self->timed_out_ = true;
      boost::system::error_code ignored;
      self->stream_.socket().cancel(ignored);
    });
  }

  /// A request that failed before it was complete: answer what is known, then close.
  void fail(beast::error_code ec, bool waiting_for_header) {
    timer_.cancel();
    if (timed_out_) ec = beast::error::timeout;
    if (server_->stopped || ec == bhttp::error::end_of_stream || ec == net::error::eof || ec == net::error::operation_aborted ||
        ec == net::error::connection_reset || ec == net::error::bad_descriptor) {
      close();
      return;
    }
    if (ec == beast::error::timeout && waiting_for_header && buffer_.size() == 0 && !parser_->got_some()) {
      close();   // an idle keep-alive connection: nothing to answer
      return;
    }
    request_ = partial_request();
    keep_alive_ = false;
    if (ec == beast::error::timeout) {
      write(own_error(HttpResponse::error(408, fmt::format("{}: the {} did not arrive within {} ms", request_.describe(),
                                                           waiting_for_header ? "request header" : "request body",
                                                           (waiting_for_header ? server_->options.header_timeout
                                                                               : server_->options.body_timeout).count()))));
    } else if (ec == bhttp::error::body_limit) {
      write(own_error(HttpResponse::error(413, fmt::format("{}: the body exceeds the limit of {} bytes", request_.describe(),
                                                           server_->options.body_limit))));
    } else if (ec == bhttp::error::header_limit) {
      write(own_error(HttpResponse::error(431, fmt::format("{}: the request header exceeds {} bytes", request_.describe(),
                                                           server_->options.header_limit))));
    } else {
      write(own_error(
          HttpResponse::error(400, fmt::format("{}: not a valid HTTP/1.1 request: {}", request_.describe(), ec.message()))));
    }
  }

  HttpRequest partial_request() const {
    HttpRequest r;
    r.remote = remote_;
    if (parser_ && parser_->got_some()) {   // the request line is parsed before the fields
      const auto& req = parser_->get();
      r.method = std::string(req.method_string());
      r.target = std::string(req.target());
      r.path = url_decode(r.target.substr(0, r.target.find('?')), false);
      // The fields read so far (a Content-Length over the limit fails once the header is read):
      // who asked, e.g. a browser, still decides how the refusal is worded.
      for (const auto& f : req) {
        auto [it, fresh] = r.headers.emplace(lower(f.name_string()), std::string(f.value()));
        if (!fresh) it->second += ", " + std::string(f.value());
      }
    }
    return r;
  }

  /// An answer the server makes itself, after the channel's error page had its say.
  HttpResponse own_error(HttpResponse answer) {
    if (!server_->error_page) return answer;
    try {
      return server_->error_page(request_, std::move(answer));
    } catch (const std::exception& e) {
      spdlog::error("{}: error page: {}", request_.describe(), e.what());
      return HttpResponse::error(500, "internal error\n");
    }
  }

  void on_header(beast::error_code ec) {
    if (ec) return fail(ec, true);
    timer_.cancel();
    const auto& req = parser_->get();
    if (beast::iequals(req[bhttp::field::expect], "100-continue")) {
      auto cont = std::make_shared<bhttp::response<bhttp::empty_body>>(bhttp::status::continue_, 11);
      bhttp::async_write(stream_, *cont, [self = shared_from_this(), cont](beast::error_code wec, std::size_t) {
        if (wec) return self->close();
        self->read_body();
      });
      return;
    }
    read_body();
  }

  void read_body() {
    arm(server_->options.body_timeout);
    bhttp::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); });
  }

  void on_read(beast::error_code ec) {
    if (ec) return fail(ec, false);
    timer_.cancel();
    auto req = parser_->release();
    keep_alive_ = req.keep_alive();
    request_ = HttpRequest{};
    request_.method = std::string(req.method_string());
    request_.target = std::string(req.target());
    const std::size_t q = request_.target.find('?');
    request_.path = url_decode(std::string_view(request_.target).substr(0, q), false);
    if (q != std::string::npos) parse_query(std::string_view(request_.target).substr(q + 1), request_.query);
    for (const auto& f : req) {
      auto [it, fresh] = request_.headers.emplace(lower(f.name_string()), std::string(f.value()));
      if (!fresh) it->second += ", " + std::string(f.value());
    }
    request_.body = std::move(req.body());
    request_.remote = remote_;
    dispatch();
  }

  void dispatch() {
    auto path_it = server_->routes.find(request_.path);
    if (path_it == server_->routes.end()) {
      return write(own_error(HttpResponse::error(404, fmt::format("{}: no such endpoint", request_.describe()))));
    }
    auto it = path_it->second.find(request_.method);
    if (it == path_it->second.end()) {
      std::string allow;
      for (const auto& [m, r] : path_it->second) allow += (allow.empty() ? "" : ", ") + m;
      auto res = HttpResponse::error(405, fmt::format("{}: method not allowed (allowed: {})", request_.describe(), allow));
      res.headers.emplace_back("Allow", allow);
      return write(own_error(std::move(res)));
    }
    const Route& route = it->second;
    try {
      if (route.events) return start_events(route.events);
      if (route.sync) return write(route.sync(request_));
      auto called = std::make_shared<std::atomic<bool>>(false);
      auto self = shared_from_this();
      route.async(request_, [self, called](HttpResponse res) {
        if (called->exchange(true)) return;   // a second answer would corrupt the connection
        net::post(self->stream_.get_executor(), [self, res = std::move(res)]() mutable { self->write(std::move(res)); });
      });
    } catch (const std::exception& e) {
      spdlog::error("{}: internal error: {}", request_.describe(), e.what());
      write(own_error(HttpResponse::error(500, fmt::format("{}: internal error: {}", request_.describe(), e.what()))));
    }
  }

  void write(HttpResponse r) {
    server_->count(r.status);
    if (r.status >= 500 && r.status != 503) {   // 503 is backpressure, not a fault
      spdlog::error("http {}: {}", r.status, trim_line(r.body));
    } else if (r.status >= 400) {
      spdlog::warn("http {}: {}", r.status, trim_line(r.body));
    } else {
      spdlog::debug("http {} {}", r.status, request_.describe());
    }
    auto res = std::make_shared<bhttp::response<bhttp::string_body>>();
    res->version(11);
    res->result(r.status);
    res->set(bhttp::field::server, "gridhub");
    res->set(bhttp::field::content_type, r.content_type);
    for (auto& [k, v] : r.headers) res->set(k, v);
    res->body() = std::move(r.body);
    res->keep_alive(keep_alive_);
    res->prepare_payload();
    stream_.expires_after(server_->options.header_timeout);
    bhttp::async_write(stream_, *res, [self = shared_from_this(), res](beast::error_code ec, std::size_t) {
      if (ec || !res->keep_alive()) return self->close();
      self->read_header();
    });
  }

  class Events final : public EventStream {
   public:
    explicit Events(std::weak_ptr<Session> session) : session_(std::move(session)) {}
    bool send(std::string_view event, std::string_view data) override {
      auto s = session_.lock();
      if (!s || s->events_closed_) return false;
      std::string frame;
      if (!event.empty()) frame.append("event: ").append(event).append("\n");
      // Each line of the data is its own "data:" field; the browser joins them with newlines.
      std::size_t from = 0;
      for (;;) {
        const std::size_t nl = data.find('\n', from);
        frame.append("data: ").append(data.substr(from, nl == std::string_view::npos ? std::string_view::npos : nl - from)).append("\n");
        if (nl == std::string_view::npos) break;
        from = nl + 1;
      }
      frame.append("\n");
      return s->queue_event(std::move(frame));
    }
    bool open() const override {
      auto s = session_.lock();
      return s && !s->events_closed_;
    }

   private:
    std::weak_ptr<Session> session_;
  };

  /// The response header, then the connection belongs to the event stream: nothing more is read
  /// but the client's end of file.
  void start_events(const EventStreamHandler& handler) {
    server_->count(200);
    spdlog::debug("http 200 {} (event stream)", request_.describe());
    stream_.expires_never();
    queue_event("HTTP/1.1 200 OK\r\nServer: gridhub\r\nContent-Type: text/event-stream; charset=utf-8\r\n"
                "Cache-Control: no-store\r\nX-Accel-Buffering: no\r\nConnection: close\r\n\r\n");
    auto junk = std::make_shared<std::array<char, 256>>();
    watch_close(junk);
    try {
      handler(request_, std::make_shared<Events>(weak_from_this()));
    } catch (const std::exception& e) {
      // The 200 is on its way: an error answer can no longer be sent, only the connection closed.
      spdlog::error("{}: internal error: {}", request_.describe(), e.what());
      close_events();
    }
  }

  void watch_close(std::shared_ptr<std::array<char, 256>> junk) {
    stream_.socket().async_read_some(net::buffer(*junk), [self = shared_from_this(), junk](beast::error_code ec, std::size_t) {
      if (ec) return self->close_events();
      self->watch_close(junk);   // a client has nothing to say on an event stream; ignore it
    });
  }

  bool queue_event(std::string frame) {
    if (events_closed_) return false;
    backlog_ += frame.size();
    if (backlog_ > server_->options.event_backlog_limit) {
      spdlog::warn("http: {}: event stream closed: the client is {} bytes behind", request_.describe(), backlog_);
      close_events();
      return false;
    }
    outbox_.push_back(std::move(frame));
    if (outbox_.size() == 1) write_next_event();
    return true;
  }

  void write_next_event() {
    net::async_write(stream_.socket(), net::buffer(outbox_.front()), [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec) return self->close_events();
      self->backlog_ -= self->outbox_.front().size();
      self->outbox_.pop_front();
      if (!self->outbox_.empty()) self->write_next_event();
    });
  }

  void close_events() {
    if (events_closed_) return;
    events_closed_ = true;
    close();
  }

  bool events_closed_ = false;
  std::deque<std::string> outbox_;
  std::size_t backlog_ = 0;

  beast::tcp_stream stream_;
  net::steady_timer timer_;
  bool timed_out_ = false;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  std::shared_ptr<HttpServer::Impl> server_;
  std::string remote_;
  HttpRequest request_;
  bool keep_alive_ = true;
};

}  // namespace

void HttpServer::Impl::accept() {
  acceptor.async_accept([self = shared_from_this()](beast::error_code ec, tcp::socket socket) {
    if (self->stopped) return;
    if (ec) {
      // EMFILE and friends: keep accepting; the connection that failed is the caller's to retry.
      spdlog::warn("http accept on {}:{}: {}", self->host, self->port, ec.message());
    } else {
      socket.set_option(tcp::no_delay(true), ec);
      std::make_shared<Session>(std::move(socket), self)->start();
    }
    self->accept();
  });
}

HttpServer::HttpServer(net::io_context& io, HttpServerOptions options, Metrics* metrics)
    : impl_(std::make_shared<Impl>(io, std::move(options), metrics)) {
  route("GET", "/healthz", [](const HttpRequest&) { return HttpResponse::text(200, "ok\n"); });
  if (metrics != nullptr) {
    route("GET", "/metrics", [metrics](const HttpRequest&) {
      HttpResponse r = HttpResponse::text(200, metrics->render());
      r.content_type = "text/plain; version=0.0.4; charset=utf-8";
      return r;
    });
  }
}

HttpServer::~HttpServer() { stop(); }

void HttpServer::route(std::string method, std::string path, HttpHandler handler) {
  impl_->routes[std::move(path)][std::move(method)] = Route{std::move(handler), {}, {}};
}

void HttpServer::set_error_page(ErrorPage page) { impl_->error_page = std::move(page); }

void HttpServer::route_async(std::string method, std::string path, AsyncHttpHandler handler) {
  impl_->routes[std::move(path)][std::move(method)] = Route{{}, std::move(handler), {}};
}

void HttpServer::route_events(std::string path, EventStreamHandler handler) {
  impl_->routes[std::move(path)]["GET"] = Route{{}, {}, std::move(handler)};
}

Status HttpServer::start() {
  std::pair<std::string, unsigned short> hp;
  try {
    hp = parse_listen(impl_->options.listen);
  } catch (const std::invalid_argument& e) {
    return Error(Errc::config_invalid, fmt::format("listen {}: {}", impl_->options.listen, e.what()));
  }
  boost::system::error_code ec;
  const tcp::endpoint ep(net::ip::make_address(hp.first), hp.second);
  auto& a = impl_->acceptor;
  if (a.open(ep.protocol(), ec); !ec) a.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) a.bind(ep, ec);
  if (!ec) a.listen(net::socket_base::max_listen_connections, ec);
  if (ec) return Error(Errc::io_failed, fmt::format("listen {}: {}", impl_->options.listen, ec.message()));
  const auto bound = a.local_endpoint(ec);
  impl_->host = bound.address().to_string();
  impl_->port = bound.port();
  impl_->accept();
  spdlog::info("http: listening on {}:{} (body limit {} bytes)", impl_->host, impl_->port, impl_->options.body_limit);
  return Ok{};
}

void HttpServer::stop() {
  if (impl_->stopped) return;
  impl_->stopped = true;
  boost::system::error_code ec;
  impl_->acceptor.close(ec);
  auto sessions = impl_->sessions;
  for (auto& [p, w] : sessions) {
    if (auto s = w.lock()) s->close();
  }
}

unsigned short HttpServer::port() const { return impl_->port; }

std::string HttpServer::ready_line() const {
  const bool v6 = impl_->host.find(':') != std::string::npos;
  return fmt::format("READY http={}{}{}:{}", v6 ? "[" : "", impl_->host, v6 ? "]" : "", impl_->port);
}

}  // namespace gridhub::http
