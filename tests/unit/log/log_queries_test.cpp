// gridhub::log LogQueries: what gridhubctl reads of a log — the ticket projection in the order the
// tickets were made, with personal fields opened; the dead letters with their sealed payloads shown
// only on request; and the write-ahead log folded away after an erasure.
#include "gridhub/log/log_queries.hpp"

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "../../testing/temp_dir.hpp"
#include "gridhub/common/clock.hpp"
#include "gridhub/log/event_log.hpp"
#include "gridhub/log/pii_vault.hpp"
#include "gridhub/sqlite/sqlite.hpp"
#include "gridhub/v1/event.pb.h"
#include "gridhub/v1/ticket.pb.h"

namespace gridhub::log {
namespace {

namespace v1 = gridhub::v1;

/// A log database as the writer leaves it (schema, WAL), filled row by row here so each test states
/// exactly what is stored — including rows an older gridhub wrote.
class LogQueriesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const gridhub::SystemClock clock;
    auto log = open_event_log(db_file(), LogOptions{}, clock);
    ASSERT_TRUE(log.ok()) << log.error().message();
    log.value().reset();
    auto db = sqlite::Database::open(db_file(), sqlite::OpenMode::kReadWrite);
    ASSERT_TRUE(db.ok()) << db.error().message();
    db_.emplace(std::move(db.value()));
    auto keys = PiiKeyStore::open(db_->handle());
    ASSERT_TRUE(keys.ok()) << keys.error().message();
    keys_.emplace(std::move(keys.value()));
  }
  void TearDown() override {
    keys_.reset();
    db_.reset();
  }

  std::filesystem::path db_file() const { return dir_.path() / "log.db"; }

  /// A tickets row; its personal fields sealed under the ticket's own key when `seal`.
  void put_ticket(const std::string& id, std::int64_t created_seq, const std::string& name, bool seal = true) {
    v1::Ticket t;
    t.set_ticket_id(id);
    t.set_text("路灯不亮 " + id);
    t.mutable_reporter()->set_name(name);
    if (seal) {
      auto key = keys_->create(id);
      ASSERT_TRUE(key.ok()) << key.error().message();
      ASSERT_TRUE(seal_pii(t, id, key.value()));
    }
    put_ticket_body(id, created_seq, t.SerializeAsString());
  }
  void put_ticket_body(const std::string& id, std::int64_t created_seq, const std::string& body) {
    auto st = db_->prepare("INSERT INTO tickets(ticket_id, created_seq, last_seq, status, body) VALUES(?,?,?,1,?)");
    ASSERT_TRUE(st.ok()) << st.error().message();
    st->bind(1, id).bind(2, created_seq).bind(3, created_seq).bind_blob(4, body);
    ASSERT_TRUE(st->run().ok());
  }

  /// A dead letter as the writer stores one: the payload sealed under `key_id` (Event.original_payload).
  std::string sealed_payload(const std::string& key_id, const std::string& row) {
    auto key = keys_->create(key_id);
    EXPECT_TRUE(key.ok());
    v1::Event carrier;
    carrier.set_original_payload(row);
    EXPECT_TRUE(seal_pii(carrier, key_id, key.value()));
    return carrier.original_payload();
  }

  std::vector<v1::Ticket> all_tickets(LogQueries& q) {
    std::vector<v1::Ticket> out;
    auto cursor = q.tickets();
    EXPECT_TRUE(cursor.ok()) << cursor.error().message();
    if (!cursor.ok()) return out;
    v1::Ticket t;
    for (;;) {
      auto more = cursor->next(t);
      EXPECT_TRUE(more.ok()) << more.error().message();
      if (!more.ok() || !more.value()) break;
      out.push_back(t);
    }
    return out;
  }

  LogQueries open_queries() {
    auto q = LogQueries::open(db_file());
    EXPECT_TRUE(q.ok()) << q.error().message();
    return std::move(q.value());
  }

  gridhub::testing::TempDir dir_;
  std::optional<sqlite::Database> db_;
  std::optional<PiiKeyStore> keys_;
};

TEST_F(LogQueriesTest, TicketsComeInTheOrderTheyWereMadeNotByTheirIds) {
  put_ticket("T00000009", 1, "王女士");
  put_ticket("T00000001", 7, "李先生");
  put_ticket("T00000005", 3, "张三");
  auto q = open_queries();
  auto tickets = all_tickets(q);
  ASSERT_EQ(tickets.size(), 3u);
  EXPECT_EQ(tickets[0].ticket_id(), "T00000009");
  EXPECT_EQ(tickets[1].ticket_id(), "T00000005");
  EXPECT_EQ(tickets[2].ticket_id(), "T00000001");
}

TEST_F(LogQueriesTest, PersonalFieldsOpenWithTheLogsKeysAndReadErasedOnceTheKeyIsDestroyed) {
  put_ticket("T00000001", 1, "王女士");
  put_ticket("T00000002", 2, "李先生");
  put_ticket("T00000003", 3, "张三", /*seal=*/false);   // a ticket from before sealing: plain as stored
  ASSERT_TRUE(keys_->destroy("T00000002").ok());
  auto q = open_queries();
  auto tickets = all_tickets(q);
  ASSERT_EQ(tickets.size(), 3u);
  EXPECT_EQ(tickets[0].reporter().name(), "王女士");
  EXPECT_EQ(tickets[1].reporter().name(), kErasedText);
  EXPECT_EQ(tickets[2].reporter().name(), "张三");
  EXPECT_EQ(tickets[0].text(), "路灯不亮 T00000001");   // not personal: never sealed
}

TEST_F(LogQueriesTest, ATicketBodyThatDoesNotParseIsSkippedNotFatal) {
  put_ticket("T00000001", 1, "王女士");
  put_ticket_body("T00000002", 2, std::string("\xff\xff\xff\xff", 4));
  put_ticket("T00000003", 3, "张三");
  auto q = open_queries();
  auto tickets = all_tickets(q);
  ASSERT_EQ(tickets.size(), 2u);
  EXPECT_EQ(tickets[0].ticket_id(), "T00000001");
  EXPECT_EQ(tickets[1].ticket_id(), "T00000003");
}

TEST_F(LogQueriesTest, DeadLettersComeInRecordedOrderWithAbsentColumnsEmpty) {
  ASSERT_TRUE(db_->exec("INSERT INTO dead_letters(id, recorded_at, adapter_id, channel, source_key, reason_code, field, detail,"
                        " location, payload) VALUES(2, 1700000000000002, 'hotline-1', 1, 'GD7', 'bad_date', '来电时间',"
                        " 'not a date', 'export.csv:17', NULL)")
                  .ok());
  ASSERT_TRUE(db_->exec("INSERT INTO dead_letters(id, recorded_at, reason_code) VALUES(1, 1700000000000001, 'not_json')").ok());
  auto q = open_queries();
  auto cursor = q.dead_letters();
  ASSERT_TRUE(cursor.ok()) << cursor.error().message();
  DeadLetter d;
  auto more = cursor->next(d);
  ASSERT_TRUE(more.ok() && more.value());
  EXPECT_EQ(d.id, 1);
  EXPECT_EQ(d.recorded_at_us, 1700000000000001);
  EXPECT_EQ(d.reason_code, "not_json");
  EXPECT_EQ(d.adapter_id, "");
  EXPECT_EQ(d.channel, 0);
  EXPECT_EQ(d.source_key, "");
  EXPECT_EQ(d.field, "");
  EXPECT_EQ(d.detail, "");
  EXPECT_EQ(d.location, "");
  EXPECT_EQ(d.payload, "");
  more = cursor->next(d);
  ASSERT_TRUE(more.ok() && more.value());
  EXPECT_EQ(d.id, 2);
  EXPECT_EQ(d.adapter_id, "hotline-1");
  EXPECT_EQ(d.channel, 1);
  EXPECT_EQ(d.source_key, "GD7");
  EXPECT_EQ(d.reason_code, "bad_date");
  EXPECT_EQ(d.field, "来电时间");
  EXPECT_EQ(d.detail, "not a date");
  EXPECT_EQ(d.location, "export.csv:17");
  more = cursor->next(d);
  ASSERT_TRUE(more.ok());
  EXPECT_FALSE(more.value());
}

TEST_F(LogQueriesTest, ADeadLettersPayloadShowsSealedUnlessOpenedAndErasedOnceItsKeyIsDestroyed) {
  const std::string row = "GD7,王女士,13800000001,路灯不亮";
  const std::string kept = sealed_payload("D-kept", row);
  const std::string gone = sealed_payload("D-gone", row);
  ASSERT_TRUE(keys_->destroy("D-gone").ok());
  auto q = open_queries();
  EXPECT_EQ(q.dead_letter_payload(kept, false), kSealedText);
  EXPECT_EQ(q.dead_letter_payload(kept, true), row);
  EXPECT_EQ(q.dead_letter_payload(gone, false), kErasedText);
  EXPECT_EQ(q.dead_letter_payload(gone, true), kErasedText);
  // A payload from before sealing is shown as stored, and only when asked.
  EXPECT_EQ(q.dead_letter_payload(row, false), kSealedText);
  EXPECT_EQ(q.dead_letter_payload(row, true), row);
  EXPECT_EQ(q.dead_letter_payload("", true), "");
}

TEST_F(LogQueriesTest, AFileWithoutTheLogsTablesOpensButItsQueriesFailWithTheDatabasesError) {
  const auto other = dir_.path() / "other.db";
  {
    auto db = sqlite::Database::open(other, sqlite::OpenMode::kReadWrite);
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE(db->exec("CREATE TABLE notes(x)").ok());
  }
  auto q = LogQueries::open(other);
  ASSERT_TRUE(q.ok()) << q.error().message();
  auto tickets = q->tickets();
  ASSERT_FALSE(tickets.ok());
  EXPECT_NE(tickets.error().message().find("tickets"), std::string::npos) << tickets.error().message();
  auto letters = q->dead_letters();
  ASSERT_FALSE(letters.ok());
  EXPECT_NE(letters.error().message().find("dead_letters"), std::string::npos) << letters.error().message();
}

TEST_F(LogQueriesTest, OpeningAMissingFileFails) {
  auto q = LogQueries::open(dir_.path() / "missing.db");
  EXPECT_FALSE(q.ok());
}

TEST_F(LogQueriesTest, TruncateWalFoldsTheWriteAheadLogIntoTheDatabase) {
  // Rows written on a connection that stays open sit in the WAL (closing the last connection would
  // fold it away by itself, which is not what is tested).
  put_ticket("T00000001", 1, "王女士");
  const auto wal = std::filesystem::path(db_file().string() + "-wal");
  ASSERT_TRUE(std::filesystem::exists(wal));
  ASSERT_GT(std::filesystem::file_size(wal), 0u);
  ASSERT_TRUE(truncate_wal(db_file()).ok());
  EXPECT_EQ(std::filesystem::file_size(wal), 0u);
  auto q = open_queries();
  EXPECT_EQ(all_tickets(q).size(), 1u);   // nothing lost in the fold
}

}  // namespace
}  // namespace gridhub::log
