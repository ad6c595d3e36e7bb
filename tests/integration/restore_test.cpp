// A log put back from a backup, and a log edited while the hub was stopped, against the real hub and
// adapter: the hub refuses both at start; an operator's explicit --accept-restored-log resumes from
// the backup and the adapters resend what the log lost (docs/audit.md, docs/wire-protocol.md).
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <set>
#include <string>
#include <utility>
#include <vector>

#include "gridhub/log/chain.hpp"
#include "process.hpp"

namespace gridhub::testing {
namespace {

const std::vector<std::string> kExports = {
    source_path("examples/wugong/hotline/export_20240506-20240516.csv"),
    source_path("examples/wugong/hotline/export_20240517-20240526.csv"),
    source_path("examples/wugong/hotline/export_20240527-20240605.csv"),
};

/// A plain connection to a database file (no defensive mode): a backup tool, or a tampering operator.
class Db {
 public:
  explicit Db(const std::filesystem::path& file, int flags = SQLITE_OPEN_READWRITE) {
    EXPECT_EQ(sqlite3_open_v2(file.c_str(), &h_, flags, nullptr), SQLITE_OK) << file;
  }
  ~Db() { sqlite3_close(h_); }
  void exec(const std::string& sql) {
    char* err = nullptr;
    EXPECT_EQ(sqlite3_exec(h_, sql.c_str(), nullptr, nullptr, &err), SQLITE_OK) << sql << ": " << (err ? err : "");
    sqlite3_free(err);
  }
  /// Every row of a one-column query, as text.
  std::vector<std::string> column(const std::string& sql) {
    std::vector<std::string> out;
    sqlite3_stmt* st = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(h_, sql.c_str(), -1, &st, nullptr), SQLITE_OK) << sql;
    while (sqlite3_step(st) == SQLITE_ROW) {
      const auto* p = static_cast<const char*>(sqlite3_column_blob(st, 0));
      out.emplace_back(p ? p : "", static_cast<std::size_t>(sqlite3_column_bytes(st, 0)));
    }
    sqlite3_finalize(st);
    return out;
  }
  std::string one(const std::string& sql) {
    auto c = column(sql);
    return c.empty() ? std::string() : c.front();
  }
  /// Binds one blob at ?1.
  void exec_blob(const std::string& sql, const std::string& blob) {
    sqlite3_stmt* st = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(h_, sql.c_str(), -1, &st, nullptr), SQLITE_OK) << sql;
    sqlite3_bind_blob(st, 1, blob.data(), static_cast<int>(blob.size()), SQLITE_TRANSIENT);
    EXPECT_EQ(sqlite3_step(st), SQLITE_DONE) << sqlite3_errmsg(h_);
    sqlite3_finalize(st);
  }

 private:
  sqlite3* h_ = nullptr;
};

class RestoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto [krc, kout] = run({bin("gridhubctl"), "keygen", "--out", (dir_ / "keys").string()}, dir_ / "keygen.stderr");
    ASSERT_EQ(krc, 0) << kout << slurp(dir_ / "keygen.stderr");
  }
  std::pair<int, std::string> import(const std::string& cfg, const std::string& file) {
    return run({bin("gridhub-hotline"), "-c", cfg, file}, dir_ / "hotline.stderr");
  }
  std::pair<int, std::string> verify(const std::filesystem::path& db) {
    return run({bin("gridhubctl"), "verify", "--db", db.string(), "--checkpoints", (dir_ / "checkpoints").string(),
                "--public-key", (dir_ / "keys/checkpoint.pub").string()},
               dir_ / "verify.stderr");
  }
  static std::string audit_toml() {
    return "[audit]\ncheckpoint_dir = \"checkpoints\"\nsigning_key = \"keys/checkpoint.key\"\ncheckpoint_every = 50\n";
  }
  TempDir dir_;
};

TEST_F(RestoreTest, ARestoredBackupIsRefusedThenResumedOnlyWhenAcceptedAndAdaptersResendWhatItLost) {
  HubProcess hub(dir_.path(), {}, audit_toml());
  hub.start();
  const auto cfg = write_hotline_config(dir_.path(), "hotline", hub.ingest()).string();
  auto [rc1, out1] = import(cfg, kExports[0]);
  ASSERT_EQ(rc1, 0) << out1 << slurp(dir_ / "hotline.stderr");

  // An online backup beside the running hub (SQLite's VACUUM INTO: a consistent snapshot).
  {
    Db live(hub.db(), SQLITE_OPEN_READONLY);
    live.exec("VACUUM INTO '" + (dir_ / "backup.db").string() + "'");
  }
  auto [rc2, out2] = import(cfg, kExports[1]);
  ASSERT_EQ(rc2, 0) << out2 << slurp(dir_ / "hotline.stderr");
  ASSERT_EQ(hub.terminate(), 0) << slurp(hub.stderr_file());

  std::vector<std::string> keys_before;
  {
    Db log(hub.db(), SQLITE_OPEN_READONLY);
    keys_before = log.column("SELECT source_key FROM log WHERE kind = 'intake_accepted' ORDER BY source_key");
  }
  std::size_t in_backup = 0;
  {
    Db backup(dir_ / "backup.db", SQLITE_OPEN_READONLY);
    in_backup = std::stoul(backup.one("SELECT count(*) FROM log"));
  }
  ASSERT_GT(keys_before.size(), in_backup + 50) << "the second import must have added records after the backup";

  // The operator puts the backup back.
  std::filesystem::copy_file(dir_ / "backup.db", hub.db(), std::filesystem::copy_options::overwrite_existing);
  EXPECT_THROW(hub.start(), std::runtime_error);
  EXPECT_NE(hub.process().wait(), 0);
  const std::string refused = slurp(hub.stderr_file());
  EXPECT_NE(refused.find("behind the signed checkpoint"), std::string::npos) << refused;
  EXPECT_NE(refused.find("--accept-restored-log"), std::string::npos) << refused;

  hub.start({"--accept-restored-log"});
  // The adapter's next run (here: the same export again) learns that the log lost what it acknowledged.
  auto [rc3, out3] = import(cfg, kExports[1]);
  ASSERT_EQ(rc3, 0) << out3 << slurp(dir_ / "hotline.stderr");
  EXPECT_NE(out3.find("were sent again: the hub's log no longer held them"), std::string::npos) << out3;
  ASSERT_EQ(hub.terminate(), 0) << slurp(hub.stderr_file());

  // Everything ever acknowledged is in the log, exactly once.
  {
    Db log(hub.db(), SQLITE_OPEN_READONLY);
    EXPECT_EQ(log.column("SELECT source_key FROM log WHERE kind = 'intake_accepted' ORDER BY source_key"), keys_before);
    EXPECT_EQ(log.one("SELECT count(*) FROM timelines"), "2");
  }
  {
    Db outbox(dir_ / "hotline-outbox.db", SQLITE_OPEN_READONLY);
    EXPECT_EQ(outbox.one("SELECT count(*) FROM outbox WHERE state = 0"), "0");
  }
  // The chain the hub resumed verifies against the checkpoints it now keeps.
  auto [vrc, vout] = verify(hub.db());
  EXPECT_EQ(vrc, 0) << vout << slurp(dir_ / "verify.stderr");
  EXPECT_EQ(vout.rfind("OK " + std::to_string(keys_before.size()), 0), 0u) << vout;

  // A third run finds nothing more to resend.
  hub.start();
  auto [rc4, out4] = import(cfg, kExports[1]);
  ASSERT_EQ(rc4, 0) << out4;
  EXPECT_EQ(out4.find("sent again"), std::string::npos) << out4;
  ASSERT_EQ(hub.terminate(), 0);
}

TEST_F(RestoreTest, ALogEditedAndRelinkedWhileTheHubWasStoppedIsRefusedAtStart) {
  HubProcess hub(dir_.path(), {}, audit_toml());
  hub.start();
  const auto cfg = write_hotline_config(dir_.path(), "hotline", hub.ingest()).string();
  auto [rc, out] = import(cfg, kExports[0]);
  ASSERT_EQ(rc, 0) << out << slurp(dir_ / "hotline.stderr");
  ASSERT_EQ(hub.terminate(), 0) << slurp(hub.stderr_file());

  // Rewrite record 60 and recompute every hash after it, as someone who knows the chain would.
  {
    Db db(hub.db());
    std::string body = db.one("SELECT body FROM log WHERE seq = 60");
    ASSERT_FALSE(body.empty());
    body[body.size() / 2] ^= 0x01;
    db.exec_blob("UPDATE log SET body = ?1 WHERE seq = 60", body);
    auto prev = log::chain_hash_from_blob(db.one("SELECT hash FROM log WHERE seq = 59"));
    ASSERT_TRUE(prev);
    log::ChainHasher hasher;
    const auto seqs = db.column("SELECT seq FROM log WHERE seq >= 60 ORDER BY seq");
    for (const auto& s : seqs) {
      const std::string at = db.one("SELECT recorded_at FROM log WHERE seq = " + s);
      const std::string b = db.one("SELECT body FROM log WHERE seq = " + s);
      log::ChainHash h{};
      ASSERT_TRUE(hasher.next(*prev, std::stoull(s), std::stoll(at), b, h));
      db.exec_blob("UPDATE log SET hash = ?1 WHERE seq = " + s, std::string(reinterpret_cast<const char*>(h.data()), h.size()));
      prev = h;
    }
  }
  const auto checkpoints_before = std::distance(std::filesystem::directory_iterator(dir_ / "checkpoints"), {});

  EXPECT_THROW(hub.start(), std::runtime_error);
  EXPECT_NE(hub.process().wait(), 0);
  const std::string err = slurp(hub.stderr_file());
  EXPECT_NE(err.find("does not match what this hub attested"), std::string::npos) << err;
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir_ / "checkpoints"), {}), checkpoints_before)
      << "nothing signed over the rewritten records";
  // And verify still reports it.
  auto [vrc, vout] = verify(hub.db());
  EXPECT_EQ(vrc, 1) << vout;
  EXPECT_NE(vout.find("checkpoint_mismatch"), std::string::npos) << vout;
}

TEST_F(RestoreTest, AKilledHubsUnattestedTailRewrittenAndRelinkedIsRefusedAtStart) {
  // checkpoint_every 1000: nothing of one export is checkpointed before the kill, only the head witness.
  HubProcess hub(dir_.path(), {},
                 "[audit]\ncheckpoint_dir = \"checkpoints\"\nsigning_key = \"keys/checkpoint.key\"\n"
                 "checkpoint_every = 1000\ncheckpoint_seconds = 3600\n");
  hub.start();
  const auto cfg = write_hotline_config(dir_.path(), "hotline", hub.ingest()).string();
  auto [rc, out] = import(cfg, kExports[0]);
  ASSERT_EQ(rc, 0) << out << slurp(dir_ / "hotline.stderr");
  hub.kill9();
  {
    Db db(hub.db());
    std::string body = db.one("SELECT body FROM log WHERE seq = 60");
    ASSERT_FALSE(body.empty());
    body[body.size() / 2] ^= 0x01;
    db.exec_blob("UPDATE log SET body = ?1 WHERE seq = 60", body);
    auto prev = log::chain_hash_from_blob(db.one("SELECT hash FROM log WHERE seq = 59"));
    ASSERT_TRUE(prev);
    log::ChainHasher hasher;
    for (const auto& s : db.column("SELECT seq FROM log WHERE seq >= 60 ORDER BY seq")) {
      log::ChainHash h{};
      ASSERT_TRUE(hasher.next(*prev, std::stoull(s), std::stoll(db.one("SELECT recorded_at FROM log WHERE seq = " + s)),
                              db.one("SELECT body FROM log WHERE seq = " + s), h));
      db.exec_blob("UPDATE log SET hash = ?1 WHERE seq = " + s, std::string(reinterpret_cast<const char*>(h.data()), h.size()));
      prev = h;
    }
  }
  EXPECT_THROW(hub.start(), std::runtime_error);
  EXPECT_NE(hub.process().wait(), 0);
  const std::string err = slurp(hub.stderr_file());
  EXPECT_NE(err.find("does not match what this hub attested"), std::string::npos) << err;
  std::size_t signed_checkpoints = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir_ / "checkpoints")) {
    if (e.path().filename().string().starts_with("checkpoint-")) ++signed_checkpoints;
  }
  EXPECT_EQ(signed_checkpoints, 0u) << "nothing signed over the rewritten tail";
}

}  // namespace
}  // namespace gridhub::testing
