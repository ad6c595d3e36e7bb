// The auditor's tools against a real hub: signed checkpoints while importing, gridhubctl verify on the
// result and on a doctored copy, gridhubctl replay.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include <fstream>
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

namespace gridhub::testing {
namespace {

/// The JSON line of `ticket_id` in `gridhubctl tickets --json` output ("" if absent).
std::string line_with(const std::string& out, const std::string& needle) {
  std::istringstream in(out);
  for (std::string l; std::getline(in, l);) {
    if (l.find(needle) != std::string::npos) return l;
  }
  return {};
}

/// The value of `sql` (one text/blob cell) from the database, through a plain read-only connection.
std::string query(const std::filesystem::path& db, const std::string& sql) {
  sqlite3* h = nullptr;
  std::string v;
  if (sqlite3_open_v2(db.c_str(), &h, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(h, sql.c_str(), -1, &st, nullptr) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW &&
        sqlite3_column_blob(st, 0) != nullptr) {
      v.assign(static_cast<const char*>(sqlite3_column_blob(st, 0)), static_cast<std::size_t>(sqlite3_column_bytes(st, 0)));
    }
    sqlite3_finalize(st);
  }
  sqlite3_close(h);
  return v;
}

TEST_F(AuditTest, ARejectedRowIsStoredSealedAndShownOnlyWithShowPii) {
  HubProcess hub(dir_.path());
  hub.start();
  auto cfg = write_hotline_config(dir_.path(), "hotline", hub.ingest());
  const auto bad = dir_ / "bad.csv";
  std::ofstream(bad) << "工单编号,来电时间,来电人,联系电话,受理渠道,诉求类型,问题分类,诉求内容,事发地址,备注\n"
                     << "GD-X1,2024/5/32 9:15,李先生,13900000002,电话,投诉,水电气暖/供水,停水,普集街道书院社区清河新城14栋1单元,\n";
  run({bin("gridhub-hotline"), "-c", cfg.string(), bad.string()}, dir_ / "hotline.stderr");
  ASSERT_EQ(hub.terminate(), 0) << slurp(hub.stderr_file());
  const auto db = hub.db().string();
  auto [rc, out] = run({bin("gridhubctl"), "dead-letters", "--db", db, "--json"}, dir_ / "dead.stderr");
  ASSERT_EQ(rc, 0) << slurp(dir_ / "dead.stderr");
  ASSERT_NE(out.find("\"source_key\":\"GD-X1\""), std::string::npos) << out;
  EXPECT_NE(out.find("\"payload\":\"[sealed]\""), std::string::npos) << out;
  EXPECT_EQ(out.find("13900000002"), std::string::npos) << out;
  auto [prc, shown] = run({bin("gridhubctl"), "dead-letters", "--db", db, "--json", "--show-pii"}, dir_ / "dead.stderr");
  ASSERT_EQ(prc, 0);
  EXPECT_NE(shown.find("李先生,13900000002"), std::string::npos) << shown;
  for (const auto& f : {hub.db(), std::filesystem::path(db + "-wal")}) {
    EXPECT_EQ(slurp(f).find("13900000002"), std::string::npos) << f << " holds the number in plain";
  }
}

TEST_F(AuditTest, ErasureShredsOneTicketsPersonalDataAndTheLogStillVerifies) {
  HubProcess hub(dir_.path());
  hub.start();
  auto cfg = write_hotline_config(dir_.path(), "hotline", hub.ingest());
  auto [rc, out] = run({bin("gridhub-hotline"), "-c", cfg.string(), kExports[0]},
                       dir_ / "hotline.stderr");
  ASSERT_EQ(rc, 0) << out << slurp(dir_ / "hotline.stderr");
  const auto db = hub.db().string();
  // GD202405060005 was reported from 135-3395-3116, GD202405060003 from 173 3924 0674; the adapter
  // keeps the number normalized and the source row (with the number as written) as the payload.
  const std::string kErasedPhone = "13533953116";
  const std::string kKeptPhone = "17339240674";
  const std::string erased_id = query(hub.db(), "SELECT ticket_id FROM log WHERE source_key = 'GD202405060005'");
  const std::string kept_id = query(hub.db(), "SELECT ticket_id FROM log WHERE source_key = 'GD202405060003'");
  ASSERT_FALSE(erased_id.empty());
  ASSERT_FALSE(kept_id.empty());
  ASSERT_NE(erased_id, kept_id);

  const std::vector<std::string> erase = {bin("gridhubctl"), "erase", "--db", db, "--ticket", erased_id,
                                          "--ref", "case 2024-17", "--by", "county DPO"};
  // The running hub is the log's single writer: erase refuses rather than fork the chain.
  auto [busy_rc, busy_out] = run(erase, dir_ / "erase-busy.stderr");
  EXPECT_EQ(busy_rc, 3) << busy_out;
  EXPECT_NE(slurp(dir_ / "erase-busy.stderr").find("stop it first"), std::string::npos) << slurp(dir_ / "erase-busy.stderr");

  // Personal data is sealed at rest from intake on: no phone number in plain in the database.
  auto [b_rc, before] = run({bin("gridhubctl"), "tickets", "--db", db, "--json", "--show-pii"}, dir_ / "tickets.stderr");
  ASSERT_EQ(b_rc, 0) << slurp(dir_ / "tickets.stderr");
  EXPECT_NE(line_with(before, erased_id).find(kErasedPhone), std::string::npos) << line_with(before, erased_id);
  ASSERT_EQ(hub.terminate(), 0) << slurp(hub.stderr_file());
  const std::string file_before = slurp(hub.db());
  for (const char* plain : {"13533953116", "135-3395-3116", "17339240674", "173 3924 0674"}) {
    EXPECT_EQ(file_before.find(plain), std::string::npos) << plain;
  }

  auto [erc, eout] = run(erase, dir_ / "erase.stderr");
  ASSERT_EQ(erc, 0) << eout << slurp(dir_ / "erase.stderr");
  EXPECT_NE(eout.find("erased personal data of " + erased_id), std::string::npos) << eout;
  EXPECT_EQ(query(hub.db(), "SELECT count(*) FROM pii_keys WHERE key_id = '" + erased_id + "'"), "0");

  auto [vrc, vout] = run({bin("gridhubctl"), "verify", "--db", db}, dir_ / "verify.stderr");
  EXPECT_EQ(vrc, 0) << vout << slurp(dir_ / "verify.stderr");

  // Replay: the erasure is the last record, chained like any other; the erased ticket's records
  // read "[erased]" even with --show-pii, the other tickets' personal data still opens.
  auto [rrc, replayed] = run({bin("gridhubctl"), "replay", "--db", db, "--show-pii"}, dir_ / "replay.stderr");
  ASSERT_EQ(rrc, 0) << slurp(dir_ / "replay.stderr");
  const std::string last = replayed.substr(replayed.rfind('\n', replayed.size() - 2) + 1);
  EXPECT_NE(last.find("\"kind\":\"erasure\""), std::string::npos) << last;
  EXPECT_NE(last.find("\"request_ref\":\"case 2024-17\""), std::string::npos) << last;
  EXPECT_NE(last.find("\"pii_erased\":true"), std::string::npos) << last;
  const std::string intake_line = line_with(replayed, "\"source_key\":\"GD202405060005\"");
  ASSERT_FALSE(intake_line.empty());
  EXPECT_EQ(intake_line.find(kErasedPhone), std::string::npos) << intake_line;
  EXPECT_NE(intake_line.find("[erased]"), std::string::npos) << intake_line;
  EXPECT_NE(line_with(replayed, "\"source_key\":\"GD202405060003\"").find(kKeptPhone), std::string::npos);
  EXPECT_EQ(replayed.find(kErasedPhone), std::string::npos);
  EXPECT_EQ(replayed.find("135-3395-3116"), std::string::npos) << "the source row is sealed too";

  // The projection and the as-of view agree.
  auto [arc, after] = run({bin("gridhubctl"), "tickets", "--db", db, "--json", "--show-pii"}, dir_ / "tickets.stderr");
  ASSERT_EQ(arc, 0);
  EXPECT_EQ(line_with(after, erased_id).find(kErasedPhone), std::string::npos) << line_with(after, erased_id);
  EXPECT_NE(line_with(after, erased_id).find("\"pii_erased\":true"), std::string::npos) << line_with(after, erased_id);
  // Where the reporter was, readers say so: "[erased]", not an empty reporter.
  EXPECT_NE(line_with(after, erased_id).find("\"phone\":\"[erased]\""), std::string::npos) << line_with(after, erased_id);
  EXPECT_NE(line_with(after, kept_id).find(kKeptPhone), std::string::npos) << line_with(after, kept_id);
  auto [src, state] = run({bin("gridhubctl"), "state", "--db", db, "--as-of", "2100-01-01", erased_id, kept_id, "--show-pii"},
                          dir_ / "state.stderr");
  ASSERT_EQ(src, 0) << slurp(dir_ / "state.stderr");
  EXPECT_EQ(state.find(kErasedPhone), std::string::npos) << state;
  EXPECT_NE(line_with(state, erased_id).find("\"phone\":\"[erased]\""), std::string::npos) << state;
  EXPECT_NE(state.find(kKeptPhone), std::string::npos) << state;
  EXPECT_EQ(slurp(hub.db()).find(kErasedPhone), std::string::npos);

  // The projection rebuilt from the log alone keeps the erasure.
  auto [prc, pout] = run({bin("gridhubctl"), "rebuild-projection", "--db", db}, dir_ / "rebuild.stderr");
  ASSERT_EQ(prc, 0) << slurp(dir_ / "rebuild.stderr");
  auto [t2rc, rebuilt] = run({bin("gridhubctl"), "tickets", "--db", db, "--json", "--show-pii"}, dir_ / "tickets.stderr");
  EXPECT_EQ(line_with(rebuilt, erased_id), line_with(after, erased_id));

  // A repeated request writes nothing: one erasure on record, and the answer names it.
  const std::string erasure_seq = query(hub.db(), "SELECT seq FROM log WHERE kind = 'erasure'");
  auto [again_rc, again] = run(erase, dir_ / "erase-again.stderr");
  EXPECT_EQ(again_rc, 0) << slurp(dir_ / "erase-again.stderr");
  EXPECT_NE(again.find("already erased (log record " + erasure_seq + ")"), std::string::npos) << again;
  EXPECT_EQ(query(hub.db(), "SELECT count(*) FROM log WHERE kind = 'erasure'"), "1");
}

}  // namespace
}  // namespace gridhub::testing
