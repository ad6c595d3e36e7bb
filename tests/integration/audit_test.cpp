// The auditor's tools against a real hub: signed checkpoints while importing, gridhubctl verify on the
// result and on a doctored copy, gridhubctl replay.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include <sstream>

#include "process.hpp"

namespace gridhub::testing {
namespace {

const std::vector<std::string> kExports = {
    source_path("examples/wugong/hotline/export_20240506-20240516.csv"),
    source_path("examples/wugong/hotline/export_20240517-20240526.csv"),
    source_path("examples/wugong/hotline/export_20240527-20240605.csv"),
};

std::size_t count_lines(const std::string& s) {
  std::size_t n = 0;
  std::istringstream in(s);
  for (std::string l; std::getline(in, l);) ++n;
  return n;
}

/// Flips one bit in record `seq`'s body through a plain SQLite connection (no defensive mode).
void flip_body_byte(const std::filesystem::path& db, int seq) {
  sqlite3* h = nullptr;
  ASSERT_EQ(sqlite3_open_v2(db.c_str(), &h, SQLITE_OPEN_READWRITE, nullptr), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(h, "SELECT body FROM log WHERE seq = ?", -1, &st, nullptr), SQLITE_OK);
  sqlite3_bind_int(st, 1, seq);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  std::string body(static_cast<const char*>(sqlite3_column_blob(st, 0)), static_cast<std::size_t>(sqlite3_column_bytes(st, 0)));
  sqlite3_finalize(st);
  body[body.size() / 2] ^= 0x01;
  ASSERT_EQ(sqlite3_prepare_v2(h, "UPDATE log SET body = ? WHERE seq = ?", -1, &st, nullptr), SQLITE_OK);
  sqlite3_bind_blob(st, 1, body.data(), static_cast<int>(body.size()), SQLITE_TRANSIENT);
  sqlite3_bind_int(st, 2, seq);
  EXPECT_EQ(sqlite3_step(st), SQLITE_DONE);
  sqlite3_finalize(st);
  sqlite3_close(h);
}

class AuditTest : public ::testing::Test {
 protected:
  static std::string audit_toml(const std::string& key) {
    return "[audit]\ncheckpoint_dir = \"checkpoints\"\nsigning_key = \"" + key + "\"\ncheckpoint_every = 50\n";
  }
  TempDir dir_;
};

TEST_F(AuditTest, CheckpointedImportVerifiesAndATamperedCopyDoesNot) {
  auto [krc, kout] = run({bin("gridhubctl"), "keygen", "--out", (dir_ / "keys").string()}, dir_ / "keygen.stderr");
  ASSERT_EQ(krc, 0) << kout << slurp(dir_ / "keygen.stderr");
  struct stat st{};
  ASSERT_EQ(::stat((dir_ / "keys/checkpoint.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  HubProcess hub(dir_.path(), {}, audit_toml("keys/checkpoint.key"));
  hub.start();
  auto cfg = write_hotline_config(dir_.path(), "hotline", hub.ingest());
  std::vector<std::string> argv = {bin("gridhub-hotline"), "-c", cfg.string()};
  argv.insert(argv.end(), kExports.begin(), kExports.end());
  auto [rc, out] = run(argv, dir_ / "hotline.stderr");
  ASSERT_EQ(rc, 0) << out << slurp(dir_ / "hotline.stderr");
  ASSERT_EQ(hub.terminate(), 0) << slurp(hub.stderr_file());

  std::size_t checkpoints = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir_ / "checkpoints")) {
    if (e.path().filename().string().rfind("checkpoint-", 0) == 0) ++checkpoints;
  }
  EXPECT_GE(checkpoints, 5u) << "281 records, one checkpoint per 50 and one at stop";

  const std::vector<std::string> verify = {bin("gridhubctl"), "verify", "--db", hub.db().string(), "--checkpoints",
                                           (dir_ / "checkpoints").string(), "--public-key",
                                           (dir_ / "keys/checkpoint.pub").string()};
  auto [vrc, vout] = run(verify, dir_ / "verify.stderr");
  EXPECT_EQ(vrc, 0) << vout << slurp(dir_ / "verify.stderr");
  EXPECT_EQ(vout.rfind("OK ", 0), 0u) << vout;
  const auto records = std::stoull(vout.substr(3));
  EXPECT_GT(records, 200u) << vout;

  // One byte of one record, in a copy: verify names the record.
  std::filesystem::copy_file(hub.db(), dir_ / "copy.db");
  flip_body_byte(dir_ / "copy.db", 100);
  auto bad = verify;
  bad[3] = (dir_ / "copy.db").string();
  auto [brc, bout] = run(bad, dir_ / "verify-bad.stderr");
  EXPECT_EQ(brc, 1) << bout << slurp(dir_ / "verify-bad.stderr");
  EXPECT_EQ(bout.rfind("FAIL seq 100 hash_mismatch", 0), 0u) << bout;

  // Replay: one line per record; CSV adds a header.
  auto [jrc, jout] = run({bin("gridhubctl"), "replay", "--db", hub.db().string()}, dir_ / "replay.stderr");
  EXPECT_EQ(jrc, 0) << slurp(dir_ / "replay.stderr");
  EXPECT_EQ(count_lines(jout), records);
  EXPECT_EQ(jout.rfind("{\"seq\":1,\"recorded_at\":\"", 0), 0u) << jout.substr(0, 200);
  auto [crc, cout] = run({bin("gridhubctl"), "replay", "--db", hub.db().string(), "--format", "csv"}, dir_ / "replay.stderr");
  EXPECT_EQ(crc, 0) << slurp(dir_ / "replay.stderr");
  EXPECT_EQ(count_lines(cout), records + 1);
  EXPECT_EQ(cout.rfind("seq,recorded_at,kind,ticket_id,disposition,channel,source_key\n", 0), 0u);
}

TEST_F(AuditTest, HubRefusesToStartWithAnUnusableSigningKey) {
  HubProcess hub(dir_.path(), {}, audit_toml("keys/missing.key"));
  EXPECT_THROW(hub.start(), std::runtime_error);
  EXPECT_NE(slurp(hub.stderr_file()).find("missing.key"), std::string::npos) << slurp(hub.stderr_file());
}

}  // namespace
}  // namespace gridhub::testing
