#pragma once
// A blocking HTTP/1.1 client for tests (Boost.Beast): one keep-alive connection, requests one at a
// time, every read bounded by a deadline so a hung server fails the test instead of hanging it.

#include <chrono>
#include <map>
#include <stdexcept>
#include <string>
#include <utility>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace gridhub::testing {

struct HttpReply {
  unsigned status = 0;
  std::map<std::string, std::string> headers;   // as sent (first value)
  std::string body;
  bool keep_alive = false;
  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
  }
};

class HttpClient {
 public:
  /// `address` is "host:port" as in a READY http=... line.
  explicit HttpClient(const std::string& address, std::chrono::milliseconds timeout = std::chrono::seconds(10))
      : stream_(io_), timeout_(timeout) {
    const auto colon = address.rfind(':');
    host_ = address.substr(0, colon);
    port_ = address.substr(colon + 1);
    connect();
  }

  void connect() {
    boost::asio::ip::tcp::resolver resolver(io_);
    stream_.expires_after(timeout_);
    stream_.connect(resolver.resolve(host_, port_));
  }

  HttpReply request(const std::string& method, const std::string& target, const std::string& body = {},
                    const std::string& content_type = "text/xml",
                    const std::map<std::string, std::string>& headers = {}) {
    namespace http = boost::beast::http;
    http::request<http::string_body> req(http::string_to_verb(method), target, 11);
    req.set(http::field::host, host_);
    if (!body.empty() || method == "POST") req.set(http::field::content_type, content_type);
    for (const auto& [k, v] : headers) req.set(k, v);
    req.body() = body;
    req.prepare_payload();
    stream_.expires_after(timeout_);
    http::write(stream_, req);
    return read();
  }

  /// Sends raw bytes (for malformed or partial requests).
  void send_raw(const std::string& bytes) {
    stream_.expires_after(timeout_);
    boost::asio::write(stream_, boost::asio::buffer(bytes));
  }

  HttpReply read() {
    namespace http = boost::beast::http;
    http::response<http::string_body> res;
    stream_.expires_after(timeout_);
    http::read(stream_, buffer_, res);
    HttpReply out;
    out.status = res.result_int();
    for (const auto& f : res) out.headers.emplace(std::string(f.name_string()), std::string(f.value()));
    out.body = res.body();
    out.keep_alive = res.keep_alive();
    return out;
  }

 private:
  boost::asio::io_context io_;
  boost::beast::tcp_stream stream_;
  boost::beast::flat_buffer buffer_;
  std::chrono::milliseconds timeout_;
  std::string host_;
  std::string port_;
};

/// One request on a fresh connection.
inline HttpReply http_request(const std::string& address, const std::string& method, const std::string& target,
                              const std::string& body = {}, const std::string& content_type = "text/xml") {
  HttpClient c(address);
  return c.request(method, target, body, content_type);
}

}  // namespace gridhub::testing
