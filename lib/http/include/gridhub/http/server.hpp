#pragma once
/// The small HTTP/1.1 server (Boost.Beast) the HTTP adapters and the hub's admin endpoint share, on an
/// io_context its owner runs.
///
/// Usage:
///
///     boost::asio::io_context io;
///     gridhub::http::Metrics metrics;                         // optional: serves GET /metrics
///     gridhub::http::HttpServer server(io, {.listen = "127.0.0.1:0"}, &metrics);
///     server.route("POST", "/form", [](const HttpRequest& req) {
///       if (req.body.empty()) return HttpResponse::error(400, req.describe() + ": the body is empty");
///       return HttpResponse::text(200, "ok");
///     });
///     if (auto s = server.start(); !s) { ...s.error().message()...; return 1; }
///     std::cout << server.ready_line() << std::endl;            // "READY http=127.0.0.1:PORT"
///     io.run();
///
/// A handler runs on the io_context's thread and gets the whole request: method, path and query
/// parameters (percent-decoded, '+' as space), headers (names lower-cased), body. A synchronous
/// handler returns its response; an asynchronous one (route_async) calls `respond` exactly once,
/// from any thread, later — e.g. after a batched outbox write. A handler that throws answers 500
/// (logged); nothing escapes into the server.
///
/// What the server answers by itself:
///   404 no route for the path; 405 the path exists with another method (Allow header);
///   400 a request that does not parse; 413 a body over body_limit (Content-Length or chunked);
///   431 headers over header_limit; 408-and-close when the header or body does not arrive in time.
/// Keep-alive per HTTP/1.1 (Connection: close honoured). Built in: GET /healthz ("ok") and, with a
/// Metrics registry, GET /metrics (Prometheus text format) plus gridhub_http_requests_total{status}.
/// Every non-2xx answer is logged on one line naming the request ("POST /wechat from 1.2.3.4:5").
///
/// Threading: one io_context, one thread (main's). Nothing here blocks except the handlers
/// themselves; long work belongs behind route_async.

#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "gridhub/common/result.hpp"

namespace gridhub::http {

class Metrics;

struct HttpRequest {
  std::string method;                          // "GET", "POST", ...
  std::string target;                          // as sent: "/wechat?signature=...&nonce=..."
  std::string path;                            // percent-decoded, without the query: "/wechat"
  std::map<std::string, std::string> query;    // decoded; a repeated name keeps its first value
  std::map<std::string, std::string> headers;  // names lower-cased; repeated headers joined with ", "
  std::string body;
  std::string remote;                          // "127.0.0.1:54321"

  /// The query parameter, or "" when absent.
  std::string_view param(std::string_view name) const;
  /// The header (any case), or "" when absent.
  std::string_view header(std::string_view name) const;
  /// "POST /wechat from 127.0.0.1:54321": how log lines and error bodies name this request.
  std::string describe() const;
};

struct HttpResponse {
  unsigned status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;   // extra headers, e.g. Retry-After

  static HttpResponse text(unsigned status, std::string body);
  /// An error answer: `message` is the body (one line, naming request and field) and is logged.
  static HttpResponse error(unsigned status, std::string message);
};

/// A server-sent-events stream (`text/event-stream`) kept open after a route_events handler returns.
/// Call it on the io_context's thread. The client is slow or gone: send() answers false and the
/// connection is closed — an EventSource reconnects by itself, so the owner starts it afresh then.
class EventStream {
 public:
  virtual ~EventStream() = default;
  /// Queues one event: `event` names it ("" for the default "message"); `data` may span lines.
  virtual bool send(std::string_view event, std::string_view data) = 0;
  /// Still connected (false once the client went away or the server stopped).
  virtual bool open() const = 0;
};

using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;
using HttpResponder = std::function<void(HttpResponse)>;
using AsyncHttpHandler = std::function<void(const HttpRequest&, HttpResponder respond)>;
using EventStreamHandler = std::function<void(const HttpRequest&, std::shared_ptr<EventStream> events)>;

struct HttpServerOptions {
  std::string listen = "127.0.0.1:0";                   // host:port ([v6]:port); port 0 = any free port
  std::size_t body_limit = 1 << 20;                      // bytes; more answers 413
  std::size_t header_limit = 16 * 1024;                  // bytes of request line + headers; more: 431
  std::chrono::milliseconds header_timeout{10000};       // to receive a request's headers (also keep-alive idle)
  std::chrono::milliseconds body_timeout{30000};         // to receive its body after the headers
  std::size_t event_backlog_limit = 4 << 20;             // bytes an event stream may have unsent; more: closed
};

class HttpServer {
 public:
  /// `metrics` (optional, must outlive the server) adds GET /metrics and per-status counters.
  HttpServer(boost::asio::io_context& io, HttpServerOptions options, Metrics* metrics = nullptr);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  /// Routes are matched on the exact decoded path. Register them before start().
  void route(std::string method, std::string path, HttpHandler handler);
  void route_async(std::string method, std::string path, AsyncHttpHandler handler);
  /// GET `path` answers 200 text/event-stream and stays open: `handler` gets the stream to send on.
  void route_events(std::string path, EventStreamHandler handler);

  /// Rewrites the answers the server makes itself (400/404/405/408/413/431/500, whose bodies name
  /// the request and peer for the log): `page` gets the request as far as it was read and the
  /// server's answer, and returns the answer to send — e.g. a resident-facing page for browsers.
  /// Register before start().
  using ErrorPage = std::function<HttpResponse(const HttpRequest& request, HttpResponse answer)>;
  void set_error_page(ErrorPage page);

  /// Binds `listen` and starts accepting. Errors name the address ("listen 127.0.0.1:80: ...").
  Status start();
  /// Stops accepting and closes every connection; pending io_context work then finishes.
  void stop();

  /// The bound port (after start()).
  unsigned short port() const;
  /// "READY http=127.0.0.1:PORT": the line HTTP adapters print on stdout once they accept requests.
  std::string ready_line() const;

  /// Parses "host:port" / "[v6]:port"; throws std::invalid_argument naming what is wrong.
  static std::pair<std::string, unsigned short> parse_listen(std::string_view listen);

  struct Impl;   // opaque; public only so the connection code in http_server.cpp can name it

 private:
  std::shared_ptr<Impl> impl_;
};

/// Percent-decodes a URL component ('+' becomes a space when `plus_is_space`). Invalid escapes
/// are kept as written.
std::string url_decode(std::string_view s, bool plus_is_space);

}  // namespace gridhub::http
