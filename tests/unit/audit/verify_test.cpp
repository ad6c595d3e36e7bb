// gridhub::audit::verify_log against every way an operator could doctor the log behind the auditor's back.
#include "gridhub/audit/verify.hpp"

#include <sodium.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include <cstdint>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "../../testing/temp_dir.hpp"
#include "gridhub/common/clock.hpp"
#include "gridhub/core/normalizer.hpp"
#include "gridhub/log/chain.hpp"
#include "gridhub/log/checkpoint.hpp"
#include "gridhub/core/sequencer.hpp"
#include "gridhub/log/event_log.hpp"
#include "gridhub/log/log_identity.hpp"
#include "gridhub/v1/log.pb.h"

namespace gridhub::audit {
namespace {

namespace v1 = gridhub::v1;
using log::ChainHash;

constexpr std::int64_t kStart = 1'700'000'000'000'000;

log::AppendItem intake(int i) {
  v1::Event ev;
  ev.set_channel(v1::CHANNEL_HOTLINE);
  ev.set_adapter_id("hotline-1");
  ev.set_source_key("WO-" + std::to_string(i));
  ev.mutable_fields()->set_text("路灯不亮 " + std::to_string(i));
  ev.mutable_fields()->set_reporter_name("张三");
  log::IntakeItem item;
  *item.body.mutable_event() = ev;
  *item.body.mutable_ticket() = core::ticket_from_event(ev);
  return item;
}

/// A plain connection without the hub's defensive settings: what a tampering operator would use.
class Tamper {
 public:
  explicit Tamper(const std::filesystem::path& file) {
    EXPECT_EQ(sqlite3_open_v2(file.c_str(), &db_, SQLITE_OPEN_READWRITE, nullptr), SQLITE_OK);
  }
  ~Tamper() { sqlite3_close(db_); }
  void exec(const std::string& sql) {
    char* err = nullptr;
    EXPECT_EQ(sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err), SQLITE_OK) << sql << ": " << (err ? err : "");
    sqlite3_free(err);
  }
  std::string blob(const std::string& sql) {
    sqlite3_stmt* st = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db_, sql.c_str(), -1, &st, nullptr), SQLITE_OK) << sql;
    std::string out;
    if (sqlite3_step(st) == SQLITE_ROW) {
      out.assign(static_cast<const char*>(sqlite3_column_blob(st, 0)), static_cast<std::size_t>(sqlite3_column_bytes(st, 0)));
    }
    sqlite3_finalize(st);
    return out;
  }
  /// Runs `sql` with one blob bound at ?1.
  void exec_blob(const std::string& sql, const std::string& blob) {
    sqlite3_stmt* st = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(db_, sql.c_str(), -1, &st, nullptr), SQLITE_OK) << sql;
    sqlite3_bind_blob(st, 1, blob.data(), static_cast<int>(blob.size()), SQLITE_TRANSIENT);
    EXPECT_EQ(sqlite3_step(st), SQLITE_DONE) << sqlite3_errmsg(db_);
    sqlite3_finalize(st);
  }
  /// What an attacker does after editing record `from`: recompute every hash from there on.
  void rechain_from(std::uint64_t from) {
    log::ChainHasher hasher;
    ChainHash prev = log::kChainGenesis;
    if (from > 1) {
      auto h = log::chain_hash_from_blob(blob("SELECT hash FROM log WHERE seq = " + std::to_string(from - 1)));
      ASSERT_TRUE(h);
      prev = *h;
    }
    sqlite3_stmt* st = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(db_, "SELECT seq, recorded_at, body FROM log WHERE seq >= ? ORDER BY seq", -1, &st, nullptr), SQLITE_OK);
    sqlite3_bind_int64(st, 1, static_cast<sqlite3_int64>(from));
    std::vector<std::pair<std::int64_t, ChainHash>> out;
    while (sqlite3_step(st) == SQLITE_ROW) {
      ChainHash h{};
      std::string_view body(static_cast<const char*>(sqlite3_column_blob(st, 2)), static_cast<std::size_t>(sqlite3_column_bytes(st, 2)));
      ASSERT_TRUE(hasher.next(prev, static_cast<std::uint64_t>(sqlite3_column_int64(st, 0)), sqlite3_column_int64(st, 1), body, h));
      out.emplace_back(sqlite3_column_int64(st, 0), h);
      prev = h;
    }
    sqlite3_finalize(st);
    for (const auto& [seq, h] : out) {
      exec_blob("UPDATE log SET hash = ?1 WHERE seq = " + std::to_string(seq), std::string(reinterpret_cast<const char*>(h.data()), h.size()));
    }
  }

 private:
  sqlite3* db_ = nullptr;
};

std::string slurp(const std::filesystem::path& f) {
  std::ifstream in(f, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

class VerifyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto pk = log::generate_keypair(dir_ / "keys");
    ASSERT_TRUE(pk.ok()) << pk.error().message();
    options_.dir = dir_ / "checkpoints";
    options_.signing_key = dir_ / "keys/checkpoint.key";
    options_.every_records = 10;
  }

  /// Appends records from+1..to one commit each, checkpointing every 10 and at close.
  void write_log(int from, int to, std::int64_t step_micros = 1000) {
    auto cp = log::Checkpointer::create(options_);
    ASSERT_TRUE(cp.ok()) << cp.error().message();
    {
      auto l = core::open_log(db_, log::LogOptions{}, clock_, nullptr, cp.value().get());
      ASSERT_TRUE(l.ok()) << l.error().message();
      for (int i = from + 1; i <= to; ++i) {
        std::vector<log::AppendItem> items;
        items.push_back(intake(i));
        std::vector<log::AppendOutcome> out;
        ASSERT_TRUE(l.value()->append(items, out).ok());
        ASSERT_EQ(out.at(0).seq, static_cast<std::uint64_t>(i));
        clock_.advance(step_micros);
      }
    }
  }

  VerifyReport verify(bool with_checkpoints = true, bool check_projection = true) {
    VerifyOptions o;
    o.check_projection = check_projection;
    if (with_checkpoints) {
      o.checkpoints_dir = options_.dir;
      o.public_key = dir_ / "keys/checkpoint.pub";
    }
    auto r = verify_log(db_, o);
    EXPECT_TRUE(r.ok()) << r.error().message();
    return r.ok() ? r.value() : VerifyReport{};
  }

  gridhub::testing::TempDir dir_;
  std::filesystem::path db_ = dir_ / "gridhub.db";
  log::CheckpointOptions options_;
  ManualClock clock_{kStart};
};

#define EXPECT_PROBLEM(report, p, seq)                                            \
  do {                                                                            \
    const auto& r_ = (report);                                                    \
    EXPECT_EQ(problem_name(r_.problem), problem_name(p)) << r_.detail;            \
    EXPECT_EQ(r_.first_bad_seq, static_cast<std::uint64_t>(seq)) << r_.detail;    \
  } while (0)

TEST_F(VerifyTest, StoredHashesFollowTheDocumentedPreimage) {
  write_log(0, 3);
  // Recomputed with libsodium's SHA-256, independently of the writer's OpenSSL code.
  Tamper t(db_);
  std::array<unsigned char, 32> prev{};
  for (int seq = 1; seq <= 3; ++seq) {
    const std::string body = t.blob("SELECT body FROM log WHERE seq = " + std::to_string(seq));
    const std::string at = t.blob("SELECT recorded_at FROM log WHERE seq = " + std::to_string(seq));
    const std::int64_t recorded_at = std::stoll(at);
    std::string pre(reinterpret_cast<const char*>(prev.data()), prev.size());
    for (int i = 7; i >= 0; --i) pre += static_cast<char>((static_cast<std::uint64_t>(seq) >> (8 * i)) & 0xff);
    for (int i = 7; i >= 0; --i) pre += static_cast<char>((static_cast<std::uint64_t>(recorded_at) >> (8 * i)) & 0xff);
    pre += body;
    std::array<unsigned char, 32> want{};
    crypto_hash_sha256(want.data(), reinterpret_cast<const unsigned char*>(pre.data()), pre.size());
    const std::string stored = t.blob("SELECT hash FROM log WHERE seq = " + std::to_string(seq));
    ASSERT_EQ(stored.size(), 32u);
    EXPECT_EQ(0, std::memcmp(stored.data(), want.data(), 32)) << "seq " << seq;
    prev = want;
  }
}

TEST_F(VerifyTest, CleanLogVerifiesWithAndWithoutCheckpoints) {
  write_log(0, 25);
  auto r = verify();
  EXPECT_TRUE(r.ok()) << r.detail;
  EXPECT_EQ(r.records, 25u);
  EXPECT_EQ(r.head_seq, 25u);
  EXPECT_EQ(r.checkpoints, 3u);   // 10, 20 and 25 at close
  EXPECT_EQ(r.checkpoints_matched, 3u);
  EXPECT_TRUE(verify(false).ok());
  // The hub reopening the log (more appends, another checkpoint) keeps it verifiable.
  write_log(25, 31);
  r = verify();
  EXPECT_TRUE(r.ok()) << r.detail;
  EXPECT_EQ(r.checkpoints, 5u);   // and 30, and 31 at close
}

TEST_F(VerifyTest, OneChangedBodyByteNamesTheRecord) {
  write_log(0, 20);
  {
    Tamper t(db_);
    std::string body = t.blob("SELECT body FROM log WHERE seq = 7");
    body[body.size() / 2] ^= 0x01;
    t.exec_blob("UPDATE log SET body = ?1 WHERE seq = 7", body);
  }
  EXPECT_PROBLEM(verify(), Problem::kHashMismatch, 7);
  EXPECT_PROBLEM(verify(false), Problem::kHashMismatch, 7);
}

TEST_F(VerifyTest, ChangedColumnsAreCaught) {
  write_log(0, 12);
  {
    Tamper t(db_);
    t.exec("UPDATE log SET source_key = 'WO-999' WHERE seq = 4");
  }
  EXPECT_PROBLEM(verify(), Problem::kColumnMismatch, 4);
  {
    Tamper t(db_);
    t.exec("UPDATE log SET source_key = 'WO-4' WHERE seq = 4");
    t.exec("UPDATE log SET ticket_id = 'T00000001' WHERE seq = 5");
  }
  EXPECT_PROBLEM(verify(), Problem::kColumnMismatch, 5);
  {
    Tamper t(db_);
    t.exec("UPDATE log SET ticket_id = 'T00000005' WHERE seq = 5");
    t.exec("UPDATE log SET recorded_at = recorded_at + 1 WHERE seq = 6");
  }
  EXPECT_PROBLEM(verify(), Problem::kHashMismatch, 6);
  {
    Tamper t(db_);
    t.exec("UPDATE log SET recorded_at = recorded_at - 1 WHERE seq = 6");
    t.exec("UPDATE log SET hash = zeroblob(32) WHERE seq = 9");
  }
  EXPECT_PROBLEM(verify(), Problem::kHashMismatch, 9);
}

TEST_F(VerifyTest, DeletedRecordIsAGapOrABrokenLink) {
  write_log(0, 20);
  {
    Tamper t(db_);
    t.exec("DELETE FROM log WHERE seq = 8");
  }
  EXPECT_PROBLEM(verify(), Problem::kSeqGap, 8);
  {
    Tamper t(db_);   // close the gap by renumbering: the seq is in the preimage
    for (int s = 9; s <= 20; ++s) t.exec("UPDATE log SET seq = " + std::to_string(s - 1) + " WHERE seq = " + std::to_string(s));
  }
  EXPECT_PROBLEM(verify(false), Problem::kHashMismatch, 8);
}

TEST_F(VerifyTest, InsertedRecordIsCaught) {
  write_log(0, 20);
  {
    Tamper t(db_);   // a forged record at the head, with a made-up hash
    const std::string body = t.blob("SELECT body FROM log WHERE seq = 20");
    t.exec_blob("INSERT INTO log(seq, recorded_at, kind, ticket_id, channel, source_key, body, hash) "
                "SELECT 21, recorded_at, kind, 'T00000021', channel, 'WO-forged', ?1, zeroblob(32) FROM log WHERE seq = 20",
                body);
  }
  EXPECT_PROBLEM(verify(), Problem::kHashMismatch, 21);
  {
    Tamper t(db_);   // a well-formed record slipped in at 5, correctly chained by the attacker; the rest shifted up
    t.exec("DELETE FROM log WHERE seq = 21");
    for (int s = 20; s >= 5; --s) t.exec("UPDATE log SET seq = " + std::to_string(s + 1) + " WHERE seq = " + std::to_string(s));
    v1::LogRecord rec;
    ASSERT_TRUE(rec.ParseFromString(t.blob("SELECT body FROM log WHERE seq = 4")));
    rec.set_seq(5);
    rec.set_ticket_id("T00000005");
    rec.mutable_intake_accepted()->mutable_event()->set_source_key("WO-forged");
    t.exec_blob("INSERT INTO log(seq, recorded_at, kind, ticket_id, channel, source_key, body) "
                "SELECT 5, recorded_at, kind, 'T00000005', channel, 'WO-forged', ?1 FROM log WHERE seq = 4",
                rec.SerializeAsString());
    const std::string h6 = t.blob("SELECT hash FROM log WHERE seq = 6");
    t.rechain_from(5);   // hashes 5.. now consistent with the new seqs...
    t.exec_blob("UPDATE log SET hash = ?1 WHERE seq = 6", h6);   // ...but record 6 keeps the hash it had as 5
    for (int s = 7; s <= 21; ++s) {
      t.exec("UPDATE log SET hash = NULL WHERE seq = " + std::to_string(s));
    }
  }
  // Record 5 itself is flawless; the one after it cannot link to it.
  EXPECT_PROBLEM(verify(false), Problem::kHashMismatch, 6);
}

TEST_F(VerifyTest, SwappedRecordsAreCaught) {
  write_log(0, 20);
  {
    Tamper t(db_);
    const std::string b3 = t.blob("SELECT body FROM log WHERE seq = 3");
    const std::string b4 = t.blob("SELECT body FROM log WHERE seq = 4");
    t.exec_blob("UPDATE log SET body = ?1 WHERE seq = 3", b4);
    t.exec_blob("UPDATE log SET body = ?1 WHERE seq = 4", b3);
  }
  EXPECT_PROBLEM(verify(false), Problem::kHashMismatch, 3);
  {
    Tamper t(db_);   // swap back, then swap whole rows by seq
    const std::string b3 = t.blob("SELECT body FROM log WHERE seq = 3");
    const std::string b4 = t.blob("SELECT body FROM log WHERE seq = 4");
    t.exec_blob("UPDATE log SET body = ?1 WHERE seq = 3", b4);
    t.exec_blob("UPDATE log SET body = ?1 WHERE seq = 4", b3);
    ASSERT_TRUE(verify(false).ok());
    t.exec("UPDATE log SET seq = 1000 WHERE seq = 3");
    t.exec("UPDATE log SET seq = 3 WHERE seq = 4");
    t.exec("UPDATE log SET seq = 4 WHERE seq = 1000");
  }
  EXPECT_PROBLEM(verify(false), Problem::kHashMismatch, 3);
}

TEST_F(VerifyTest, TruncatedTailNeedsCheckpoints) {
  write_log(0, 25);
  {
    Tamper t(db_);
    t.exec("DELETE FROM log WHERE seq > 22");
  }
  EXPECT_TRUE(verify(false, false).ok()) << "a chain alone cannot see a cut tail";
  EXPECT_PROBLEM(verify(false), Problem::kProjectionMismatch, 23);   // the projection still has the cut tickets
  EXPECT_PROBLEM(verify(), Problem::kCheckpointBeyondHead, 23);
}

TEST_F(VerifyTest, RewrittenChainContradictsTheCheckpoints) {
  write_log(0, 25);
  {
    Tamper t(db_);
    std::string body = t.blob("SELECT body FROM log WHERE seq = 14");
    body[body.size() - 1] ^= 0x20;
    t.exec_blob("UPDATE log SET body = ?1 WHERE seq = 14", body);
    t.rechain_from(14);
  }
  EXPECT_TRUE(verify(false, false).ok()) << "the attacker recomputed every hash";
  auto r = verify();
  EXPECT_PROBLEM(r, Problem::kCheckpointMismatch, 11);   // after the checkpoint at 10, by the one at 20
  EXPECT_NE(r.detail.find("checkpoint-00000000000000000020.txt"), std::string::npos) << r.detail;
}

TEST_F(VerifyTest, AnEditedProjectionRowIsAMismatchNamingTheTicketAndColumn) {
  write_log(0, 5);
  EXPECT_TRUE(verify(false).ok());
  {
    Tamper t(db_);
    t.exec("UPDATE tickets SET status = 4 WHERE ticket_id = 'T00000003'");
  }
  auto r = verify(false);
  EXPECT_PROBLEM(r, Problem::kProjectionMismatch, 3);
  EXPECT_NE(r.detail.find("T00000003"), std::string::npos) << r.detail;
  EXPECT_NE(r.detail.find("column status"), std::string::npos) << r.detail;
  EXPECT_TRUE(verify(false, false).ok()) << "--no-projection: the chain alone";
  {
    Tamper t(db_);
    t.exec("UPDATE tickets SET status = (SELECT status FROM tickets WHERE ticket_id = 'T00000002') WHERE ticket_id = 'T00000003'");
    t.exec("UPDATE tickets SET body = (SELECT body FROM tickets WHERE ticket_id = 'T00000002') WHERE ticket_id = 'T00000003'");
  }
  EXPECT_PROBLEM(verify(false), Problem::kProjectionMismatch, 3);
  {
    Tamper t(db_);
    t.exec("DELETE FROM tickets WHERE ticket_id = 'T00000003'");
  }
  r = verify(false);
  EXPECT_PROBLEM(r, Problem::kProjectionMismatch, 3);
  EXPECT_NE(r.detail.find("missing"), std::string::npos) << r.detail;
  ASSERT_TRUE(log::rebuild_projection(db_).ok());
  EXPECT_TRUE(verify(false).ok());
}

TEST_F(VerifyTest, TheProjectionCheckReportsTheFirstEditedRowInIdOrderWhereverItFalls) {
  // The check runs on two halves of the table at once (T00000001..2 and T00000003..5 here): the
  // report must still be the first problem a single pass in id order would meet.
  write_log(0, 5);
  {
    Tamper t(db_);
    t.exec("UPDATE tickets SET tier = 3 WHERE ticket_id = 'T00000005'");
  }
  auto r = verify(false);
  EXPECT_PROBLEM(r, Problem::kProjectionMismatch, 5);
  EXPECT_NE(r.detail.find("column tier"), std::string::npos) << r.detail;
  EXPECT_EQ(r.records, 5u) << "the walk's figures stay";
  {
    Tamper t(db_);
    t.exec("UPDATE tickets SET status = 4 WHERE ticket_id = 'T00000002'");
  }
  EXPECT_PROBLEM(verify(false), Problem::kProjectionMismatch, 2);
  {
    Tamper t(db_);
    t.exec("UPDATE tickets SET status = 4 WHERE ticket_id = 'T00000004'");
    t.exec("DELETE FROM tickets WHERE ticket_id = 'T00000002'");
  }
  // A missing row is reported only once every row agreed: the edited one comes first.
  EXPECT_PROBLEM(verify(false), Problem::kProjectionMismatch, 4);
  ASSERT_TRUE(log::rebuild_projection(db_).ok());
  EXPECT_TRUE(verify(false).ok());
}

TEST_F(VerifyTest, AChangeThatDoesNotBuildOnItsTicketsPreviousRecordIsStale) {
  write_log(0, 3);
  {
    auto l = core::open_log(db_, log::LogOptions{}, clock_);
    ASSERT_TRUE(l.ok()) << l.error().message();
    for (int i = 0; i < 2; ++i) {
      log::ChangeItem note;
      note.ticket_id = "T00000001";
      note.apply = [](const v1::Ticket& current, v1::LogRecord& record, std::string&) {
        *record.mutable_ticket_update()->mutable_ticket() = current;
        record.mutable_ticket_update()->set_action(v1::UPDATE_ACTION_NOTE);
        return log::Refusal::kNone;
      };
      std::vector<log::AppendItem> items;
      items.push_back(std::move(note));
      std::vector<log::AppendOutcome> out;
      ASSERT_TRUE(l.value()->append(items, out).ok());
      ASSERT_EQ(out.at(0).refused, log::Refusal::kNone);
    }
  }
  EXPECT_TRUE(verify(false).ok()) << verify(false).detail;
  // Record 5 built on record 1 (T00000001's state before the note at 4): rewritten and rechained.
  {
    Tamper t(db_);
    v1::LogRecord rec;
    ASSERT_TRUE(rec.ParseFromString(t.blob("SELECT body FROM log WHERE seq = 5")));
    EXPECT_EQ(rec.prior_seq(), 4u);
    rec.set_prior_seq(1);
    t.exec_blob("UPDATE log SET body = ?1 WHERE seq = 5", rec.SerializeAsString());
    t.rechain_from(5);
  }
  auto r = verify(false, false);
  EXPECT_PROBLEM(r, Problem::kStaleChange, 5);
  EXPECT_NE(r.detail.find("previous record is 4"), std::string::npos) << r.detail;
}

TEST_F(VerifyTest, ForgedCheckpointsAreCaught) {
  write_log(0, 25);
  const auto file = options_.dir / log::checkpoint_file_name(20);
  std::string text = slurp(file);
  const std::string original = text;
  // An edited hash under the old signature.
  auto pos = text.find("hash ") + 5;
  text[pos] = text[pos] == '0' ? '1' : '0';
  dir_.write(file.lexically_relative(dir_.path()), text);
  EXPECT_PROBLEM(verify(), Problem::kCheckpointBadSignature, 20);
  // A well-formed checkpoint signed by another key.
  auto other = log::generate_keypair(dir_ / "other");
  ASSERT_TRUE(other.ok());
  auto other_key = log::load_signing_key(dir_ / "other/checkpoint.key");
  ASSERT_TRUE(other_key.ok());
  dir_.write(file.lexically_relative(dir_.path()),
             log::format_checkpoint(log::sign_checkpoint(20, ChainHash{}, kStart, other_key.value())));
  EXPECT_PROBLEM(verify(), Problem::kCheckpointWrongKey, 20);
  // Validly signed (the real key), but for a hash the chain never had.
  auto key = log::load_signing_key(options_.signing_key);
  ASSERT_TRUE(key.ok());
  dir_.write(file.lexically_relative(dir_.path()), log::format_checkpoint(log::sign_checkpoint(20, ChainHash{}, kStart, key.value())));
  EXPECT_PROBLEM(verify(), Problem::kCheckpointMismatch, 11);
  dir_.write(file.lexically_relative(dir_.path()), "gridhub-log-checkpoint v1\nseq 20\n");
  EXPECT_EQ(verify().problem, Problem::kCheckpointMalformed);
  dir_.write(file.lexically_relative(dir_.path()), original);
  EXPECT_TRUE(verify().ok());
}

TEST_F(VerifyTest, RollbackToAnOlderCopyIsCaught) {
  write_log(0, 12);
  std::filesystem::copy_file(db_, dir_ / "old.db");
  write_log(12, 30);
  std::filesystem::copy_file(dir_ / "old.db", db_, std::filesystem::copy_options::overwrite_existing);
  EXPECT_TRUE(verify(false).ok());
  EXPECT_PROBLEM(verify(), Problem::kCheckpointBeyondHead, 13);
}

TEST_F(VerifyTest, VersionOneLogMigratesAndVerifies) {
  write_log(0, 15);
  {
    Tamper t(db_);   // what a version 1 file looks like
    t.exec("ALTER TABLE log DROP COLUMN hash");
    t.exec("PRAGMA user_version=1");
  }
  EXPECT_FALSE(verify_log(db_).ok()) << "no chain to verify in a v1 file";
  std::filesystem::remove_all(options_.dir);   // its checkpoints were from before; start afresh
  write_log(15, 21);   // opening migrates; then more records
  auto r = verify();
  EXPECT_TRUE(r.ok()) << r.detail;
  EXPECT_EQ(r.records, 21u);
  Tamper t(db_);
  EXPECT_EQ(t.blob("PRAGMA user_version"), "3");
}

TEST_F(VerifyTest, CheckpointsOnlyWhenDueAndAtClose) {
  options_.every_records = 4;
  write_log(0, 9);
  std::vector<std::string> names;
  for (const auto& f : log::list_checkpoint_files(options_.dir)) names.push_back(f.filename().string());
  EXPECT_EQ(names, (std::vector<std::string>{log::checkpoint_file_name(4), log::checkpoint_file_name(8),
                                              log::checkpoint_file_name(9)}));
}

TEST_F(VerifyTest, CheckpointsAtMultiplesEvenWithinOneCommit) {
  options_.every_records = 4;
  auto cp = log::Checkpointer::create(options_);
  ASSERT_TRUE(cp.ok());
  auto l = core::open_log(db_, log::LogOptions{}, clock_, nullptr, cp.value().get());
  ASSERT_TRUE(l.ok());
  std::vector<log::AppendItem> items;
  for (int i = 1; i <= 10; ++i) items.push_back(intake(i));
  std::vector<log::AppendOutcome> out;
  ASSERT_TRUE(l.value()->append(items, out).ok());
  EXPECT_EQ(log::list_checkpoint_files(options_.dir).size(), 2u);   // 4 and 8; 10 waits for close
  l.value().reset();
  EXPECT_EQ(log::list_checkpoint_files(options_.dir).size(), 3u);
  EXPECT_TRUE(verify().ok());
}

TEST_F(VerifyTest, CheckpointsAfterTheIntervalEvenWithFewRecords) {
  options_.every_records = 1000;
  options_.every_seconds = 1;
  // One commit every 0.4 s from the open: due at the 4th (1.2 s); the 5th comes with the close.
  write_log(0, 5, 400'000);
  std::vector<std::string> names;
  for (const auto& f : log::list_checkpoint_files(options_.dir)) names.push_back(f.filename().string());
  EXPECT_EQ(names, (std::vector<std::string>{log::checkpoint_file_name(4), log::checkpoint_file_name(5)}));
}

TEST_F(VerifyTest, SigningKeyErrorsNameTheFile) {
  auto missing = options_;
  missing.signing_key = dir_ / "nope.key";
  auto r = log::Checkpointer::create(missing);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("nope.key"), std::string::npos) << r.error().message();

  auto garbage = options_;
  garbage.signing_key = dir_.write("bad.key", "not a key\n");
  ::chmod(garbage.signing_key.c_str(), 0600);
  r = log::Checkpointer::create(garbage);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("bad.key"), std::string::npos) << r.error().message();

  ::chmod(options_.signing_key.c_str(), 0644);
  r = log::Checkpointer::create(options_);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("checkpoint.key"), std::string::npos) << r.error().message();

  // A public key where the secret one belongs.
  auto swapped = options_;
  swapped.signing_key = dir_ / "keys/checkpoint.pub";
  ::chmod(swapped.signing_key.c_str(), 0600);
  EXPECT_FALSE(log::Checkpointer::create(swapped).ok());
  EXPECT_FALSE(log::generate_keypair(dir_ / "keys").ok()) << "never overwrites a key";
}

TEST(CheckpointFormat, RoundTripsAndRejectsNonCanonicalText) {
  log::Checkpoint c;
  c.seq = 42;
  c.hash[0] = 0xab;
  c.time_micros = kStart;
  c.key_id = "0123456789abcdef";
  const std::string text = log::format_checkpoint(c);
  EXPECT_EQ(text.substr(0, text.find("sig ")),
            "gridhub-log-checkpoint v1\nseq 42\nhash ab" + std::string(62, '0') + "\ntime 1700000000000000\nkey 0123456789abcdef\n");
  auto back = log::parse_checkpoint(text);
  ASSERT_TRUE(back.ok()) << back.error().message();
  EXPECT_EQ(back->seq, 42u);
  EXPECT_EQ(back->hash, c.hash);
  std::string padded = text;
  padded.replace(padded.find("seq 42"), 6, "seq 042");
  EXPECT_FALSE(log::parse_checkpoint(padded).ok());
  EXPECT_FALSE(log::parse_checkpoint(text + "extra\n").ok());
}

// The hub's own check at open, before it signs anything (item: "the hub signs a tail it never checked").
class OpenCheckTest : public VerifyTest {
 protected:
  Result<std::unique_ptr<core::SequencedLog>> open_log(bool accept_restored = false) {
    auto o = options_;
    o.accept_restored_log = accept_restored;
    auto cp = log::Checkpointer::create(o);
    EXPECT_TRUE(cp.ok());
    checkpointer_ = std::move(cp.value());
    return core::open_log(db_, log::LogOptions{}, clock_, nullptr, checkpointer_.get());
  }
  /// Appends records from+1..to without a checkpointer: commits made after the last checkpoint by a
  /// hub that was then killed (no checkpoint at close).
  void append_unattested(int from, int to) {
    auto l = core::open_log(db_, log::LogOptions{}, clock_);
    ASSERT_TRUE(l.ok()) << l.error().message();
    for (int i = from + 1; i <= to; ++i) {
      std::vector<log::AppendItem> items;
      items.push_back(intake(i));
      std::vector<log::AppendOutcome> out;
      ASSERT_TRUE(l.value()->append(items, out).ok());
    }
  }
  std::unique_ptr<log::Checkpointer> checkpointer_;
};

TEST_F(OpenCheckTest, ARewrittenAndRelinkedRecordBehindTheLastCheckpointIsRefused) {
  write_log(0, 25);   // checkpoints at 10, 20 and 25 (the orderly stop)
  const auto files_before = log::list_checkpoint_files(options_.dir);
  {
    Tamper t(db_);
    std::string body = t.blob("SELECT body FROM log WHERE seq = 22");
    body[body.size() - 1] ^= 0x20;
    t.exec_blob("UPDATE log SET body = ?1 WHERE seq = 22", body);
    t.rechain_from(22);
  }
  auto l = open_log();
  ASSERT_FALSE(l.ok()) << "the hub must not start on a log that contradicts its checkpoints";
  EXPECT_NE(l.error().message().find("checkpoint at seq 25"), std::string::npos) << l.error().message();
  EXPECT_NE(l.error().message().find("record 25"), std::string::npos) << l.error().message();
  EXPECT_EQ(log::list_checkpoint_files(options_.dir), files_before) << "nothing new was signed";
  EXPECT_PROBLEM(verify(), Problem::kCheckpointMismatch, 21);
}

TEST_F(OpenCheckTest, AnEditedUnattestedTailIsRefusedNotSigned) {
  write_log(0, 10);          // checkpoint at 10
  append_unattested(10, 14); // a killed hub: 11..14 committed, never attested
  {
    Tamper t(db_);
    std::string body = t.blob("SELECT body FROM log WHERE seq = 12");
    body[body.size() - 1] ^= 0x20;
    t.exec_blob("UPDATE log SET body = ?1 WHERE seq = 12", body);
  }
  auto l = open_log();
  ASSERT_FALSE(l.ok());
  EXPECT_NE(l.error().message().find("record 12"), std::string::npos) << l.error().message();
  EXPECT_EQ(log::list_checkpoint_files(options_.dir).size(), 1u) << "no checkpoint over the edited tail";
  EXPECT_PROBLEM(verify(), Problem::kHashMismatch, 12);
}

TEST_F(OpenCheckTest, AnIntactUnattestedTailIsSignedAtOpen) {
  write_log(0, 10);
  append_unattested(10, 14);
  auto l = open_log();
  ASSERT_TRUE(l.ok()) << l.error().message();
  EXPECT_EQ(checkpointer_->last_seq(), 14u);
  l.value().reset();
  EXPECT_TRUE(verify().ok());
}

TEST_F(OpenCheckTest, AKilledHubsTailRewrittenAndRelinkedIsRefusedByTheHeadWitness) {
  write_log(0, 14);   // checkpoint at 10, head witness at 14, checkpoint at 14 by the close ...
  ASSERT_TRUE(std::filesystem::remove(options_.dir / log::checkpoint_file_name(14)));   // ... which a kill never writes
  ASSERT_TRUE(std::filesystem::exists(options_.dir / log::kHeadWitnessFile));
  {
    Tamper t(db_);
    std::string body = t.blob("SELECT body FROM log WHERE seq = 12");
    body[body.size() - 1] ^= 0x20;
    t.exec_blob("UPDATE log SET body = ?1 WHERE seq = 12", body);
    t.rechain_from(12);
  }
  EXPECT_TRUE(verify().ok()) << "the checkpoint at 10 cannot see it";
  auto l = open_log();
  ASSERT_FALSE(l.ok()) << "the hub must not sign the rewritten tail";
  EXPECT_NE(l.error().message().find("record 14"), std::string::npos) << l.error().message();
  EXPECT_EQ(log::list_checkpoint_files(options_.dir).size(), 1u);
}

TEST_F(OpenCheckTest, AKilledHubsTailCutIsRefusedByTheHeadWitness) {
  write_log(0, 14);
  ASSERT_TRUE(std::filesystem::remove(options_.dir / log::checkpoint_file_name(14)));
  {
    Tamper t(db_);
    t.exec("DELETE FROM log WHERE seq > 12");
  }
  auto l = open_log();
  ASSERT_FALSE(l.ok());
  EXPECT_NE(l.error().message().find("behind seq 14, which this hub committed and signed"), std::string::npos)
      << l.error().message();
}

TEST_F(OpenCheckTest, AForgedNewestCheckpointIsRefused) {
  write_log(0, 12);
  auto other = log::generate_keypair(dir_ / "other");
  ASSERT_TRUE(other.ok());
  auto other_key = log::load_signing_key(dir_ / "other/checkpoint.key");
  ASSERT_TRUE(other_key.ok());
  dir_.write((options_.dir / log::checkpoint_file_name(12)).lexically_relative(dir_.path()),
             log::format_checkpoint(log::sign_checkpoint(12, ChainHash{}, kStart, other_key.value())));
  auto l = open_log();
  ASSERT_FALSE(l.ok());
  EXPECT_NE(l.error().message().find(log::checkpoint_file_name(12)), std::string::npos) << l.error().message();
}

TEST_F(OpenCheckTest, ARestoredCopyIsRefusedUnlessAcceptedThenStartsATimeline) {
  write_log(0, 12);
  std::filesystem::copy_file(db_, dir_ / "backup.db");
  write_log(12, 30);
  std::filesystem::copy_file(dir_ / "backup.db", db_, std::filesystem::copy_options::overwrite_existing);
  auto refused = open_log();
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message().find("--accept-restored-log"), std::string::npos) << refused.error().message();
  EXPECT_NE(refused.error().message().find("behind the signed checkpoint at seq 30"), std::string::npos)
      << refused.error().message();
  auto before = log::read_log_identity(db_);
  ASSERT_TRUE(before.ok());
  ASSERT_EQ(before->timelines.size(), 1u);

  {
    auto accepted = open_log(true);
    ASSERT_TRUE(accepted.ok()) << accepted.error().message();
    std::vector<log::AppendItem> items;
    items.push_back(intake(100));
    std::vector<log::AppendOutcome> out;
    ASSERT_TRUE(accepted.value()->append(items, out).ok());
    EXPECT_EQ(out.at(0).seq, 13u);
  }
  auto after = log::read_log_identity(db_);
  ASSERT_TRUE(after.ok());
  ASSERT_EQ(after->timelines.size(), 2u);
  EXPECT_EQ(after->log_id, before->log_id) << "the same log, resumed";
  EXPECT_EQ(after->timelines[1].first_seq, 13u);
  EXPECT_NE(after->timelines[1].id, after->timelines[0].id);
  // The checkpoints of the lost records moved aside; the folder now attests the resumed chain.
  std::size_t aside = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(options_.dir)) {
    if (e.path().parent_path() != options_.dir && e.path().filename().string().starts_with("checkpoint-")) ++aside;
  }
  EXPECT_EQ(aside, 2u) << "20 and 30";
  auto r = verify();
  EXPECT_TRUE(r.ok()) << r.detail;
  EXPECT_EQ(r.records, 13u);
  // And the next start is an ordinary one.
  auto again = open_log();
  EXPECT_TRUE(again.ok()) << again.error().message();
}

TEST_F(OpenCheckTest, ARestoredCopyThatWasAlsoEditedIsRefusedEvenWhenAccepted) {
  write_log(0, 12);   // checkpoints 10, 12
  std::filesystem::copy_file(db_, dir_ / "backup.db");
  write_log(12, 30);
  std::filesystem::copy_file(dir_ / "backup.db", db_, std::filesystem::copy_options::overwrite_existing);
  {
    Tamper t(db_);
    std::string body = t.blob("SELECT body FROM log WHERE seq = 5");
    body[body.size() - 1] ^= 0x20;
    t.exec_blob("UPDATE log SET body = ?1 WHERE seq = 5", body);
    t.rechain_from(5);
  }
  auto l = open_log(true);
  ASSERT_FALSE(l.ok());
  EXPECT_NE(l.error().message().find("record 12"), std::string::npos) << l.error().message();
}

/// Counts make_durable calls and what was signed when each came.
class RecordingSource final : public log::ChainSource {
 public:
  explicit RecordingSource(std::filesystem::path dir) : dir_(std::move(dir)) {}
  Result<log::ChainLink> recompute(const log::ChainLink&, std::uint64_t to_seq) noexcept override {
    return log::ChainLink{to_seq, ChainHash{}};
  }
  Status make_durable() noexcept override {
    files_at_sync.push_back(log::list_checkpoint_files(dir_).size());
    return Ok{};
  }
  bool commits_durable() const noexcept override { return false; }
  std::vector<std::size_t> files_at_sync;

 private:
  std::filesystem::path dir_;
};

TEST_F(VerifyTest, ACheckpointIsSignedOnlyAfterTheLogWasMadeDurable) {
  // durability = "normal": commits are not fsynced; the checkpointer must fsync before it attests.
  options_.every_records = 4;
  auto cp = log::Checkpointer::create(options_);
  ASSERT_TRUE(cp.ok());
  RecordingSource source(options_.dir);
  ASSERT_TRUE(cp.value()->on_open(log::ChainLink{}, source, kStart).ok());
  std::vector<log::ChainLink> links;
  for (std::uint64_t s = 1; s <= 3; ++s) links.push_back(log::ChainLink{s, ChainHash{}});
  cp.value()->on_commit(links, kStart + 1);
  EXPECT_TRUE(source.files_at_sync.empty()) << "nothing due, nothing to sync";
  links.assign({log::ChainLink{4, ChainHash{}}, log::ChainLink{5, ChainHash{}}});
  cp.value()->on_commit(links, kStart + 2);
  ASSERT_EQ(source.files_at_sync.size(), 1u);
  EXPECT_EQ(source.files_at_sync[0], 0u) << "synced before the checkpoint at 4 was written";
  EXPECT_EQ(log::list_checkpoint_files(options_.dir).size(), 1u);
  cp.value()->on_close(log::ChainLink{5, ChainHash{}}, kStart + 3);
  ASSERT_EQ(source.files_at_sync.size(), 2u);
  EXPECT_EQ(source.files_at_sync[1], 1u) << "synced before the checkpoint at close";
  EXPECT_EQ(log::list_checkpoint_files(options_.dir).size(), 2u);
}

TEST_F(VerifyTest, WithNormalDurabilityTheWalIsFsyncedBeforeACheckpoint) {
  // The writer's own source: make_durable reaches the WAL file (a real fsync; here: no error, and
  // the checkpoints of a "normal" log verify).
  options_.every_records = 3;
  auto cp = log::Checkpointer::create(options_);
  ASSERT_TRUE(cp.ok());
  {
    log::LogOptions normal;
    normal.durability = log::Durability::kNormal;
    auto l = core::open_log(db_, normal, clock_, nullptr, cp.value().get());
    ASSERT_TRUE(l.ok()) << l.error().message();
    for (int i = 1; i <= 7; ++i) {
      std::vector<log::AppendItem> items;
      items.push_back(intake(i));
      std::vector<log::AppendOutcome> out;
      ASSERT_TRUE(l.value()->append(items, out).ok());
    }
  }
  EXPECT_EQ(cp.value()->failures(), 0u);
  EXPECT_EQ(log::list_checkpoint_files(options_.dir).size(), 3u);   // 3, 6, 7
  EXPECT_TRUE(verify().ok());
}

}  // namespace
}  // namespace gridhub::audit
