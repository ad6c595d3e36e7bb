// The WAL checkpointer (hub/log/src/wal_checkpointer.hpp) is private to the log; tested through its
// header because its effect — where checkpoints run — is not visible through the log's interface.
#include "wal_checkpointer.hpp"

#include <chrono>
#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "../../testing/temp_dir.hpp"
#include "gridhub/sqlite/sqlite.hpp"

namespace gridhub::log::detail {
namespace {

using namespace std::chrono_literals;

class WalCheckpointerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = sqlite::Database::open(dir_.path() / "log.db", sqlite::OpenMode::kReadWrite);
    ASSERT_TRUE(db.ok()) << db.error().message();
    db_.emplace(std::move(db.value()));
    ASSERT_TRUE(db_->query_text("PRAGMA journal_mode=WAL").ok());
    ASSERT_TRUE(db_->exec("CREATE TABLE t(x BLOB)").ok());
  }

  /// One commit of `rows` rows of 4 KiB: about one WAL page each.
  void commit(int rows) {
    ASSERT_TRUE(db_->exec("BEGIN").ok());
    auto insert = db_->prepare("INSERT INTO t(x) VALUES(?)");
    ASSERT_TRUE(insert.ok());
    const std::string blob(4000, 'x');
    for (int i = 0; i < rows; ++i) {
      insert->bind_blob(1, blob);
      ASSERT_TRUE(insert->run().ok());
    }
    ASSERT_TRUE(db_->exec("COMMIT").ok());
  }

  std::uintmax_t db_file_size() const { return std::filesystem::file_size(dir_.path() / "log.db"); }

  testing::TempDir dir_;
  std::optional<sqlite::Database> db_;
};

TEST_F(WalCheckpointerTest, CommitsPastTheThresholdAreCopiedIntoTheDatabaseByTheThreadNotByTheWriter) {
  auto wal = WalCheckpointer::start(*db_, 50);
  ASSERT_TRUE(wal.ok()) << wal.error().message();
  const auto before = db_file_size();
  for (int i = 0; i < 6; ++i) commit(10);   // 60 pages: past 50, short of the inline bound (200)
  ASSERT_TRUE(wal.value()->wait_for_checkpoints(1, 30s)) << "the thread never checkpointed";
  EXPECT_EQ(wal.value()->inline_fallbacks(), 0U);
  EXPECT_GE(wal.value()->background(), 1U);
  // The committed pages are in the database file now, not only in the WAL.
  EXPECT_GT(db_file_size(), before + 40 * 4096);
}

TEST_F(WalCheckpointerTest, BelowTheThresholdNothingIsCheckpointed) {
  auto wal = WalCheckpointer::start(*db_, 1000);
  ASSERT_TRUE(wal.ok());
  for (int i = 0; i < 5; ++i) commit(10);
  EXPECT_FALSE(wal.value()->wait_for_checkpoints(1, 200ms));
  EXPECT_EQ(wal.value()->background() + wal.value()->inline_fallbacks(), 0U);
}

TEST_F(WalCheckpointerTest, AWriterThatOutrunsTheThreadCheckpointsInlineSoTheWalStaysBounded) {
  auto wal = WalCheckpointer::start(*db_, 10);
  ASSERT_TRUE(wal.ok());
  commit(60);   // one commit past 4x the threshold
  EXPECT_GE(wal.value()->inline_fallbacks(), 1U);
}

}  // namespace
}  // namespace gridhub::log::detail
