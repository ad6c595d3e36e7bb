// The stream server's fan-out, on loopback in this process: one Deliveries message is built per
// visibility class and shared by the subscribers of that class, and each class gets its own form of
// the personal fields.
#include "gridhub/core/stream_server.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <map>

#include "../../testing/temp_dir.hpp"
#include "gridhub/common/clock.hpp"
#include "gridhub/core/sequencer.hpp"
#include "gridhub/log/event_log.hpp"
#include "gridhub/transport/frames.hpp"

namespace gridhub::core {
namespace {

namespace v1 = gridhub::v1;

/// Everyone sees every record; subscription names starting "clear" may read personal data, the
/// others get it masked.
class NamesGatekeeper final : public Gatekeeper {
 public:
  std::shared_ptr<const Principal> identify(const transport::RouterMessage&, std::string_view claimed) const override {
    const bool pii = claimed.rfind("clear", 0) == 0;
    return std::make_shared<const Principal>(Principal{std::string(claimed), pii ? "center" : "auditor", pii, true, true, nullptr});
  }
  bool may_see(const Principal&, const v1::Ticket*) const override { return true; }
  std::vector<std::string_view> decision_fields() const override { return {}; }
  bool may_update(const Principal&, const v1::Ticket&) const override { return false; }
};

log::AppendItem report(const std::string& key, const std::string& phone) {
  log::IntakeItem item;
  auto* ev = item.body.mutable_event();
  ev->set_channel(v1::CHANNEL_HOTLINE);
  ev->set_source_key(key);
  ev->set_original_payload(key + ",王女士," + phone + ",路灯不亮");
  ev->mutable_fields()->set_reporter_name("王女士");
  ev->mutable_fields()->set_reporter_phone(phone);
  item.body.mutable_ticket()->mutable_reporter()->set_phone(phone);
  item.body.mutable_ticket()->set_assignee_code("G0101");
  return log::AppendItem(std::move(item));
}

TEST(StreamServer, OneEncodingPerVisibilityClassSharedBySubscribersOfThatClass) {
  gridhub::testing::TempDir dir;
  ManualClock clock(1'780'000'000'000'000);
  auto log = core::open_log(dir / "gridhub.db", log::LogOptions{}, clock);
  ASSERT_TRUE(log.ok()) << log.error().message();
  auto append = [&](log::AppendItem item) {
    std::vector<log::AppendItem> items;
    items.push_back(std::move(item));
    std::vector<log::AppendOutcome> out;
    ASSERT_TRUE(log.value()->append(items, out).ok());
  };
  append(report("GD1", "13800000001"));
  auto reader = log::LogReader::open(dir / "gridhub.db");
  ASSERT_TRUE(reader.ok()) << reader.error().message();

  boost::asio::io_context io;
  zmq::context_t zmq(1);
  NamesGatekeeper gatekeeper;
  StreamOptions options;
  options.endpoints = {"tcp://127.0.0.1:*"};
  StreamServer server(io, zmq, std::move(reader.value()), options, gatekeeper, nullptr,
                      [](log::AppendItem, std::function<void(const Status&, const log::AppendOutcome&)> done) {
                        done(Status(Error(Errc::unavailable, "no writer in this test")), log::AppendOutcome{});
                      });
  server.start();

  const std::vector<std::string> names = {"clear-a", "clear-b", "masked-a"};
  std::map<std::string, zmq::socket_t> subs;
  for (const auto& name : names) {
    zmq::socket_t s(zmq, zmq::socket_type::dealer);
    s.set(zmq::sockopt::linger, 0);
    s.connect(server.bound_endpoints().at(0));
    v1::SubscriberToHub m;
    m.mutable_subscribe()->set_name(name);
    m.mutable_subscribe()->set_start(v1::START_POINT_HEAD);
    m.mutable_subscribe()->set_credit(10);
    m.mutable_subscribe()->set_max_batch(16);
    ASSERT_EQ(transport::send_dealer(s, m, false), transport::SendStatus::kSent);
    subs.emplace(name, std::move(s));
  }
  // Runs the server's loop until every subscriber received one message; the deadline only turns a
  // hang into a failure.
  auto next_message_of_each = [&] {
    std::map<std::string, std::string> got;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (got.size() < subs.size() && std::chrono::steady_clock::now() < deadline) {
      io.run_for(std::chrono::milliseconds(5));
      for (auto& [name, s] : subs) {
        zmq::message_t msg;
        if (got.count(name) == 0 && s.recv(msg, zmq::recv_flags::dontwait)) got[name] = msg.to_string();
      }
    }
    return got;
  };
  for (const auto& [name, bytes] : next_message_of_each()) {
    v1::HubToSubscriber in;
    ASSERT_TRUE(in.ParseFromString(bytes));
    ASSERT_TRUE(in.has_subscribed()) << name;
  }
  ASSERT_EQ(server.sessions(), 3u);

  // One record reaches all three in the same turn of the loop.
  append(report("GD2", "13900000002"));
  server.on_commit(2);
  const auto got = next_message_of_each();
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got.at("clear-a"), got.at("clear-b")) << "one class: the same bytes";
  EXPECT_NE(got.at("clear-a"), got.at("masked-a")) << "two classes: two forms";
  for (const auto& [name, bytes] : got) {
    v1::HubToSubscriber in;
    ASSERT_TRUE(in.ParseFromString(bytes));
    ASSERT_EQ(in.deliveries().deliveries_size(), 1) << name;
    const auto& d = in.deliveries().deliveries(0);
    EXPECT_EQ(d.seq(), 2u);
    v1::LogRecord record;
    ASSERT_TRUE(record.ParseFromString(d.record()));
    const auto& event = record.intake_accepted().event();
    const bool clear = name.rfind("clear", 0) == 0;
    EXPECT_EQ(event.fields().reporter_phone(), clear ? "13900000002" : "139****0002") << name;
    EXPECT_EQ(event.original_payload().empty(), !clear) << name << ": masked drops the raw bytes";
    EXPECT_EQ(bytes.find("sealed:v1:"), std::string::npos) << name << ": ciphertext went out";
  }
  const auto& c = server.counters();
  EXPECT_EQ(c.frames_encoded, 2u) << "the record was opened and encoded once per class, not per subscriber";
  EXPECT_EQ(c.batches, 3u);
  EXPECT_EQ(c.batches_shared, 1u) << "the second subscriber of the clear class was sent the first one's buffer";
  EXPECT_EQ(c.delivered, 3u);
  server.stop();
}

}  // namespace
}  // namespace gridhub::core
