// The durability promise under crashes: kill -9 the hub at random moments during imports, restart it,
// and check that every event an adapter saw acknowledged is in the log, once.
#include <gtest/gtest.h>

#include <fstream>
#include <random>
#include <thread>

#include "gridhub/sqlite/sqlite.hpp"
#include "hotline_export.hpp"
#include "process.hpp"

namespace gridhub::testing {
namespace {

using namespace std::chrono_literals;

TEST(CrashTest, NoAcknowledgedEventIsLostOrStoredTwiceAcrossHubKills) {
  constexpr int kMinKills = 20;
  constexpr int kRowsPerFile = 20000;
  TempDir dir;
  HubProcess hub(dir.path());
  hub.start();
  std::mt19937 rng(std::random_device{}());
  std::uniform_int_distribution<int> pause_ms(30, 400);

  std::vector<std::filesystem::path> outboxes;
  int kills = 0;
  int files = 0;
  while (kills < kMinKills) {
    // One adapter run per file; when it finishes before enough kills, the next file starts.
    const std::string name = "a" + std::to_string(files);
    auto file = dir / (name + ".csv");
    write_export(file, "GD-" + name, kRowsPerFile);
    ++files;
    auto cfg = write_hotline_config(dir.path(), name, "ipc://ingest.sock", "ack_timeout_ms = 300\nbackoff_max_ms = 100\n");
    outboxes.push_back(dir / (name + "-outbox.db"));
    auto adapter = Process::spawn({bin("gridhub-hotline"), "-c", cfg.string(), "--json-summary", file.string()},
                                  dir / (name + ".stderr"));
    while (adapter.running() && kills < kMinKills) {
      std::this_thread::sleep_for(std::chrono::milliseconds(pause_ms(rng)));   // a random moment, not a sync point
      hub.kill9();
      ++kills;
      hub.start();
    }
    const int rc = adapter.wait();
    ASSERT_EQ(rc, 0) << slurp(dir / (name + ".stderr"));
  }

  // The oracle: each adapter's outbox holds the log seq the hub acknowledged for every row.
  auto log = sqlite::Database::open(hub.db(), sqlite::OpenMode::kReadOnly);
  ASSERT_TRUE(log.ok());
  auto find = log->prepare("SELECT seq FROM log WHERE channel = ? AND source_key = ?");
  ASSERT_TRUE(find.ok());
  std::int64_t acked = 0;
  std::int64_t lost = 0;
  for (const auto& ob : outboxes) {
    auto db = sqlite::Database::open(ob, sqlite::OpenMode::kReadOnly);
    ASSERT_TRUE(db.ok());
    EXPECT_EQ(db->query_int("SELECT count(*) FROM outbox WHERE state != 1").value(), 0) << ob;
    auto rows = db->prepare("SELECT channel, source_key, log_seq FROM outbox WHERE state = 1");
    ASSERT_TRUE(rows.ok());
    while (rows->step().value()) {
      ++acked;
      find->bind(1, rows->column_int(0)).bind(2, rows->column_text(1));
      auto hit = find->step();
      ASSERT_TRUE(hit.ok());
      if (!hit.value() || find->column_int(0) != rows->column_int(2)) ++lost;
      find->reset();
    }
  }
  const auto stored = log->query_int("SELECT count(*) FROM log").value();
  const auto distinct = log->query_int("SELECT count(DISTINCT source_key) FROM log").value();
  const auto integrity = log->query_text("PRAGMA integrity_check").value();
  std::printf("crash test: %lld lost of %lld acked across %d kills (%d files); %lld stored, %lld stored twice\n",
              static_cast<long long>(lost), static_cast<long long>(acked), kills, files, static_cast<long long>(stored),
              static_cast<long long>(stored - distinct));
  EXPECT_EQ(lost, 0);
  EXPECT_EQ(acked, static_cast<std::int64_t>(files) * kRowsPerFile);
  EXPECT_EQ(stored, distinct) << "an event was stored twice";
  EXPECT_EQ(stored, acked);
  EXPECT_EQ(integrity, "ok");
  EXPECT_GE(kills, kMinKills);
  // Seqs are dense: a crash never leaves a hole a subscriber would wait on forever.
  EXPECT_EQ(log->query_int("SELECT max(seq) FROM log").value(), stored);
}

}  // namespace
}  // namespace gridhub::testing
