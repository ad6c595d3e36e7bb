// The log on a NATS JetStream cluster (docs/jetstream.md), on a real three-node cluster on loopback
// (scripts/nats-cluster.sh): fencing of a stale writer, the hub's replica caught up and rebuilt from the
// stream, kill -9 of the hub and of a NATS node during imports.
#include <gtest/gtest.h>

#include <fstream>
#include <random>
#include <thread>

#include "gridhub/common/clock.hpp"
#include "gridhub/core/normalizer.hpp"
#include "gridhub/core/sequencer.hpp"
#include "gridhub/log/jetstream_event_log.hpp"
#include "gridhub/sqlite/sqlite.hpp"
#include "hotline_export.hpp"
#include "nats_cluster.hpp"
#include "process.hpp"

namespace gridhub::testing {
namespace {

using namespace std::chrono_literals;

#define SKIP_WITHOUT_NATS()                                                  \
  if (auto why = NatsCluster::unavailable()) GTEST_SKIP() << *why

log::JetStreamOptions options(const NatsCluster& cluster, const std::string& stream) {
  log::JetStreamOptions js;
  for (std::size_t start = 0; start <= cluster.urls().size();) {
    const auto comma = cluster.urls().find(',', start);
    js.servers.push_back(cluster.urls().substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  js.stream = stream;
  js.subject = "gridhub.test." + stream;
  return js;
}

log::AppendItem intake(const std::string& key, const std::string& text) {
  v1::Event ev;
  ev.set_channel(v1::CHANNEL_HOTLINE);
  ev.set_adapter_id("hotline-1");
  ev.set_source_key(key);
  ev.mutable_fields()->set_text(text);
  ev.mutable_fields()->set_reporter_name("张三");
  log::IntakeItem item;
  *item.body.mutable_event() = ev;
  *item.body.mutable_ticket() = core::ticket_from_event(ev);
  return item;
}

std::unique_ptr<core::SequencedLog> open_writer(const std::filesystem::path& file, const log::JetStreamOptions& js,
                                                const Clock& clock) {
  auto storage = log::open_jetstream_event_log(file, js, log::LogOptions{}, clock);
  if (!storage) throw std::runtime_error(storage.error().message());
  return std::make_unique<core::SequencedLog>(std::move(storage.value()), clock);
}

Status append(core::SequencedLog& log, std::vector<log::AppendItem> items) {
  std::vector<log::AppendOutcome> out;
  return log.append(items, out);
}

/// Every record body of a log file, in seq order.
std::vector<std::string> bodies(const std::filesystem::path& file) {
  auto reader = log::LogReader::open(file);
  if (!reader) throw std::runtime_error(reader.error().message());
  std::vector<std::string> out;
  std::uint64_t next = 1;
  for (;;) {
    auto n = reader->read(next, 1000, [&](std::uint64_t, std::string_view body) { out.emplace_back(body); });
    if (!n) throw std::runtime_error(n.error().message());
    if (n.value() == 0) return out;
    next += n.value();
  }
}

TEST(JetStreamLogTest, AWriterWithAStaleHeadIsRefusedAndStoresNothing) {
  SKIP_WITHOUT_NATS();
  TempDir dir;
  NatsCluster cluster(dir / "nats");
  const auto js = options(cluster, "FENCING");
  SystemClock clock;
  auto first = open_writer(dir / "a.db", js, clock);
  ASSERT_TRUE(append(*first, {intake("K-1", "路灯不亮"), intake("K-2", "井盖缺失")}).ok());
  // A second writer catches up to record 2, then the first appends record 3: the second's head is stale.
  auto second = open_writer(dir / "b.db", js, clock);
  EXPECT_EQ(second->head_seq(), 2u);
  ASSERT_TRUE(append(*first, {intake("K-3", "垃圾未清运")}).ok());
  auto refused = append(*second, {intake("K-4", "噪音扰民")});
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message().find("fenced"), std::string::npos) << refused.error().message();
  // The stream holds the first writer's three records and nothing of the second's; the refused writer's
  // replica was caught up to them, and so is a fresh replica rebuilt from the stream.
  EXPECT_EQ(second->storage().head_seq(), 3u);
  first.reset();
  second.reset();
  EXPECT_EQ(bodies(dir / "b.db"), bodies(dir / "a.db")) << "the refused record reached the replica";
  auto rebuilt = log::open_jetstream_event_log(dir / "c.db", js, log::LogOptions{}, clock);
  ASSERT_TRUE(rebuilt.ok()) << rebuilt.error().message();
  EXPECT_EQ(rebuilt.value()->head_seq(), 3u);
  rebuilt.value().reset();
  EXPECT_EQ(bodies(dir / "c.db"), bodies(dir / "a.db"));
}

TEST(JetStreamLogTest, AReplicaAheadOfTheStreamRefusesToOpenNamingBoth) {
  SKIP_WITHOUT_NATS();
  TempDir dir;
  NatsCluster cluster(dir / "nats");
  SystemClock clock;
  {
    auto sqlite = core::open_log(dir / "local.db", log::LogOptions{}, clock);
    ASSERT_TRUE(sqlite.ok());
    ASSERT_TRUE(append(*sqlite.value(), {intake("K-1", "路灯不亮")}).ok());
  }
  auto opened = log::open_jetstream_event_log(dir / "local.db", options(cluster, "AHEAD"), log::LogOptions{}, clock);
  ASSERT_FALSE(opened.ok());
  const std::string why = opened.error().message();
  EXPECT_NE(why.find("local.db"), std::string::npos) << why;
  EXPECT_NE(why.find("AHEAD"), std::string::npos) << why;
}

TEST(JetStreamLogTest, ErasedKeysArePurgedFromTheClusterAndARebuiltReplicaCannotUnseal) {
  SKIP_WITHOUT_NATS();
  TempDir dir;
  NatsCluster cluster(dir / "nats");
  const auto js = options(cluster, "KEYS");
  SystemClock clock;
  {
    auto w = open_writer(dir / "a.db", js, clock);
    ASSERT_TRUE(append(*w, {intake("K-1", "路灯不亮"), intake("K-2", "井盖缺失")}).ok());
    log::ErasureItem erase;
    erase.ticket_id = log::ticket_id_for_seq(1);
    erase.request_ref = "case-1";
    erase.requested_by = "test";
    auto s = append(*w, {erase});
    ASSERT_TRUE(s.ok()) << s.error().message();
  }
  auto rebuilt = log::open_jetstream_event_log(dir / "b.db", js, log::LogOptions{}, clock);
  ASSERT_TRUE(rebuilt.ok()) << rebuilt.error().message();
  auto erased = rebuilt.value()->load_key(log::ticket_id_for_seq(1));
  auto kept = rebuilt.value()->load_key(log::ticket_id_for_seq(2));
  ASSERT_TRUE(erased.ok() && kept.ok());
  EXPECT_FALSE(erased.value().has_value()) << "an erased ticket's key came back from the cluster";
  EXPECT_TRUE(kept.value().has_value()) << "a live ticket's key was not rebuilt from the cluster";
}

/// A hub on the cluster, its replica in `dir`.
std::string jetstream_toml(const NatsCluster& cluster) {
  std::string servers;
  for (const auto& s : options(cluster, "X").servers) servers += (servers.empty() ? "\"" : ", \"") + s + "\"";
  return "[log]\nbackend = \"jetstream\"\nservers = [" + servers + "]\nstream = \"WUGONG\"\nsubject = \"gridhub.test.WUGONG\"\n";
}

/// Imports `rows` hotline records keyed GD-<prefix>-<n> through a real adapter named `name`; returns
/// its outbox.
std::filesystem::path import(const TempDir& dir, const std::string& name, int rows, std::string prefix = {}) {
  write_export(dir / (name + ".csv"), "GD-" + (prefix.empty() ? name : prefix), rows);
  auto cfg = write_hotline_config(dir.path(), name, "ipc://ingest.sock", "ack_timeout_ms = 300\nbackoff_max_ms = 100\n");
  auto [rc, out] = run({bin("gridhub-hotline"), "-c", cfg.string(), (dir / (name + ".csv")).string()},
                       dir / (name + ".stderr"));
  EXPECT_EQ(rc, 0) << slurp(dir / (name + ".stderr"));
  return dir / (name + "-outbox.db");
}

/// Every row each outbox saw acknowledged is in the log at the seq it was acknowledged with; returns
/// how many.
std::int64_t check_acknowledged(const std::filesystem::path& log_db, const std::vector<std::filesystem::path>& outboxes) {
  auto log = sqlite::Database::open(log_db, sqlite::OpenMode::kReadOnly);
  EXPECT_TRUE(log.ok());
  auto find = log->prepare("SELECT seq FROM log WHERE channel = ? AND source_key = ?");
  std::int64_t acked = 0;
  for (const auto& ob : outboxes) {
    auto db = sqlite::Database::open(ob, sqlite::OpenMode::kReadOnly);
    EXPECT_TRUE(db.ok());
    EXPECT_EQ(db->query_int("SELECT count(*) FROM outbox WHERE state != 1").value(), 0) << ob;
    auto rows = db->prepare("SELECT channel, source_key, log_seq FROM outbox WHERE state = 1");
    while (rows->step().value()) {
      ++acked;
      find->bind(1, rows->column_int(0)).bind(2, rows->column_text(1));
      EXPECT_TRUE(find->step().value()) << rows->column_text(1) << " acknowledged but not in the log";
      EXPECT_EQ(find->column_int(0), rows->column_int(2)) << rows->column_text(1);
      find->reset();
    }
  }
  EXPECT_EQ(log->query_int("SELECT count(*) FROM log").value(), log->query_int("SELECT count(DISTINCT source_key) FROM log").value())
      << "a record is stored twice";
  return acked;
}

void expect_verifies(const TempDir& dir, const std::filesystem::path& db) {
  auto [rc, out] = run({bin("gridhubctl"), "verify", "--db", db.string()}, dir / "verify.stderr");
  EXPECT_EQ(rc, 0) << out << slurp(dir / "verify.stderr");
}

TEST(JetStreamHubTest, KilledHubsLoseNoAcknowledgedRecordAndTheReplicaMatchesTheStream) {
  SKIP_WITHOUT_NATS();
  constexpr int kKills = 4;
  constexpr int kRows = 1500;
  TempDir dir;
  NatsCluster cluster(dir / "nats");
  HubProcess hub(dir.path(), {}, jetstream_toml(cluster));
  hub.start();
  std::mt19937 rng(std::random_device{}());
  std::uniform_int_distribution<int> pause_ms(50, 400);
  std::vector<std::filesystem::path> outboxes;
  int kills = 0;
  for (int file = 0; kills < kKills; ++file) {
    const std::string name = "a" + std::to_string(file);
    write_export(dir / (name + ".csv"), "GD-" + name, kRows);
    auto cfg = write_hotline_config(dir.path(), name, "ipc://ingest.sock", "ack_timeout_ms = 300\nbackoff_max_ms = 100\n");
    outboxes.push_back(dir / (name + "-outbox.db"));
    auto adapter = Process::spawn({bin("gridhub-hotline"), "-c", cfg.string(), (dir / (name + ".csv")).string()},
                                  dir / (name + ".stderr"));
    while (adapter.running() && kills < kKills) {
      std::this_thread::sleep_for(std::chrono::milliseconds(pause_ms(rng)));   // a random moment, not a sync point
      hub.kill9();
      ++kills;
      hub.start();
    }
    ASSERT_EQ(adapter.wait(), 0) << slurp(dir / (name + ".stderr"));
  }
  const std::int64_t acked = check_acknowledged(hub.db(), outboxes);
  EXPECT_EQ(acked, static_cast<std::int64_t>(outboxes.size()) * kRows);
  EXPECT_EQ(hub.terminate(), 0);
  expect_verifies(dir, hub.db());
  // The stream holds exactly the replica's records: a replica rebuilt from it is the same log.
  SystemClock clock;
  auto rebuilt = log::open_jetstream_event_log(dir / "rebuilt.db", options(cluster, "WUGONG"), log::LogOptions{}, clock);
  ASSERT_TRUE(rebuilt.ok()) << rebuilt.error().message();
  rebuilt.value().reset();
  EXPECT_EQ(bodies(dir / "rebuilt.db"), bodies(hub.db()));
}

TEST(JetStreamHubTest, IntakeContinuesWithOneNatsNodeKilled) {
  SKIP_WITHOUT_NATS();
  TempDir dir;
  NatsCluster cluster(dir / "nats");
  HubProcess hub(dir.path(), {}, jetstream_toml(cluster));
  hub.start();
  std::vector<std::filesystem::path> outboxes{import(dir, "before", 200)};
  cluster.kill9(1);   // the node the hub is likely connected to, maybe the stream's leader
  const auto t0 = std::chrono::steady_clock::now();
  outboxes.push_back(import(dir, "after", 500));
  std::printf("jetstream: 500 records imported in %.1f s after a NATS node was killed\n",
              std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  EXPECT_EQ(check_acknowledged(hub.db(), outboxes), 700);
  EXPECT_EQ(hub.terminate(), 0);
  // The hub rode out the node's loss (publishes and key puts retried through the election) instead of
  // failing commits and leaving the adapters to resend.
  EXPECT_EQ(slurp(hub.stderr_file()).find("failed, nacking"), std::string::npos) << slurp(hub.stderr_file());
  expect_verifies(dir, hub.db());
}

TEST(JetStreamHubTest, ADeletedReplicaIsRebuiltFromTheStreamAtStart) {
  SKIP_WITHOUT_NATS();
  TempDir dir;
  NatsCluster cluster(dir / "nats");
  HubProcess hub(dir.path(), {}, jetstream_toml(cluster));
  hub.start();
  std::vector<std::filesystem::path> outboxes{import(dir, "first", 300)};
  ASSERT_EQ(hub.terminate(), 0);
  const auto before = bodies(hub.db());
  ASSERT_EQ(before.size(), 300u);
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(hub.db().string() + suffix);
  hub.start();
  EXPECT_EQ(bodies(hub.db()), before);
  // The rebuilt replica still deduplicates: the same records from another adapter store nothing new.
  import(dir, "again", 300, "first");
  EXPECT_EQ(check_acknowledged(hub.db(), outboxes), 300);
  EXPECT_EQ(bodies(hub.db()).size(), 300u);
  EXPECT_EQ(hub.terminate(), 0);
  expect_verifies(dir, hub.db());
}

TEST(JetStreamMigrateTest, ASqliteLogIsCopiedIntoTheStreamVerifiedAndTheHubOpensItAsItsReplica) {
  SKIP_WITHOUT_NATS();
  TempDir dir;
  NatsCluster cluster(dir / "nats");
  {
    HubProcess sqlite_hub(dir.path());
    sqlite_hub.start();
    import(dir, "first", 200);
    ASSERT_EQ(sqlite_hub.terminate(), 0);
  }
  // An erasure: a change key, and a destroyed key that must not come back from the cluster.
  auto [erc, eout] = run({bin("gridhubctl"), "erase", "--db", (dir / "gridhub.db").string(), "--ticket",
                          log::ticket_id_for_seq(1), "--ref", "case-1", "--by", "test"},
                         dir / "erase.stderr");
  ASSERT_EQ(erc, 0) << eout << slurp(dir / "erase.stderr");
  const auto before = bodies(dir / "gridhub.db");
  ASSERT_EQ(before.size(), 201u);

  HubProcess hub(dir.path(), {}, jetstream_toml(cluster));   // the same folder and log file, now on the stream
  auto [rc, out] = run({bin("gridhubctl"), "migrate", "-c", hub.config().string()}, dir / "migrate.stderr");
  ASSERT_EQ(rc, 0) << out << slurp(dir / "migrate.stderr");
  EXPECT_NE(out.find("migrated 201 records"), std::string::npos) << out;
  // A second copy into the now non-empty stream is refused.
  auto [again, again_out] = run({bin("gridhubctl"), "migrate", "-c", hub.config().string()}, dir / "migrate2.stderr");
  EXPECT_EQ(again, 1);
  EXPECT_NE(slurp(dir / "migrate2.stderr").find("not empty"), std::string::npos) << slurp(dir / "migrate2.stderr");

  // The old log file is the hub's replica as it is; resent records are duplicates.
  hub.start();
  import(dir, "again", 200, "first");
  EXPECT_EQ(hub.terminate(), 0);
  EXPECT_EQ(bodies(dir / "gridhub.db"), before);
  expect_verifies(dir, dir / "gridhub.db");

  // From the stream alone: the same records, the live tickets' keys, not the erased one's.
  SystemClock clock;
  auto rebuilt = log::open_jetstream_event_log(dir / "rebuilt.db", options(cluster, "WUGONG"), log::LogOptions{}, clock);
  ASSERT_TRUE(rebuilt.ok()) << rebuilt.error().message();
  auto erased = rebuilt.value()->load_key(log::ticket_id_for_seq(1));
  auto kept = rebuilt.value()->load_key(log::ticket_id_for_seq(2));
  ASSERT_TRUE(erased.ok() && kept.ok());
  EXPECT_FALSE(erased.value().has_value());
  EXPECT_TRUE(kept.value().has_value());
  auto change = rebuilt.value()->find_change("erasure/" + log::ticket_id_for_seq(1));
  ASSERT_TRUE(change.ok());
  EXPECT_EQ(change.value(), 201u);
  rebuilt.value().reset();
  EXPECT_EQ(bodies(dir / "rebuilt.db"), before);

  // Erasing on a JetStream log goes through the stream: the record reaches it, the key leaves the cluster.
  auto [erc2, eout2] = run({bin("gridhubctl"), "erase", "-c", hub.config().string(), "--ticket", log::ticket_id_for_seq(2),
                            "--ref", "case-2", "--by", "test"},
                           dir / "erase2.stderr");
  ASSERT_EQ(erc2, 0) << eout2 << slurp(dir / "erase2.stderr");
  auto again_rebuilt = log::open_jetstream_event_log(dir / "rebuilt2.db", options(cluster, "WUGONG"), log::LogOptions{}, clock);
  ASSERT_TRUE(again_rebuilt.ok()) << again_rebuilt.error().message();
  EXPECT_EQ(again_rebuilt.value()->head_seq(), 202u);
  auto erased2 = again_rebuilt.value()->load_key(log::ticket_id_for_seq(2));
  ASSERT_TRUE(erased2.ok());
  EXPECT_FALSE(erased2.value().has_value());
  again_rebuilt.value().reset();
  EXPECT_EQ(bodies(dir / "rebuilt2.db"), bodies(dir / "gridhub.db"));
}

}  // namespace
}  // namespace gridhub::testing
