// The stateless stages on a worker pool (ingest.workers), end to end: a real hub routing with the
// example pipeline, one DEALER sending Submits, a reload in the middle of them.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <fstream>
#include <map>
#include <zmq.hpp>

#include "gridhub/sqlite/sqlite.hpp"
#include "gridhub/v1/wire.pb.h"
#include "process.hpp"

namespace gridhub::testing {
namespace {

namespace v1 = gridhub::v1;
using namespace std::chrono_literals;

const std::string kWugong = source_path("examples/wugong");

class Dealer {
 public:
  explicit Dealer(const std::string& endpoint) : sock_(ctx_, zmq::socket_type::dealer) {
    sock_.set(zmq::sockopt::sndhwm, 0);
    sock_.set(zmq::sockopt::rcvhwm, 0);
    sock_.connect(endpoint);
  }
  void send(const v1::AdapterToHub& m) {
    const std::string bytes = m.SerializeAsString();
    sock_.send(zmq::buffer(bytes), zmq::send_flags::none);
  }
  /// The next reply; an empty message when none came within a generous bound (the test then fails).
  v1::HubToAdapter receive() {
    zmq::pollitem_t items[] = {{sock_.handle(), 0, ZMQ_POLLIN, 0}};
    zmq::poll(items, 1, 30s);
    v1::HubToAdapter r;
    zmq::message_t msg;
    if ((items[0].revents & ZMQ_POLLIN) && sock_.recv(msg)) r.ParseFromArray(msg.data(), static_cast<int>(msg.size()));
    return r;
  }

 private:
  zmq::context_t ctx_{1};
  zmq::socket_t sock_;
};

/// A water outage at one address (the example model files it as 1801, which categories.csv sends
/// to the county's water department). Each report is a month after the previous one, so none merge
/// and each opens a ticket of its own.
v1::AdapterToHub water_outage(std::uint64_t correlation, int i) {
  v1::AdapterToHub m;
  m.mutable_submit()->set_correlation_id(correlation);
  auto* ev = m.mutable_submit()->mutable_event();
  ev->set_channel(v1::CHANNEL_HOTLINE);
  ev->set_adapter_id("workers-test");
  ev->set_source_key(fmt::format("W-{:05}", i));
  auto* f = ev->mutable_fields();
  // Some in Traditional characters, which take the normalizer's slower path, and every seventh a
  // long one: the workers finish records at very different paces, so results come back out of order
  // and only the hub's reordering keeps the log in send order.
  const std::string simplified = "家里停水一整天了，也没有通知，请尽快处理。";
  const std::string traditional = "家裡停水一整天了，也沒有通知，請儘快處理。";
  std::string text = i % 2 == 0 ? simplified : traditional;
  if (i % 7 == 3) {
    for (int k = 0; k < 200; ++k) text += traditional;
  }
  f->set_text(text);
  f->set_address_text("普集街道书院社区清河新城14栋1单元");
  f->set_category_hint("水电气暖/供水");
  f->set_request_kind("投诉");
  f->mutable_reported_at()->set_unix_micros(1714954320000000LL + static_cast<std::int64_t>(i) * 30LL * 86400000000LL);
  return m;
}

/// Sends half the events, a reload, the other half; checks acks, log order and each event's routing.
void send_order_across_a_reload(int workers) {
  TempDir dir;
  std::filesystem::copy_file(kWugong + "/world/categories.csv", dir / "categories.csv");
  const std::string original = slurp(dir / "categories.csv");
  const std::string toml = "[pipeline]\nchat_groups = \"" + kWugong + "/wechat/groups.csv\"\n"
                           "[plugins.resolver_gazetteer]\nworld_dir = \"" + kWugong + "/world\"\n"
                           "[plugins.classifier_ngram]\nmodel = \"" + kWugong + "/model/classifier.ngram\"\n"
                           "[plugins.router_tiered]\ncategories = \"" + (dir / "categories.csv").string() + "\"\n";
  HubProcess hub(dir.path(), fmt::format("workers = {}", workers), toml);
  hub.start();
  Dealer c(hub.ingest());

  // Half the events, then (with the table edited) a reload, then the other half — all sent without
  // waiting for any answer, so the reload arrives while earlier events are still in the workers.
  constexpr int kEvents = 600;
  constexpr int kBeforeReload = kEvents / 2;
  for (int i = 0; i < kBeforeReload; ++i) c.send(water_outage(static_cast<std::uint64_t>(i + 1), i));
  std::string moved = original;
  moved.replace(moved.find("CTY_SWJ"), 7, "CTY_NEW");
  std::ofstream(dir / "categories.csv", std::ios::trunc) << moved;
  v1::AdapterToHub reload;
  reload.mutable_reload();
  c.send(reload);
  for (int i = kBeforeReload; i < kEvents; ++i) c.send(water_outage(static_cast<std::uint64_t>(i + 1), i));

  std::map<std::uint64_t, int> acks;   // correlation -> acks received
  std::map<std::uint64_t, std::uint64_t> seq_of;
  int reloads = 0;
  int other = 0;
  while (static_cast<int>(acks.size()) < kEvents || reloads == 0) {
    auto r = c.receive();
    if (r.has_ack()) {
      ++acks[r.ack().correlation_id()];
      seq_of[r.ack().correlation_id()] = r.ack().log_seq();
      EXPECT_FALSE(r.ack().duplicate());
      EXPECT_FALSE(r.ack().dead_lettered());
    } else if (r.has_reload()) {
      ++reloads;
      EXPECT_TRUE(r.reload().ok()) << r.reload().message();
    } else {
      ++other;   // a nack, or nothing within the bound
      ASSERT_LT(other, 1) << "unexpected reply: " << r.ShortDebugString();
    }
  }
  EXPECT_EQ(reloads, 1);
  for (std::uint64_t corr = 1; corr <= kEvents; ++corr) {
    ASSERT_EQ(acks[corr], 1) << "correlation " << corr;
    if (corr > 1) {
      ASSERT_EQ(seq_of[corr], seq_of[corr - 1] + 1) << "acked seqs follow the send order";
    }
  }

  // What an auditor sees: the log in send order, each event routed by the table in force when it arrived.
  ASSERT_EQ(hub.terminate(), 0);
  auto db = sqlite::Database::open(hub.db(), sqlite::OpenMode::kReadOnly);
  ASSERT_TRUE(db.ok());
  auto st = db->prepare(
      "SELECT l.source_key, t.assignee_code FROM log l JOIN tickets t ON t.created_seq = l.seq "
      "WHERE l.kind = 'intake_accepted' ORDER BY l.seq");
  ASSERT_TRUE(st.ok());
  int i = 0;
  while (st->step().value()) {
    ASSERT_EQ(std::string(st->column_text(0)), fmt::format("W-{:05}", i)) << "log position " << i;
    EXPECT_EQ(std::string(st->column_text(1)), i < kBeforeReload ? "CTY_SWJ" : "CTY_NEW") << "record " << i;
    ++i;
  }
  EXPECT_EQ(i, kEvents);
}

TEST(IngestWorkers, OneSendersEventsAreLoggedInSendOrderAndAckedOnceAcrossAReload) { send_order_across_a_reload(4); }

TEST(IngestWorkers, WithNoWorkersTheStagesRunOnTheIoThreadWithTheSameOutcome) { send_order_across_a_reload(0); }

/// Every byte of the log's files, to look for what must (not) be stored.
std::string log_bytes(const std::filesystem::path& db) {
  std::string all;
  for (const auto* suffix : {"", "-wal"}) {
    if (std::filesystem::exists(db.string() + suffix)) all += slurp(db.string() + suffix);
  }
  return all;
}

TEST(IngestWorkers, FieldsTheHubDoesNotKnowAreNotStoredWhereverTheStagesRun) {
  // Unrouted, the ticket is built on the io thread; routed, on a worker: neither stores unknown fields.
  for (const bool routed : {false, true}) {
    SCOPED_TRACE(routed ? "routed" : "unrouted");
    TempDir dir;
    const std::string toml = routed ? "[pipeline]\nchat_groups = \"" + kWugong + "/wechat/groups.csv\"\n"
                                      "[plugins.resolver_gazetteer]\nworld_dir = \"" + kWugong + "/world\"\n"
                                      "[plugins.classifier_ngram]\nmodel = \"" + kWugong + "/model/classifier.ngram\"\n"
                                      "[plugins.router_tiered]\ncategories = \"" + kWugong + "/world/categories.csv\"\n"
                                    : std::string();
    HubProcess hub(dir.path(), "workers = 2", toml);
    hub.start();
    Dealer c(hub.ingest());
    auto m = water_outage(1, 0);
    auto* ev = m.mutable_submit()->mutable_event();
    ev->GetReflection()->MutableUnknownFields(ev)->AddLengthDelimited(999, "UNKNOWN-TOP-LEVEL-MARKER");
    auto* f = ev->mutable_fields();
    f->GetReflection()->MutableUnknownFields(f)->AddLengthDelimited(998, "UNKNOWN-NESTED-MARKER");
    c.send(m);
    auto r = c.receive();
    ASSERT_TRUE(r.has_ack()) << r.ShortDebugString();
    ASSERT_EQ(hub.terminate(), 0);
    const std::string stored = log_bytes(hub.db());
    EXPECT_NE(stored.find("W-00000"), std::string::npos) << "the record itself is there to be searched";
    EXPECT_EQ(stored.find("UNKNOWN-TOP-LEVEL-MARKER"), std::string::npos);
    EXPECT_EQ(stored.find("UNKNOWN-NESTED-MARKER"), std::string::npos);
  }
}

TEST(IngestWorkers, ANegativeWorkersValueIsRefusedAtStartUpNamingTheKey) {
  TempDir dir;
  HubProcess hub(dir.path(), "workers = -1");
  auto [rc, out] = run({bin("gridhub"), "-c", hub.config().string()}, dir / "hub.err");
  EXPECT_NE(rc, 0);
  EXPECT_NE(slurp(dir / "hub.err").find("ingest.workers"), std::string::npos) << slurp(dir / "hub.err");
}

}  // namespace
}  // namespace gridhub::testing
