#include "gridhub/ops/service.hpp"

#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <spdlog/spdlog.h>

#include "gridhub/ops/page.hpp"
#include "gridhub/stream/stream_client.hpp"
#include "gridhub/transport/curve.hpp"

namespace gridhub::ops {

namespace net = boost::asio;
namespace v1 = gridhub::v1;

namespace {

constexpr std::int64_t kHeartbeatUs = 5'000'000;   // a page sees "updated at" move and breaches age even when nothing arrives
constexpr auto kScrapeEvery = std::chrono::seconds(2);

std::optional<double> sample_value(std::string_view line) {
  const std::size_t sp = line.rfind(' ');
  if (sp == std::string_view::npos) return std::nullopt;
  const std::string v(line.substr(sp + 1));
  char* end = nullptr;
  const double d = std::strtod(v.c_str(), &end);
  if (end == v.c_str()) return std::nullopt;
  return d;
}

}  // namespace

AdminFigures parse_admin_metrics(std::string_view text) {
  AdminFigures f;
  double dead = 0;
  bool dead_seen = false;
  while (!text.empty()) {
    const std::size_t nl = text.find('\n');
    const std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    // The hub's page: the dead-letter family appears with the first dead letter, so none means 0.
    if (line.starts_with("gridhub_hub_")) dead_seen = true;
    if (line.starts_with("gridhub_hub_log_head_seq ")) {
      if (auto v = sample_value(line)) f.head_seq = static_cast<std::uint64_t>(std::llround(*v));
    } else if (line.starts_with("gridhub_hub_ingest_dead_letters_total{") || line.starts_with("gridhub_hub_ingest_dead_letters_total ")) {
      if (auto v = sample_value(line)) dead += *v;
    }
  }
  if (dead_seen) f.dead_letters = static_cast<std::uint64_t>(std::llround(dead));
  return f;
}

OpsService::OpsService(net::io_context& io, OpsConfig config, World world, const Clock& clock)
    : io_(io),
      config_(std::move(config)),
      world_(std::move(world)),
      clock_(clock),
      picture_(world_),
      page_(render_page(world_, config_.title)),
      http_(io, http::HttpServerOptions{.listen = config_.listen}),
      push_timer_(io),
      scrape_timer_(io),
      save_timer_(io) {
  http_.route("GET", "/", [this](const http::HttpRequest&) {
    http::HttpResponse r = http::HttpResponse::text(200, page_);
    r.content_type = "text/html; charset=utf-8";
    r.headers.emplace_back("Cache-Control", "no-store");
    // The page is whole in itself: forbid everything else, so a slip could not load from elsewhere.
    r.headers.emplace_back("Content-Security-Policy",
                           "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; "
                           "img-src 'self'");
    return r;
  });
  http_.route("GET", "/summary", [this](const http::HttpRequest&) {
    http::HttpResponse r = http::HttpResponse::text(200, picture_.summary_json(clock_.now_micros()));
    r.content_type = "application/json";
    return r;
  });
  http_.route_events("/events", [this](const http::HttpRequest&, std::shared_ptr<http::EventStream> events) {
    if (events->send("summary", picture_.summary_json(clock_.now_micros()))) streams_.push_back(std::move(events));
  });
}

OpsService::~OpsService() { stop(); }

Status OpsService::start() {
  std::optional<transport::CurveKeyPair> keys;
  if (!config_.key_file.empty()) {
    auto k = transport::load_curve_secret_key(config_.key_file);
    if (!k) return Error(Errc::config_invalid, "ops.key: " + k.error().detail);
    keys = std::move(k.value());
  }
  std::uint64_t from_seq = 1;
  if (!config_.state_file.empty() && std::filesystem::exists(config_.state_file)) {
    std::ifstream in(config_.state_file, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    if (auto st = picture_.restore_state(text.str()); st) {
      from_seq = picture_.last_seq() + 1;
      spdlog::info("ops: resumed from {} at seq {} ({} open tickets)", config_.state_file.string(), picture_.last_seq(),
                   picture_.open_tickets());
    } else {
      spdlog::warn("ops: {}: cannot resume from it ({}); reading the log from seq 1", config_.state_file.string(), st.error().detail);
    }
  }
  saved_version_ = picture_.version();
  if (auto st = http_.start(); !st) return st;
  arm_push();
  if (!config_.state_file.empty()) arm_save();
  if (!config_.hub_admin.empty()) scrape_admin();
  if (config_.stream.empty()) return Ok{};
  stream_thread_ = std::thread([this, keys = std::move(keys), from_seq] {
    stream::StreamClientOptions o;
    o.endpoint = config_.stream;
    o.program = "gridhub-ops";
    o.subscribe.set_name(config_.subscription);
    // The picture lives in memory: a start builds it from the log's first record, or continues after
    // the saved picture's seq (either moves the durable cursor there). The name keeps the hub's lag
    // figures for this reader.
    o.subscribe.set_start(v1::START_POINT_SEQ);
    o.subscribe.set_from_seq(from_seq);
    o.window = 1000;
    o.acknowledge = true;
    o.ack_every = 250;
    o.stop = &stop_;
    if (keys) o.configure = [this, &keys](zmq::socket_t& s) { transport::apply_curve_client(s, config_.server_key, *keys); };
    o.on_subscribed = [this](const v1::Subscribed& s) {
      spdlog::info("ops: subscribed as {} ({}) '{}': from seq {}, head seq {}", s.identity(), s.role(), config_.subscription,
                   s.start_seq(), s.head_seq());
      net::post(io_, [this, head = s.head_seq()] {
        if (head < picture_.last_seq()) {
          spdlog::error("ops: the hub's log head is seq {}, behind this page's seq {}: a restored or another log; "
                        "stop gridhub-ops, delete {} and start it again", head, picture_.last_seq(), config_.state_file.string());
        }
        picture_.note_head(head);
        picture_.note_connected(true);
      });
    };
    const int rc = stream::run_stream(o, [this](const v1::Delivery& d) {
      deliver(d.seq(), d.record());
      return true;
    });
    if (rc != 0 && !stop_.load()) {
      net::post(io_, [this] {
        spdlog::critical("ops: the hub refused the subscription (see above); stopping");
        refused_ = true;
        picture_.note_connected(false);
        stop();
        io_.stop();   // nothing left to serve: main returns 1
      });
    }
  });
  return Ok{};
}

void OpsService::deliver(std::uint64_t seq, std::string record) {
  bool first = false;
  {
    std::lock_guard lock(inbox_->mu);
    first = inbox_->records.empty();
    inbox_->records.emplace_back(seq, std::move(record));
  }
  // One drain per burst: the io thread takes whatever piled up meanwhile in one go.
  if (first) net::post(io_, [this] { drain(); });
}

void OpsService::stop() {
  if (stopped_) return;
  stopped_ = true;
  stop_.store(true);
  if (stream_thread_.joinable()) stream_thread_.join();
  push_timer_.cancel();
  scrape_timer_.cancel();
  save_timer_.cancel();
  if (!config_.state_file.empty()) {
    drain();   // what the stream handed over before it stopped
    save_state();
  }
  http_.stop();
  streams_.clear();
}

void OpsService::drain() {
  std::vector<std::pair<std::uint64_t, std::string>> batch;
  {
    std::lock_guard lock(inbox_->mu);
    batch.swap(inbox_->records);
  }
  for (const auto& [seq, record] : batch) picture_.apply(seq, record);
  // A quiet picture sends the first change at once; a busy one is paced by the push timer.
  if (clock_.now_micros() - pushed_at_us_ >= config_.push_interval_ms * 1000LL) push(false);
}

void OpsService::push(bool force) {
  const std::int64_t now = clock_.now_micros();
  if (!force && picture_.version() == pushed_version_) return;
  pushed_version_ = picture_.version();
  pushed_at_us_ = now;
  if (streams_.empty()) return;
  const std::string summary = picture_.summary_json(now);
  std::erase_if(streams_, [&](const auto& s) { return !s->send("summary", summary); });
}

void OpsService::arm_push() {
  push_timer_.expires_after(std::chrono::milliseconds(config_.push_interval_ms));
  push_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec || stopped_) return;
    push(clock_.now_micros() - pushed_at_us_ >= kHeartbeatUs);
    arm_push();
  });
}

void OpsService::arm_save() {
  save_timer_.expires_after(std::chrono::seconds(30));
  save_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec || stopped_) return;
    save_state();
    arm_save();
  });
}

/// Written beside, fsynced, renamed over: a crash leaves the old state or the new, never half of one.
void OpsService::save_state() {
  if (picture_.version() == saved_version_) return;
  const std::string text = picture_.save_state();
  const auto tmp = config_.state_file.string() + ".tmp";
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  bool ok = f != nullptr && std::fwrite(text.data(), 1, text.size(), f) == text.size() && std::fflush(f) == 0 && ::fsync(fileno(f)) == 0;
  if (f != nullptr) ok = std::fclose(f) == 0 && ok;
  std::error_code ec;
  if (ok) std::filesystem::rename(tmp, config_.state_file, ec);
  if (!ok || ec) {
    spdlog::warn("ops: cannot save the picture to {}: {}", config_.state_file.string(), ok ? ec.message() : std::strerror(errno));
    return;
  }
  saved_version_ = picture_.version();
  spdlog::debug("ops: picture saved to {} at seq {}", config_.state_file.string(), picture_.last_seq());
}

void OpsService::arm_scrape() {
  scrape_timer_.expires_after(kScrapeEvery);
  scrape_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec || stopped_) return;
    scrape_admin();
  });
}

/// GET /metrics from the hub's admin endpoint: the log head (lag) and the dead letters it holds.
void OpsService::scrape_admin() {
  namespace beast = boost::beast;
  namespace bhttp = beast::http;
  struct Scrape {
    explicit Scrape(net::io_context& io) : stream(io) {}
    beast::tcp_stream stream;
    bhttp::request<bhttp::empty_body> req;
    beast::flat_buffer buffer;
    bhttp::response<bhttp::string_body> res;
  };
  std::pair<std::string, unsigned short> hp;
  try {
    hp = http::HttpServer::parse_listen(config_.hub_admin);
  } catch (const std::invalid_argument&) {
    return;   // checked when the config was read
  }
  auto s = std::make_shared<Scrape>(io_);
  s->req = {bhttp::verb::get, "/metrics", 11};
  s->req.set(bhttp::field::host, config_.hub_admin);
  s->stream.expires_after(std::chrono::seconds(2));
  const net::ip::tcp::endpoint ep(net::ip::make_address(hp.first), hp.second);
  auto done = [this, s](beast::error_code ec) {
    if (ec) {
      spdlog::debug("ops: scraping {}/metrics: {}", config_.hub_admin, ec.message());
    } else if (s->res.result_int() == 200) {
      const auto f = parse_admin_metrics(s->res.body());
      if (f.head_seq) picture_.note_head(*f.head_seq);
      if (f.dead_letters) picture_.note_dead_letters(*f.dead_letters);
    }
    if (!stopped_) arm_scrape();
  };
  s->stream.async_connect(ep, [s, done](beast::error_code ec) {
    if (ec) return done(ec);
    bhttp::async_write(s->stream, s->req, [s, done](beast::error_code wec, std::size_t) {
      if (wec) return done(wec);
      bhttp::async_read(s->stream, s->buffer, s->res, [s, done](beast::error_code rec, std::size_t) { done(rec); });
    });
  });
}

}  // namespace gridhub::ops
