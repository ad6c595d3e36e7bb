#pragma once
// Headless Chromium for integration tests: start it with a DevTools port, and a minimal Chrome
// DevTools Protocol client over Beast's websocket — enough to navigate a page, run expressions in
// it and take screenshots (the web-form intake page, the operations page).

#include <csignal>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <thread>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/json.hpp>

#include "http_client.hpp"
#include "process.hpp"

namespace gridhub::testing {

/// A minimal Chrome DevTools Protocol client over Beast's websocket: enough to navigate a page and
/// run expressions in it.
class DevTools {
 public:
  DevTools(const std::string& host, const std::string& port, const std::string& path) : ws_(io_) {
    boost::asio::ip::tcp::resolver resolver(io_);
    boost::beast::get_lowest_layer(ws_).expires_after(std::chrono::seconds(10));
    boost::beast::get_lowest_layer(ws_).connect(resolver.resolve(host, port));
    ws_.handshake(host + ":" + port, path);
  }

  boost::json::value call(const std::string& method, boost::json::object params = {}) {
    const std::int64_t id = ++next_id_;
    boost::json::object msg;
    msg["id"] = id;
    msg["method"] = method;
    msg["params"] = std::move(params);
    boost::beast::get_lowest_layer(ws_).expires_after(std::chrono::seconds(10));
    ws_.write(boost::asio::buffer(boost::json::serialize(msg)));
    for (;;) {   // events arrive between answers; skip them
      boost::beast::flat_buffer buffer;
      boost::beast::get_lowest_layer(ws_).expires_after(std::chrono::seconds(10));
      ws_.read(buffer);
      boost::json::value v = boost::json::parse(boost::beast::buffers_to_string(buffer.data()));
      const auto* o = v.if_object();
      if (o != nullptr && o->contains("id") && o->at("id").to_number<std::int64_t>() == id) return v;
    }
  }

  /// The value of a JavaScript expression in the page, as a string ("" when not a string).
  std::string eval(const std::string& expression) {
    boost::json::object params;
    params["expression"] = expression;
    params["returnByValue"] = true;
    const auto r = call("Runtime.evaluate", std::move(params));
    const auto* result = r.as_object().if_contains("result");
    if (result == nullptr) return {};
    const auto* inner = result->as_object().if_contains("result");
    if (inner == nullptr) return {};
    const auto* value = inner->as_object().if_contains("value");
    if (value == nullptr) return {};
    if (value->is_string()) return std::string(value->as_string());
    return boost::json::serialize(*value);
  }

  /// Polls `expression` until `done(value)` or `timeout` passes; returns the last value.
  template <class Pred>
  std::string wait_eval(const std::string& expression, Pred done, std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::string v;
    while (std::chrono::steady_clock::now() < deadline) {
      v = eval(expression);
      if (done(v)) return v;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));   // polling with a deadline
    }
    return v;
  }

 private:
  boost::asio::io_context io_;
  boost::beast::websocket::stream<boost::beast::tcp_stream> ws_;
  std::int64_t next_id_ = 0;
};

/// Debian's Chromium, headless, with a DevTools port and its profile under `dir`; a DevTools
/// session on its first page. SIGTERM and reaped at destruction.
class HeadlessChromium {
 public:
  static constexpr const char* kBinary = "/usr/bin/chromium";
  static bool installed() { return std::filesystem::exists(kBinary); }

  HeadlessChromium(const std::filesystem::path& dir, const std::string& window_size)
      : proc_(Process::spawn({kBinary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                              "--disable-background-networking", "--disable-component-update", "--disable-sync",
                              "--hide-scrollbars", "--remote-debugging-port=0", "--user-data-dir=" + (dir / "chromium-profile").string(),
                              "--window-size=" + window_size, "about:blank"},
                             dir / "chromium.stderr")),
        stderr_file_(dir / "chromium.stderr") {
    // Chromium writes its DevTools port to the profile once it listens.
    std::string port;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (port.empty() && std::chrono::steady_clock::now() < deadline) {
      const std::string f = slurp(dir / "chromium-profile" / "DevToolsActivePort");
      if (f.find('\n') != std::string::npos) port = f.substr(0, f.find('\n'));
      if (port.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(50));   // polling with a deadline
    }
    if (port.empty()) return;
    const auto targets = boost::json::parse(http_request("127.0.0.1:" + port, "GET", "/json/list").body).as_array();
    for (const auto& t : targets) {
      if (t.as_object().at("type").as_string() != "page") continue;
      // The URL's host echoes our Host header; the path is what matters.
      const std::string url(t.as_object().at("webSocketDebuggerUrl").as_string());
      const std::size_t path_at = url.find("/devtools/");
      if (path_at != std::string::npos) devtools_.emplace("127.0.0.1", port, url.substr(path_at));
      break;
    }
  }
  ~HeadlessChromium() {
    devtools_.reset();
    proc_.signal(SIGTERM);
    proc_.wait();
  }
  HeadlessChromium(const HeadlessChromium&) = delete;
  HeadlessChromium& operator=(const HeadlessChromium&) = delete;

  /// False when Chromium did not come up (its stderr says why: stderr_text()).
  bool ready() const { return devtools_.has_value(); }
  DevTools& page() { return *devtools_; }
  std::string stderr_text() const { return slurp(stderr_file_); }

 private:
  Process proc_;
  std::filesystem::path stderr_file_;
  std::optional<DevTools> devtools_;
};

}  // namespace gridhub::testing
