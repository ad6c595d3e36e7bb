// What reaches the hub from imperfect exports and from hostile peers, with real processes:
// gridhub-hotline and raw ZeroMQ clients against a running gridhub.
#include <gtest/gtest.h>

#include <fstream>
#include <zmq.hpp>

#include "gridhub/sqlite/sqlite.hpp"
#include "gridhub/v1/wire.pb.h"
#include "process.hpp"

namespace gridhub::testing {
namespace {

namespace v1 = gridhub::v1;
using namespace std::chrono_literals;

constexpr const char* kHeader = "工单编号,来电时间,来电人,联系电话,受理渠道,诉求类型,问题分类,诉求内容,事发地址,备注\n";

std::string row(const std::string& key, const std::string& when, const std::string& text) {
  return key + "," + when + ",王女士,13800000001,电话,投诉,,\"" + text + "\",育才路12号,\n";
}

std::int64_t json_int(const std::string& json, const std::string& key) {
  const std::string needle = "\"" + key + "\":";
  auto pos = json.find(needle);
  if (pos == std::string::npos) return -1;
  return std::strtoll(json.c_str() + pos + needle.size(), nullptr, 10);
}

std::int64_t query(const std::filesystem::path& db, const std::string& sql) {
  auto d = sqlite::Database::open(db, sqlite::OpenMode::kReadOnly);
  EXPECT_TRUE(d.ok());
  auto v = d->query_int(sql);
  EXPECT_TRUE(v.ok()) << (v.ok() ? "" : v.error().message());
  return v.ok() ? v.value() : -1;
}

std::int64_t status_counter(const std::string& status, const std::string& name) {
  auto pos = status.find(name + " ");
  if (pos == std::string::npos) return -1;
  return std::strtoll(status.c_str() + pos + name.size() + 1, nullptr, 10);
}

class IntakeTest : public ::testing::Test {
 protected:
  void SetUp() override { hub_.start(); }

  std::pair<int, std::string> import(const std::string& name, const std::filesystem::path& file, const std::string& extra = {}) {
    auto cfg = write_hotline_config(dir_.path(), name, hub_.ingest(), extra);
    return run({bin("gridhub-hotline"), "-c", cfg.string(), "--json-summary", file.string()}, dir_ / (name + ".stderr"));
  }

  void write(const std::filesystem::path& file, const std::string& text) { std::ofstream(file, std::ios::binary) << text; }

  TempDir dir_;
  HubProcess hub_{dir_.path()};
};

// Issue #11, item 1: the rejected version must not hold the record's slot in the outbox, and the hub
// must take the corrected version although it dead-lettered the first one.
TEST_F(IntakeTest, CorrectedRowIsSentAfterItsRejectedVersionAndThenKnown) {
  const auto file = dir_ / "export.csv";
  write(file, std::string(kHeader) + row("GD1", "2024/5/30 8:00", "路灯不亮") + row("GD2", "2024/5/32 9:15", "井盖丢了"));
  auto [rc1, out1] = import("hotline", file);
  ASSERT_EQ(rc1, 0) << out1 << slurp(dir_ / "hotline.stderr");
  EXPECT_EQ(json_int(out1, "sent"), 1);
  EXPECT_EQ(json_int(out1, "dead_lettered"), 1);
  EXPECT_EQ(json_int(out1, "bad_date"), 1);

  // The operator fixes the date and imports the file again through the same adapter.
  write(file, std::string(kHeader) + row("GD1", "2024/5/30 8:00", "路灯不亮") + row("GD2", "2024/5/31 9:15", "井盖丢了"));
  auto [rc2, out2] = import("hotline", file);
  ASSERT_EQ(rc2, 0) << out2 << slurp(dir_ / "hotline.stderr");
  EXPECT_EQ(json_int(out2, "sent"), 1) << out2;
  EXPECT_EQ(json_int(out2, "corrected"), 1) << out2;
  EXPECT_EQ(json_int(out2, "already_known"), 1) << out2;
  EXPECT_EQ(query(hub_.db(), "SELECT count(*) FROM log WHERE source_key = 'GD2'"), 1);
  EXPECT_EQ(query(hub_.db(), "SELECT count(*) FROM tickets"), 2);

  // The same text summary says what happened.
  auto cfg = write_hotline_config(dir_.path(), "hotline", hub_.ingest());
  write(file, std::string(kHeader) + row("GD1", "2024/5/30 8:00", "路灯不亮") + row("GD2", "2024/5/32 9:15", "井盖丢了") +
                  row("GD3", "2024/5/32 9:20", "树倒了"));
  ASSERT_EQ(import("hotline", file).first, 0);   // GD3 rejected; GD2's rejected form again adds nothing
  write(file, std::string(kHeader) + row("GD3", "2024/5/31 9:20", "树倒了"));
  auto [rc3, text] = run({bin("gridhub-hotline"), "-c", cfg.string(), file.string()}, dir_ / "hotline.stderr");
  ASSERT_EQ(rc3, 0) << text;
  EXPECT_NE(text.find("1 corrected records re-sent after an earlier rejection"), std::string::npos) << text;

  // A third identical import is "already known"; nothing is stored twice.
  auto [rc4, out4] = import("hotline", file);
  ASSERT_EQ(rc4, 0) << out4;
  EXPECT_EQ(json_int(out4, "sent"), 0);
  EXPECT_EQ(json_int(out4, "corrected"), 0);
  EXPECT_EQ(json_int(out4, "already_known"), 1);
  EXPECT_EQ(query(hub_.db(), "SELECT count(*) FROM log"), 3);
  EXPECT_EQ(query(hub_.db(), "SELECT count(*) FROM log WHERE source_key IN ('GD2', 'GD3')"), 2);
}

// Issue #11, item 2: one stray quote early in an export costs its own row, not the rest of the file,
// and what the rejected row carries to the dead letters is a bounded excerpt.
TEST_F(IntakeTest, StrayQuoteEarlyOnCostsOneRowAndTheImportFinishes) {
  constexpr int kRows = 3000;
  std::string text = kHeader;
  text += "GD0,2024/5/30 8:00,王女士,13800000001,电话,投诉,,\"路灯不亮,育才路12号,\n";   // quote never closed
  for (int i = 1; i <= kRows; ++i) {
    text += "GD" + std::to_string(i) + ",2024/5/30 8:00,王女士,13800000001,电话,投诉,,路灯不亮第" + std::to_string(i) +
            "盏,育才路12号,备注备注备注备注备注备注备注备注\n";
  }
  ASSERT_GT(text.size(), 300'000u);
  const auto file = dir_ / "stray.csv";
  write(file, text);
  auto [rc, out] = import("hotline", file);
  ASSERT_EQ(rc, 0) << out << slurp(dir_ / "hotline.stderr");
  EXPECT_EQ(json_int(out, "rows"), kRows + 1);
  EXPECT_EQ(json_int(out, "sent"), kRows);
  EXPECT_EQ(json_int(out, "dead_lettered"), 1);
  EXPECT_EQ(json_int(out, "reconnects"), 0);
  EXPECT_EQ(json_int(out, "pending"), 0);
  // The error names the file, the line the quote is on, and the line numbers after it stay right.
  const auto err = slurp(dir_ / "hotline.stderr");
  EXPECT_NE(err.find("stray.csv:2: rejected (bad_csv"), std::string::npos) << err;
  EXPECT_NE(err.find("opened on line 2"), std::string::npos) << err;
  EXPECT_EQ(query(hub_.db(), "SELECT count(*) FROM dead_letters WHERE source_key = 'GD0' AND location LIKE '%stray.csv:2'"), 1);
  EXPECT_LE(query(hub_.db(), "SELECT max(length(payload)) FROM dead_letters"), 4096);
  EXPECT_EQ(query(hub_.db(), "SELECT count(*) FROM log"), kRows);
  EXPECT_EQ(query(hub_.db(), "SELECT count(*) FROM tickets"), kRows);
}

// A record too large for one hub frame is dead-lettered under its key (an excerpt), never resent:
// the import ends.
TEST_F(IntakeTest, RecordTooLargeForAFrameIsDeadLetteredOnceAndTheImportEnds) {
  const auto file = dir_ / "big.csv";
  std::string big;
  for (int i = 0; i < 16000; ++i) big += "很长";   // 96,000 bytes of text in one cell (a cell may hold that)
  write(file, std::string(kHeader) + row("GD1", "2024/5/30 8:00", big) + row("GD2", "2024/5/30 8:05", "路灯不亮"));
  auto [rc, out] = import("hotline", file, "max_frame_bytes = 65536\n");
  ASSERT_EQ(rc, 0) << out << slurp(dir_ / "hotline.stderr");
  EXPECT_EQ(json_int(out, "sent"), 1);
  EXPECT_EQ(json_int(out, "dead_lettered"), 1);
  EXPECT_EQ(json_int(out, "reconnects"), 0);
  EXPECT_EQ(query(hub_.db(), "SELECT count(*) FROM dead_letters WHERE source_key = 'GD1' AND reason_code = 'too_large'"
                             " AND length(payload) <= 6144"),   // a 4 KiB excerpt, sealed (encoded, key id)
            1);
}

/// A bare DEALER on the ingest endpoint.
class RawClient {
 public:
  explicit RawClient(const std::string& endpoint) : sock_(ctx_, zmq::socket_type::dealer) { sock_.connect(endpoint); }
  void send_bytes(const std::string& bytes) { sock_.send(zmq::buffer(bytes), zmq::send_flags::none); }
  v1::HubToAdapter receive() {
    zmq::pollitem_t items[] = {{sock_.handle(), 0, ZMQ_POLLIN, 0}};
    zmq::poll(items, 1, 10s);
    v1::HubToAdapter r;
    zmq::message_t msg;
    if ((items[0].revents & ZMQ_POLLIN) && sock_.recv(msg)) r.ParseFromArray(msg.data(), static_cast<int>(msg.size()));
    return r;
  }

 private:
  zmq::context_t ctx_{1};
  zmq::socket_t sock_;
};

class SmallFrameHubTest : public ::testing::Test {
 protected:
  void SetUp() override { hub_.start(); }
  TempDir dir_;
  HubProcess hub_{dir_.path(), "max_frame_bytes = 4096"};
};

// Issue #11, item 2: a frame over max_frame_bytes is answered with its own correlation id (the sender
// can settle that event), and its dead letter names the record and keeps an excerpt.
TEST_F(SmallFrameHubTest, OversizedFrameIsNackedWithItsCorrelationAndDeadLetteredUnderItsKey) {
  RawClient c(hub_.ingest());
  v1::AdapterToHub m;
  m.mutable_submit()->set_correlation_id(4242);
  auto* ev = m.mutable_submit()->mutable_event();
  ev->set_channel(v1::CHANNEL_HOTLINE);
  ev->set_adapter_id("raw-test");
  ev->set_source_key("GD-BIG");
  ev->set_original_payload(std::string(6000, 'x'));   // between max_frame_bytes and ZeroMQ's hard cut (2x)
  c.send_bytes(m.SerializeAsString());
  auto r = c.receive();
  ASSERT_TRUE(r.has_nack());
  EXPECT_EQ(r.nack().code(), v1::NACK_CODE_TOO_LARGE);
  EXPECT_EQ(r.nack().correlation_id(), 4242u);
  EXPECT_EQ(hub_.terminate(), 0);
  EXPECT_EQ(query(hub_.db(), "SELECT count(*) FROM dead_letters WHERE reason_code = 'too_large' AND source_key = 'GD-BIG'"
                             " AND adapter_id = 'raw-test' AND length(payload) <= 6144"),
            1);
}

// Issue #11, item 19: garbage from one peer fills dead_letters up to a cap, the rest is counted, and
// the library's complaints about the frames go through the hub's rate-limited log.
TEST_F(SmallFrameHubTest, GarbageFloodFromOnePeerIsCappedCountedAndQuiet) {
  constexpr int kFrames = 20000;
  constexpr int kCap = 1000;   // ingest.max_dead_letters_per_peer's default
  // Parses up to a string field with invalid UTF-8: protobuf complains about each one.
  v1::AdapterToHub m;
  m.mutable_submit()->set_correlation_id(1);
  m.mutable_submit()->mutable_event()->set_source_key("k");
  std::string frame = m.SerializeAsString();
  frame.back() = '\xff';
  RawClient c(hub_.ingest());
  int nacked = 0;
  for (int sent = 0; sent < kFrames;) {
    // In batches, so the hub's answers never pile up beyond our socket's queue.
    for (int i = 0; i < 500; ++i, ++sent) c.send_bytes(frame);
    for (int i = 0; i < 500; ++i) {
      auto r = c.receive();
      ASSERT_TRUE(r.has_nack()) << "after " << nacked << " nacks";
      ++nacked;
    }
  }
  EXPECT_EQ(nacked, kFrames);
  auto [rc, status] = run({bin("gridhubctl"), "status", "--hub", hub_.ingest()}, dir_ / "s.stderr");
  ASSERT_EQ(rc, 0);
  EXPECT_EQ(status_counter(status, "ingest_nacked_malformed_total"), kFrames) << status;
  EXPECT_EQ(status_counter(status, "ingest_dead_letters_dropped_total"), kFrames - kCap) << status;
  EXPECT_EQ(hub_.terminate(), 0);
  EXPECT_EQ(query(hub_.db(), "SELECT count(*) FROM dead_letters"), kCap);
  // The hub's stderr did not grow with the flood.
  const auto err = slurp(hub_.stderr_file());
  EXPECT_LT(std::count(err.begin(), err.end(), '\n'), 300) << err.substr(0, 2000);
  EXPECT_EQ(err.find("[libprotobuf"), std::string::npos) << err.substr(0, 2000);
}

}  // namespace
}  // namespace gridhub::testing
