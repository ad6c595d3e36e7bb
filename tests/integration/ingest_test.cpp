// End to end with real processes: gridhub-hotline -> gridhub -> SQLite log -> gridhubctl tail.
#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>
#include <set>
#include <thread>
#include <zmq.hpp>

#include "gridhub/sqlite/sqlite.hpp"
#include "gridhub/transport/frames.hpp"
#include "gridhub/v1/wire.pb.h"
#include "process.hpp"

namespace gridhub::testing {
namespace {

namespace v1 = gridhub::v1;
using namespace std::chrono_literals;

const std::vector<std::string> kExports = {
    source_path("examples/wugong/hotline/export_20240506-20240516.csv"),   // GB18030, CRLF
    source_path("examples/wugong/hotline/export_20240517-20240526.csv"),   // UTF-8 with BOM
    source_path("examples/wugong/hotline/export_20240527-20240605.csv"),   // UTF-8, quoted newlines
};
constexpr int kRows = 287;        // data rows in the three exports (labels.csv)
constexpr int kMalformed = 6;     // rows labelled malformed
constexpr int kTickets = kRows - kMalformed;

std::int64_t json_int(const std::string& json, const std::string& key) {
  const std::string needle = "\"" + key + "\":";
  auto pos = json.find(needle);
  if (pos == std::string::npos) return -1;
  return std::strtoll(json.c_str() + pos + needle.size(), nullptr, 10);
}

/// Every "phone" value in the JSON lines looks like 138****0001.
bool phones_masked(const std::string& out) {
  std::size_t n = 0;
  for (auto pos = out.find("\"phone\":\""); pos != std::string::npos; pos = out.find("\"phone\":\"", pos + 1)) {
    auto v = out.substr(pos + 9, out.find('"', pos + 9) - pos - 9);
    if (v.size() != 11 || v.substr(3, 4) != "****") return false;
    ++n;
  }
  return n > 0;
}

std::int64_t query(const std::filesystem::path& db, const std::string& sql) {
  auto d = sqlite::Database::open(db, sqlite::OpenMode::kReadOnly);
  EXPECT_TRUE(d.ok());
  auto v = d->query_int(sql);
  EXPECT_TRUE(v.ok()) << (v.ok() ? "" : v.error().message());
  return v.ok() ? v.value() : -1;
}

std::vector<std::string> lines_of(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

class IngestTest : public ::testing::Test {
 protected:
  void SetUp() override { hub_.start(); }

  std::pair<int, std::string> import(const std::string& name, const std::vector<std::string>& files) {
    auto cfg = write_hotline_config(dir_.path(), name, hub_.ingest());
    std::vector<std::string> argv = {bin("gridhub-hotline"), "-c", cfg.string(), "--json-summary"};
    argv.insert(argv.end(), files.begin(), files.end());
    return run(argv, dir_ / (name + ".stderr"));
  }

  TempDir dir_;
  HubProcess hub_{dir_.path()};
};

TEST_F(IngestTest, HotlineExportsBecomeTicketsAndMalformedRowsBecomeDeadLetters) {
  auto [rc, out] = import("hotline", kExports);
  ASSERT_EQ(rc, 0) << out << slurp(dir_ / "hotline.stderr");
  EXPECT_EQ(json_int(out, "rows"), kRows);
  EXPECT_EQ(json_int(out, "sent"), kTickets);
  EXPECT_EQ(json_int(out, "dead_lettered"), kMalformed);
  EXPECT_EQ(json_int(out, "bad_date"), 3);
  EXPECT_EQ(json_int(out, "column_count"), 3);
  EXPECT_EQ(json_int(out, "pending"), 0);

  EXPECT_EQ(query(hub_.db(), "SELECT count(*) FROM log"), kTickets);
  EXPECT_EQ(query(hub_.db(), "SELECT count(*) FROM tickets"), kTickets);
  EXPECT_EQ(query(hub_.db(), "SELECT count(*) FROM dead_letters"), kMalformed);
  // Each malformed row is findable with its reason, field and file:line.
  EXPECT_EQ(query(hub_.db(), "SELECT count(*) FROM dead_letters WHERE source_key='GD202405100024' AND reason_code='bad_date'"
                             " AND field='来电时间' AND location LIKE '%export_20240506-20240516.csv:51'"), 1);
  // The adapter's stderr names file, line and field for each rejected row.
  EXPECT_NE(slurp(dir_ / "hotline.stderr").find("export_20240527-20240605.csv:31: rejected (column_count"), std::string::npos);

  // The GB18030 export's rare characters arrived intact (䶮 is outside GB2312, 𠮷 outside the BMP).
  auto [trc, tout] = run({bin("gridhubctl"), "tail", "--hub", hub_.stream(), "--max", std::to_string(kTickets), "--show-pii"},
                         dir_ / "tail.stderr");
  ASSERT_EQ(trc, 0);
  auto lines = lines_of(tout);
  ASSERT_EQ(lines.size(), static_cast<std::size_t>(kTickets));
  EXPECT_NE(lines.front().find("\"seq\":1,"), std::string::npos);
  EXPECT_NE(lines.back().find("\"seq\":" + std::to_string(kTickets) + ","), std::string::npos);
  EXPECT_NE(tout.find("䶮"), std::string::npos);
  EXPECT_NE(tout.find("𠮷"), std::string::npos);
  // A multi-line quoted 诉求内容 keeps its newline.
  EXPECT_NE(tout.find("\\n"), std::string::npos);
}

TEST_F(IngestTest, ReimportStoresNothingTwice) {
  ASSERT_EQ(import("hotline", kExports).first, 0);
  // Same adapter: its outbox already knows every row.
  auto [rc1, out1] = import("hotline", kExports);
  ASSERT_EQ(rc1, 0) << out1;
  EXPECT_EQ(json_int(out1, "sent"), 0);
  EXPECT_EQ(json_int(out1, "already_known"), kRows);
  // A second adapter with a fresh outbox: the hub recognises every event and acks the original seq.
  auto [rc2, out2] = import("hotline-b", kExports);
  ASSERT_EQ(rc2, 0) << out2;
  EXPECT_EQ(json_int(out2, "sent"), 0);
  EXPECT_EQ(json_int(out2, "already_known"), kTickets);
  EXPECT_EQ(query(hub_.db(), "SELECT count(*) FROM log"), kTickets);
  EXPECT_EQ(query(dir_ / "hotline-b-outbox.db",
                  "SELECT count(*) FROM outbox o WHERE duplicate=1 AND log_seq BETWEEN 1 AND " + std::to_string(kTickets)),
            kTickets);
}

TEST_F(IngestTest, TailCatchesUpFromTheLogThenFollowsLive) {
  ASSERT_EQ(import("a", {kExports[0]}).first, 0);   // 97 tickets
  auto tail = Process::spawn({bin("gridhubctl"), "tail", "--hub", hub_.stream(), "--from-seq", "1"}, dir_ / "tail.stderr");
  for (int i = 1; i <= 97; ++i) {
    auto line = tail.read_line(10s);
    ASSERT_TRUE(line) << "catch-up stopped after " << i - 1;
    ASSERT_NE(line->find("\"seq\":" + std::to_string(i) + ","), std::string::npos) << *line;
  }
  // Live: what is imported now reaches the already-connected subscriber.
  ASSERT_EQ(import("b", {kExports[1]}).first, 0);   // 91 more
  for (int i = 98; i <= 97 + 91; ++i) {
    auto line = tail.read_line(10s);
    ASSERT_TRUE(line) << "live delivery stopped after " << i - 1;
    ASSERT_NE(line->find("\"seq\":" + std::to_string(i) + ","), std::string::npos) << *line;
  }
  // Masked by default: no full phone number in the stream.
  tail.signal(SIGTERM);
}

TEST_F(IngestTest, TailFromSeqStartsThereAndMasksPersonalData) {
  ASSERT_EQ(import("a", {kExports[0]}).first, 0);
  // Personal data is sealed in the log; the hub opens it for subscribers entitled to it (the local
  // operator, security off) and tail still masks it unless asked not to.
  auto [rc, out] = run({bin("gridhubctl"), "tail", "--hub", hub_.stream(), "--from-seq", "50", "--max", "1"},
                       dir_ / "t.stderr");
  ASSERT_EQ(rc, 0);
  EXPECT_NE(out.find("\"seq\":50,"), std::string::npos) << out;
  EXPECT_TRUE(phones_masked(out)) << out;
  EXPECT_EQ(out.find("sealed:v1:"), std::string::npos) << out;
  auto [src, shown] = run({bin("gridhubctl"), "tail", "--hub", hub_.stream(), "--from-seq", "50", "--max", "1", "--show-pii"},
                          dir_ / "t.stderr");
  ASSERT_EQ(src, 0);
  EXPECT_FALSE(phones_masked(shown)) << shown;
  EXPECT_EQ(shown.find("sealed:v1:"), std::string::npos) << shown;
}

TEST_F(IngestTest, SubscriberKeepsItsPlaceAcrossHubRestart) {
  ASSERT_EQ(import("a", {kExports[0]}).first, 0);
  auto tail = Process::spawn({bin("gridhubctl"), "tail", "--hub", hub_.stream()}, dir_ / "tail.stderr");
  for (int i = 1; i <= 97; ++i) ASSERT_TRUE(tail.read_line(10s));
  ASSERT_EQ(hub_.terminate(), 0);
  hub_.start();
  ASSERT_EQ(import("b", {kExports[1]}).first, 0);
  // The subscriber re-subscribes from its cursor: the next line is seq 98, nothing skipped or repeated.
  auto line = tail.read_line(20s);
  ASSERT_TRUE(line);
  EXPECT_NE(line->find("\"seq\":98,"), std::string::npos) << *line;
}

TEST_F(IngestTest, ProjectionIsRebuiltIdenticallyFromTheLog) {
  ASSERT_EQ(import("a", kExports).first, 0);
  auto [rc1, before] = run({bin("gridhubctl"), "tickets", "--db", hub_.db().string()}, dir_ / "c.stderr");
  ASSERT_EQ(rc1, 0);
  ASSERT_EQ(hub_.terminate(), 0);
  auto [rc2, msg] = run({bin("gridhubctl"), "rebuild-projection", "--db", hub_.db().string()}, dir_ / "c.stderr");
  ASSERT_EQ(rc2, 0) << slurp(dir_ / "c.stderr");
  EXPECT_NE(msg.find("rebuilt " + std::to_string(kTickets) + " tickets"), std::string::npos);
  auto [rc3, after] = run({bin("gridhubctl"), "tickets", "--db", hub_.db().string()}, dir_ / "c.stderr");
  EXPECT_EQ(before, after);
  EXPECT_EQ(lines_of(after).size(), static_cast<std::size_t>(kTickets));
}

class RawClient {
 public:
  explicit RawClient(const std::string& endpoint) : sock_(ctx_, zmq::socket_type::dealer) { sock_.connect(endpoint); }
  void send_bytes(const std::string& bytes) { sock_.send(zmq::buffer(bytes), zmq::send_flags::none); }
  void submit(std::uint64_t corr, const v1::Event& ev) {
    v1::AdapterToHub m;
    m.mutable_submit()->set_correlation_id(corr);
    *m.mutable_submit()->mutable_event() = ev;
    send_bytes(m.SerializeAsString());
  }
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

v1::Event good_event(const std::string& key) {
  v1::Event ev;
  ev.set_channel(v1::CHANNEL_HOTLINE);
  ev.set_adapter_id("raw-test");
  ev.set_source_key(key);
  ev.mutable_fields()->set_text("路灯不亮了");
  return ev;
}

class BadInputTest : public ::testing::Test {
 protected:
  void SetUp() override { hub_.start(); }
  TempDir dir_;
  HubProcess hub_{dir_.path(), "max_frame_bytes = 4096"};
};

TEST_F(BadInputTest, BadFramesAreNackedCountedDeadLetteredAndTheHubCarriesOn) {
  RawClient c(hub_.ingest());
  c.send_bytes("\xff\xff\xff not a protobuf");
  auto r1 = c.receive();
  ASSERT_TRUE(r1.has_nack());
  EXPECT_EQ(r1.nack().code(), v1::NACK_CODE_MALFORMED_FRAME);

  c.submit(7, good_event(std::string(5000, 'k')));   // frame over max_frame_bytes
  auto r2 = c.receive();
  ASSERT_TRUE(r2.has_nack());
  EXPECT_EQ(r2.nack().code(), v1::NACK_CODE_TOO_LARGE);

  auto no_key = good_event("");
  c.submit(8, no_key);
  auto r3 = c.receive();
  ASSERT_TRUE(r3.has_nack());
  EXPECT_EQ(r3.nack().code(), v1::NACK_CODE_INVALID_EVENT);
  EXPECT_EQ(r3.nack().correlation_id(), 8u);
  EXPECT_NE(r3.nack().reason().find("source_key"), std::string::npos) << r3.nack().reason();

  // Other events still go through.
  c.submit(9, good_event("K-1"));
  auto r4 = c.receive();
  ASSERT_TRUE(r4.has_ack());
  EXPECT_EQ(r4.ack().correlation_id(), 9u);
  EXPECT_EQ(r4.ack().log_seq(), 1u);
  c.submit(10, good_event("K-1"));
  auto r5 = c.receive();
  ASSERT_TRUE(r5.has_ack());
  EXPECT_TRUE(r5.ack().duplicate());
  EXPECT_EQ(r5.ack().log_seq(), 1u);

  auto [rc, status] = run({bin("gridhubctl"), "status", "--hub", hub_.ingest()}, dir_ / "s.stderr");
  ASSERT_EQ(rc, 0);
  EXPECT_NE(status.find("ingest_nacked_malformed_total 1"), std::string::npos) << status;
  EXPECT_NE(status.find("ingest_nacked_too_large_total 1"), std::string::npos) << status;
  EXPECT_NE(status.find("ingest_nacked_invalid_total 1"), std::string::npos) << status;
  EXPECT_NE(status.find("ingest_accepted_total 1"), std::string::npos) << status;
  EXPECT_NE(status.find("ingest_duplicates_total 1"), std::string::npos) << status;

  auto [rc2, dead] = run({bin("gridhubctl"), "dead-letters", "--json", "--db", hub_.db().string()}, dir_ / "d.stderr");
  EXPECT_EQ(lines_of(dead).size(), 3u) << dead;
  EXPECT_NE(dead.find("\"reason\":\"malformed_frame\""), std::string::npos);
  EXPECT_NE(dead.find("\"reason\":\"too_large\""), std::string::npos);
  EXPECT_NE(dead.find("\"reason\":\"invalid_event\""), std::string::npos);
  EXPECT_EQ(hub_.terminate(), 0);
}

TEST_F(BadInputTest, SigtermDrainsAndEveryAckedEventIsInTheLog) {
  RawClient c(hub_.ingest());
  for (int i = 0; i < 200; ++i) c.submit(static_cast<std::uint64_t>(i + 1), good_event("D-" + std::to_string(i)));
  std::set<std::uint64_t> acked;
  while (acked.size() < 200) {
    auto r = c.receive();
    ASSERT_TRUE(r.has_ack());
    acked.insert(r.ack().log_seq());
  }
  EXPECT_EQ(hub_.terminate(), 0);
  EXPECT_EQ(query(hub_.db(), "SELECT count(*) FROM log"), 200);
  EXPECT_NE(slurp(hub_.stderr_file()).find("drained"), std::string::npos);
}

TEST(HubConfig, UnknownKeyIsRefusedNamingFileLineAndKey) {
  TempDir dir;
  std::ofstream(dir / "hub.toml") << "[hub]\nlog_db = \"x.db\"\n\n[ingest]\nendpoints = [\"ipc://i.sock\"]\nmax_btach = 5\n"
                                  << "[stream]\nendpoints = [\"ipc://s.sock\"]\n";
  auto [rc, out] = run({bin("gridhub"), "-c", (dir / "hub.toml").string()}, dir / "err");
  EXPECT_EQ(rc, 2);
  auto err = slurp(dir / "err");
  EXPECT_NE(err.find("hub.toml:6"), std::string::npos) << err;
  EXPECT_NE(err.find("ingest.max_btach"), std::string::npos) << err;
  EXPECT_NE(err.find("max_batch"), std::string::npos) << "should suggest the known keys: " << err;
}

TEST(AdapterRetry, EventsWaitInTheOutboxUntilTheHubComesUp) {
  TempDir dir;
  HubProcess hub(dir.path());
  // The hub is not running yet: the adapter queues, retries with back-off, and delivers once it is.
  auto cfg = write_hotline_config(dir.path(), "early", "ipc://ingest.sock", "ack_timeout_ms = 200\nbackoff_max_ms = 200\n");
  auto adapter = Process::spawn({bin("gridhub-hotline"), "-c", cfg.string(), "--json-summary", kExports[2]}, dir / "early.stderr");
  // Wait until the adapter has its rows in the outbox and has given up on at least one attempt.
  for (int i = 0; i < 600 && slurp(dir / "early.stderr").find("not reachable") == std::string::npos; ++i) {
    ASSERT_TRUE(adapter.running());
    std::this_thread::sleep_for(50ms);   // polls for the adapter's own log line (the signal), bounded
  }
  hub.start();
  auto out = adapter.read_all();
  EXPECT_EQ(adapter.wait(), 0) << out;
  EXPECT_EQ(json_int(out, "sent"), 93);
  EXPECT_GE(json_int(out, "unreachable_waits"), 1);
}

}  // namespace
}  // namespace gridhub::testing
