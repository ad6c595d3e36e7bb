#pragma once
// The real hub process and an adapter-like sender, shared by the ingest and the stream figures.
#include <zmq.h>

#include <fmt/format.h>
#include <zmq.hpp>

#include <fstream>
#include <optional>

#include "bench.hpp"
#include "gridhub/transport/frames.hpp"
#include "gridhub/v1/wire.pb.h"

namespace gridhub::bench {

namespace v1 = gridhub::v1;
using Clock = std::chrono::steady_clock;

inline constexpr std::size_t kMaxFrameBytes = 1 << 20;
// Correlation ids start here so every id has the same varint length and every event the same size.
inline constexpr std::uint64_t kCorrelationBase = std::uint64_t{1} << 32;
// Only a hub that stopped acking makes a receive wait this long; it turns a hang into an error.
inline constexpr int kAckTimeoutMs = 60000;

/// The real hub process on a generated configuration in `dir`: durability full, ephemeral endpoints.
class HubProcess {
 public:
  /// `stream_toml` is appended to [stream] (e.g. "ack_timeout_ms = 60000"). A folder whose log exists reopens it.
  HubProcess(const Paths& paths, const std::filesystem::path& dir, const std::string& stream_toml = {})
      : db_(dir / "log" / "gridhub.db") {
    const auto toml = dir / "hub.toml";
    std::ofstream(toml) << "# written by gridhub-bench\n"
                           "[hub]\n"
                           "log_db = \"log/gridhub.db\"\n"
                           "durability = \"full\"\n"
                           "log_level = \"info\"\n"
                           "[ingest]\n"
                           "endpoints = [\"tcp://127.0.0.1:*\"]\n"
                        << paths.hub_ingest_toml << "\n"
                        << "[stream]\n"
                           "endpoints = [\"tcp://127.0.0.1:*\"]\n"
                        << stream_toml << "\n"
                        << paths.hub_extra_toml;
    child_.emplace(std::vector<std::string>{paths.hub_bin.string(), "-c", toml.string()}, dir / "hub.log",
                   Child::Output::kStdoutPiped);
    const std::string ready = child_->wait_for_line(
        [](const std::string& l) { return l.rfind("READY ", 0) == 0; }, std::chrono::seconds(30));
    // READY ingest=<ep>[,<ep>...] stream=<ep>[,...]
    const auto at = ready.find("ingest=");
    if (at == std::string::npos) throw BenchError("hub: READY line without ingest=: " + ready);
    const auto begin = at + 7;
    const auto end = ready.find_first_of(", ", begin);
    ingest_ = ready.substr(begin, end == std::string::npos ? std::string::npos : end - begin);
    const auto st = ready.find("stream=");
    if (st == std::string::npos) throw BenchError("hub: READY line without stream=: " + ready);
    const auto st_end = ready.find_first_of(", ", st + 7);
    stream_ = ready.substr(st + 7, st_end == std::string::npos ? std::string::npos : st_end - st - 7);
  }

  const std::string& stream_endpoint() const { return stream_; }

  const std::string& ingest_endpoint() const { return ingest_; }
  pid_t pid() const { return child_->pid(); }
  const std::filesystem::path& db() const { return db_; }

  /// SIGTERM: the hub drains and must exit 0.
  void stop() {
    if (const int code = child_->terminate(); code != 0) {
      throw BenchError(fmt::format("hub exited with {} after SIGTERM", code));
    }
  }

 private:
  std::filesystem::path db_;
  std::optional<Child> child_;
  std::string ingest_;
  std::string stream_;
};

/// Submits of ~`target_bytes` serialized: a hotline work order with a unique source key per event.
class EventMaker {
 public:
  explicit EventMaker(std::size_t target_bytes) {
    auto* ev = msg_.mutable_submit()->mutable_event();
    ev->set_channel(v1::CHANNEL_HOTLINE);
    ev->set_adapter_id("bench");
    ev->set_content_type("text/csv; charset=utf-8");
    ev->set_source_name("bench.csv");
    ev->mutable_received_at()->set_unix_micros(1'780'000'000'000'000);
    ev->mutable_received_at()->set_utc_offset_minutes(480);
    auto* f = ev->mutable_fields();
    f->set_reporter_name("张三");
    f->set_reporter_phone("13800000000");
    f->set_address_text("普集街道建设路 3 号楼");
    f->set_category_hint("路灯");
    f->set_request_kind("投诉");
    f->mutable_reported_at()->set_unix_micros(1'780'000'000'000'000);
    f->set_text("小区门口路灯不亮已经一周，晚上出行不便，请尽快维修。");
    set(0);
    const std::size_t size = msg_.ByteSizeLong();
    // The text's length prefix may grow by a byte as it gets longer; close enough for "~300 bytes".
    if (size < target_bytes) f->mutable_text()->append(target_bytes - size, '.');
    bytes_ = msg_.ByteSizeLong();
  }

  /// The Submit for event `i` (its correlation id is kCorrelationBase + i).
  const v1::AdapterToHub& set(std::uint64_t i) {
    msg_.mutable_submit()->set_correlation_id(kCorrelationBase + i);
    msg_.mutable_submit()->mutable_event()->set_source_key(fmt::format("BENCH-{:010d}", i));
    return msg_;
  }
  std::size_t bytes() const { return bytes_; }

 private:
  v1::AdapterToHub msg_;
  std::size_t bytes_ = 0;
};

inline zmq::socket_t connect_dealer(zmq::context_t& ctx, const std::string& endpoint) {
  zmq::socket_t s(ctx, zmq::socket_type::dealer);
  transport::apply_common_options(s, kMaxFrameBytes);
  // The window, not ZeroMQ's queue limits, bounds what is in flight.
  s.set(zmq::sockopt::sndhwm, 0);
  s.set(zmq::sockopt::rcvhwm, 0);
  s.set(zmq::sockopt::rcvtimeo, kAckTimeoutMs);
  s.connect(endpoint);
  return s;
}

inline void send_submit(zmq::socket_t& s, const v1::AdapterToHub& msg) {
  if (transport::send_dealer(s, msg, /*dontwait=*/false) != transport::SendStatus::kSent) {
    throw BenchError("hub: send of a Submit failed");
  }
}


}  // namespace gridhub::bench
