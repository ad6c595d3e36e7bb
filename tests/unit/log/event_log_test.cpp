#include "gridhub/log/event_log.hpp"

#include <cstdint>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "../../testing/temp_dir.hpp"
#include "gridhub/common/clock.hpp"
#include "gridhub/core/normalizer.hpp"
#include "gridhub/core/sequencer.hpp"
#include "gridhub/log/chain.hpp"
#include "gridhub/log/pii_vault.hpp"
#include "gridhub/sqlite/sqlite.hpp"
#include "gridhub/v1/log.pb.h"

namespace gridhub::log {
namespace {

namespace v1 = gridhub::v1;

constexpr std::int64_t kStart = 1'700'000'000'000'000;

v1::Event make_event(const std::string& key, const std::string& text = "路灯不亮",
                     v1::Channel channel = v1::CHANNEL_HOTLINE) {
  v1::Event ev;
  ev.set_channel(channel);
  ev.set_adapter_id("hotline-1");
  ev.set_source_key(key);
  ev.set_source_name("export.csv");
  ev.mutable_fields()->set_text(text);
  ev.mutable_fields()->set_reporter_name("张三");
  return ev;
}

AppendItem intake(const v1::Event& ev) {
  IntakeItem item;
  *item.body.mutable_event() = ev;
  *item.body.mutable_ticket() = core::ticket_from_event(ev);
  return item;
}

AppendItem intake(const std::string& key, const std::string& text = "路灯不亮") { return intake(make_event(key, text)); }

AppendItem dead_letter(const std::string& key, int channel = v1::CHANNEL_HOTLINE) {
  DeadLetterItem d;
  d.adapter_id = "hotline-1";
  d.channel = channel;
  d.source_key = key;
  d.reason_code = "bad_date";
  d.field = "来电时间";
  d.detail = "not a date: '2024-13-01'";
  d.location = "export.csv:17";
  d.payload = "row bytes";
  return d;
}

/// An AppendOutcome as a comparable value.
struct Row {
  std::uint64_t seq;
  bool duplicate;
  bool dead_lettered;
  bool operator==(const Row&) const = default;
};

void PrintTo(const Row& o, std::ostream* os) {
  *os << "{seq " << o.seq << (o.duplicate ? ", duplicate" : "") << (o.dead_lettered ? ", dead_lettered" : "") << "}";
}

/// A sealed dead-letter payload opened with the log's keys ("" when it does not open).
std::string dead_letter_payload(sqlite::Database& d, const std::string& stored) {
  auto keys = PiiKeyStore::open(d.handle());
  EXPECT_TRUE(keys.ok());
  auto key = keys->load(sealed_key_id(stored));
  if (!key.ok() || !key.value()) return {};
  return open_sealed(stored, "gridhub.v1.Event.original_payload", *key.value()).value_or("");
}

class EventLogTest : public ::testing::Test {
 protected:
  void SetUp() override { open(); }

  void open() {
    log_.reset();
    auto r = core::open_log(file_, LogOptions{}, clock_);
    ASSERT_TRUE(r.ok()) << r.error().message();
    log_ = std::move(r.value());
  }

  std::vector<Row> append(std::vector<AppendItem> items) {
    std::vector<AppendOutcome> out;
    auto s = log_->append(items, out);
    EXPECT_TRUE(s.ok()) << s.error().message();
    EXPECT_EQ(out.size(), items.size());
    std::vector<Row> rows;
    for (const auto& o : out) rows.push_back({o.seq, o.duplicate, o.dead_lettered});
    return rows;
  }

  /// A separate connection, as an operator's tool would open.
  sqlite::Database db() const {
    auto r = sqlite::Database::open(file_, sqlite::OpenMode::kReadWrite);
    EXPECT_TRUE(r.ok());
    return std::move(r.value());
  }

  std::int64_t query_int(const std::string& sql) const {
    auto d = db();
    auto r = d.query_int(sql);
    EXPECT_TRUE(r.ok()) << r.error().message();
    return r.ok() ? r.value() : -1;
  }

  /// Every column of every projection row, in ticket order, as text (blobs as hex).
  std::vector<std::string> ticket_rows() const {
    auto d = db();
    auto st = d.prepare(
        "SELECT ticket_id || '|' || created_seq || '|' || last_seq || '|' || status || '|' || "
        "quote(category_code) || '|' || quote(community_code) || '|' || quote(grid_code) || '|' || quote(tier) || "
        "'|' || quote(assignee_code) || '|' || hex(body) FROM tickets ORDER BY ticket_id");
    EXPECT_TRUE(st.ok());
    std::vector<std::string> rows;
    for (;;) {
      auto row = st->step();
      EXPECT_TRUE(row.ok());
      if (!row.ok() || !row.value()) break;
      rows.emplace_back(st->column_text(0));
    }
    return rows;
  }

  v1::Ticket stored_ticket(const std::string& ticket_id) const {
    auto d = db();
    auto st = d.prepare("SELECT body FROM tickets WHERE ticket_id = ?");
    EXPECT_TRUE(st.ok());
    st->bind(1, ticket_id);
    auto row = st->step();
    EXPECT_TRUE(row.ok() && row.value()) << "no ticket " << ticket_id;
    v1::Ticket t;
    if (row.ok() && row.value()) {
      auto body = st->column_blob(0);
      EXPECT_TRUE(t.ParseFromArray(body.data(), static_cast<int>(body.size())));
    }
    return t;
  }

  gridhub::testing::TempDir dir_;
  std::filesystem::path file_ = dir_ / "var/hub/log.db";  // the folder does not exist yet
  ManualClock clock_{kStart};
  std::unique_ptr<core::SequencedLog> log_;
};

TEST_F(EventLogTest, SeqsAreDenseFromOneAndTicketIdsFollowThem) {
  EXPECT_EQ(log_->head_seq(), 0u);
  auto first = append({intake("A"), intake("B"), intake("C")});
  auto second = append({intake("D"), intake("E")});
  EXPECT_EQ(first, (std::vector<Row>{{1, false, false}, {2, false, false}, {3, false, false}}));
  EXPECT_EQ(second, (std::vector<Row>{{4, false, false}, {5, false, false}}));
  EXPECT_EQ(log_->head_seq(), 5u);

  EXPECT_EQ(ticket_id_for_seq(1), "T00000001");
  EXPECT_EQ(ticket_id_for_seq(12345678), "T12345678");
  EXPECT_EQ(query_int("SELECT count(*) FROM log"), 5);
  EXPECT_EQ(query_int("SELECT count(*) FROM tickets"), 5);
  for (std::uint64_t seq = 1; seq <= 5; ++seq) {
    const v1::Ticket t = stored_ticket(ticket_id_for_seq(seq));
    EXPECT_EQ(t.ticket_id(), ticket_id_for_seq(seq));
    EXPECT_EQ(t.version(), seq);
    EXPECT_EQ(t.created_at().unix_micros(), kStart);
    ASSERT_EQ(t.provenance_size(), 1);
    EXPECT_EQ(t.provenance(0).log_seq(), seq);
    EXPECT_EQ(t.provenance(0).source_key(), std::string(1, static_cast<char>('A' + seq - 1)));
  }
}

TEST_F(EventLogTest, ResentEventInTheSameBatchIsADuplicateWithTheOriginalSeq) {
  auto out = append({intake("A"), intake("B"), intake("A", "resent")});
  EXPECT_EQ(out, (std::vector<Row>{{1, false, false}, {2, false, false}, {1, true, false}}));
  EXPECT_EQ(log_->head_seq(), 2u);
  EXPECT_EQ(query_int("SELECT count(*) FROM log"), 2);
  EXPECT_EQ(query_int("SELECT count(*) FROM tickets"), 2);
  EXPECT_EQ(stored_ticket("T00000001").text(), "路灯不亮");
  // The next new event takes the next seq: a duplicate leaves no gap.
  EXPECT_EQ(append({intake("C")}), (std::vector<Row>{{3, false, false}}));
}

TEST_F(EventLogTest, ResentEventInALaterBatchIsADuplicateWithTheOriginalSeq) {
  append({intake("A"), intake("B")});
  auto out = append({intake("B", "changed text"), intake("C")});
  EXPECT_EQ(out, (std::vector<Row>{{2, true, false}, {3, false, false}}));
  EXPECT_EQ(log_->head_seq(), 3u);
  EXPECT_EQ(query_int("SELECT count(*) FROM log"), 3);
  EXPECT_EQ(stored_ticket("T00000002").text(), "路灯不亮");
}

TEST_F(EventLogTest, ResentEventAfterReopeningIsADuplicateWithTheOriginalSeq) {
  append({intake("A"), intake("B")});
  open();
  EXPECT_EQ(log_->head_seq(), 2u);
  auto out = append({intake("A", "again"), intake("C")});
  EXPECT_EQ(out, (std::vector<Row>{{1, true, false}, {3, false, false}}));
  EXPECT_EQ(query_int("SELECT count(*) FROM log"), 3);
  EXPECT_EQ(stored_ticket("T00000001").text(), "路灯不亮");
}

TEST_F(EventLogTest, SameSourceKeyOnAnotherChannelIsNotADuplicate) {
  auto out = append({intake(make_event("K1", "a", v1::CHANNEL_HOTLINE)),
                     intake(make_event("K1", "b", v1::CHANNEL_WECHAT))});
  EXPECT_EQ(out, (std::vector<Row>{{1, false, false}, {2, false, false}}));
  EXPECT_EQ(stored_ticket("T00000002").provenance(0).channel(), v1::CHANNEL_WECHAT);
}

TEST_F(EventLogTest, DeadLetterIsStoredWithItsReasonAndTakesNoSeq) {
  auto out = append({dead_letter("R1"), intake("A")});
  EXPECT_EQ(out, (std::vector<Row>{{0, false, true}, {1, false, false}}));
  EXPECT_EQ(log_->head_seq(), 1u);

  auto d = db();
  auto st = d.prepare(
      "SELECT adapter_id, channel, source_key, reason_code, field, detail, location, payload, recorded_at "
      "FROM dead_letters");
  ASSERT_TRUE(st.ok());
  auto row = st->step();
  ASSERT_TRUE(row.ok() && row.value());
  EXPECT_EQ(st->column_text(0), "hotline-1");
  EXPECT_EQ(st->column_int(1), v1::CHANNEL_HOTLINE);
  EXPECT_EQ(st->column_text(2), "R1");
  EXPECT_EQ(st->column_text(3), "bad_date");
  EXPECT_EQ(st->column_text(4), "来电时间");
  EXPECT_EQ(st->column_text(5), "not a date: '2024-13-01'");
  EXPECT_EQ(st->column_text(6), "export.csv:17");
  // The row as received holds the reporter's name and number: sealed at rest like an intake record's.
  EXPECT_EQ(st->column_blob(7).rfind("sealed:v1:D" + std::to_string(v1::CHANNEL_HOTLINE) + "/R1:", 0), 0u) << st->column_blob(7);
  EXPECT_EQ(dead_letter_payload(d, std::string(st->column_blob(7))), "row bytes");
  EXPECT_EQ(st->column_int(8), kStart);
  row = st->step();
  ASSERT_TRUE(row.ok());
  EXPECT_FALSE(row.value()) << "exactly one dead letter";
}

TEST_F(EventLogTest, RepeatedDeadLetterForTheSameKeyIsReportedDuplicate) {
  auto first = append({dead_letter("R1"), dead_letter("R1")});
  EXPECT_EQ(first, (std::vector<Row>{{0, false, true}, {0, true, true}}));
  open();
  auto later = append({dead_letter("R1"), dead_letter("R1", v1::CHANNEL_WEBFORM)});
  EXPECT_EQ(later, (std::vector<Row>{{0, true, true}, {0, false, true}}));
  EXPECT_EQ(query_int("SELECT count(*) FROM dead_letters"), 2);
}

TEST_F(EventLogTest, DeadLettersWithoutASourceKeyAreAllKept) {
  auto out = append({dead_letter(""), dead_letter("")});
  EXPECT_EQ(out, (std::vector<Row>{{0, false, true}, {0, false, true}}));
  EXPECT_EQ(query_int("SELECT count(*) FROM dead_letters WHERE source_key IS NULL"), 2);
}

TEST_F(EventLogTest, FailedBatchStoresNothingAndTheSeqsItTookAreReused) {
  append({intake("A")});
  {
    // Make the third item's projection write fail, after earlier items of the batch were written.
    auto d = db();
    ASSERT_TRUE(d.exec("CREATE TRIGGER fail_t4 BEFORE INSERT ON tickets WHEN NEW.ticket_id = 'T00000004' "
                       "BEGIN SELECT RAISE(ABORT, 'injected failure'); END")
                    .ok());
  }
  std::vector<AppendItem> batch{intake("B"), intake("C"), intake("D")};
  std::vector<AppendOutcome> out;
  EXPECT_FALSE(log_->append(batch, out).ok());
  EXPECT_EQ(log_->head_seq(), 1u);
  EXPECT_EQ(query_int("SELECT count(*) FROM log"), 1);
  EXPECT_EQ(query_int("SELECT count(*) FROM tickets"), 1);

  {
    auto d = db();
    ASSERT_TRUE(d.exec("DROP TRIGGER fail_t4").ok());
  }
  EXPECT_EQ(append({intake("B"), intake("C")}), (std::vector<Row>{{2, false, false}, {3, false, false}}));
}

TEST_F(EventLogTest, HeadSeqSurvivesReopen) {
  append({intake("A"), intake("B"), intake("C")});
  log_.reset();
  auto reader = LogReader::open(file_);
  ASSERT_TRUE(reader.ok()) << reader.error().message();
  auto head = reader->head_seq();
  ASSERT_TRUE(head.ok());
  EXPECT_EQ(head.value(), 3u);
  open();
  EXPECT_EQ(log_->head_seq(), 3u);
  EXPECT_EQ(append({intake("D")}), (std::vector<Row>{{4, false, false}}));
}

TEST_F(EventLogTest, ReaderReadsRangesInOrderAsTheExactStoredBytes) {
  append({intake("A"), intake("B"), intake("C")});
  auto reader = LogReader::open(file_);
  ASSERT_TRUE(reader.ok()) << reader.error().message();
  // Records appended after the reader opened are visible to it (WAL: readers beside the writer).
  append({intake("D"), intake("E")});

  std::vector<std::uint64_t> seqs;
  std::vector<std::string> bodies;
  auto n = reader->read(2, 3, [&](std::uint64_t seq, std::string_view body) {
    seqs.push_back(seq);
    bodies.emplace_back(body);
  });
  ASSERT_TRUE(n.ok()) << n.error().message();
  EXPECT_EQ(n.value(), 3u);
  EXPECT_EQ(seqs, (std::vector<std::uint64_t>{2, 3, 4}));

  auto d = db();
  auto st = d.prepare("SELECT body FROM log WHERE seq = ?");
  ASSERT_TRUE(st.ok());
  for (std::size_t i = 0; i < seqs.size(); ++i) {
    v1::LogRecord rec;
    ASSERT_TRUE(rec.ParseFromString(bodies[i])) << "seq " << seqs[i];
    EXPECT_EQ(rec.seq(), seqs[i]);
    EXPECT_EQ(rec.ticket_id(), ticket_id_for_seq(seqs[i]));
    EXPECT_EQ(rec.recorded_at().unix_micros(), kStart);
    ASSERT_TRUE(rec.has_intake_accepted());
    EXPECT_EQ(rec.intake_accepted().event().source_key(), std::string(1, static_cast<char>('A' + seqs[i] - 1)));
    EXPECT_EQ(rec.intake_accepted().ticket().ticket_id(), ticket_id_for_seq(seqs[i]));

    st->bind(1, static_cast<std::int64_t>(seqs[i]));
    auto row = st->step();
    ASSERT_TRUE(row.ok() && row.value());
    EXPECT_EQ(st->column_blob(0), bodies[i]) << "reader must hand out the stored bytes unchanged";
    st->reset();
  }

  std::vector<std::uint64_t> all;
  auto m = reader->read(1, 100, [&](std::uint64_t seq, std::string_view) { all.push_back(seq); });
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(all, (std::vector<std::uint64_t>{1, 2, 3, 4, 5}));

  auto none = reader->read(6, 10, [&](std::uint64_t, std::string_view) { ADD_FAILURE() << "past the head"; });
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none.value(), 0u);
}

TEST_F(EventLogTest, RebuildProjectionReproducesTheTicketsTableExactly) {
  append({intake("A"), intake("B"), dead_letter("R1")});
  append({intake("A", "dup"), intake("C"), intake(make_event("C", "other channel", v1::CHANNEL_WEBFORM))});
  const auto before = ticket_rows();
  ASSERT_EQ(before.size(), 4u);

  log_.reset();
  {
    auto d = db();
    ASSERT_TRUE(d.exec("DELETE FROM tickets WHERE ticket_id = 'T00000002'").ok());
    ASSERT_TRUE(d.exec("UPDATE tickets SET status = 6, grid_code = 'G9', body = x'00' "
                       "WHERE ticket_id = 'T00000003'")
                    .ok());
    ASSERT_TRUE(d.exec("INSERT INTO tickets(ticket_id, created_seq, last_seq, status, body) "
                       "VALUES('T99999999', 99, 99, 1, x'')")
                    .ok());
  }
  ASSERT_NE(ticket_rows(), before);

  auto rebuilt = rebuild_projection(file_);
  ASSERT_TRUE(rebuilt.ok()) << rebuilt.error().message();
  EXPECT_EQ(rebuilt.value(), 4u);
  EXPECT_EQ(ticket_rows(), before);
}

/// A note on `ticket_id`, as a subscriber's update is written.
AppendItem note(const std::string& ticket_id, const std::string& text) {
  ChangeItem item;
  item.ticket_id = ticket_id;
  item.apply = [text](const v1::Ticket& current, v1::LogRecord& record, std::string&) {
    auto* u = record.mutable_ticket_update();
    *u->mutable_ticket() = current;
    u->set_action(v1::UPDATE_ACTION_NOTE);
    u->set_text(text);
    return Refusal::kNone;
  };
  return item;
}

v1::LogRecord record_at(const std::filesystem::path& file, std::uint64_t seq) {
  auto reader = LogReader::open(file);
  EXPECT_TRUE(reader.ok());
  v1::LogRecord rec;
  EXPECT_TRUE(reader->read(seq, 1, [&](std::uint64_t, std::string_view body) {
                rec.ParseFromArray(body.data(), static_cast<int>(body.size()));
              }).ok());
  return rec;
}

TEST_F(EventLogTest, AChangeBuildsOnItsTicketsPreviousRecordAndNamesIt) {
  append({intake("A"), intake("B")});
  std::vector<AppendItem> items;
  items.push_back(note("T00000001", "on my way"));
  std::vector<AppendOutcome> out;
  ASSERT_TRUE(log_->append(items, out).ok());
  ASSERT_EQ(out.at(0).refused, Refusal::kNone) << out.at(0).reason;
  EXPECT_EQ(record_at(file_, 3).prior_seq(), 1u);
  items.clear();
  items.push_back(note("T00000001", "done"));
  ASSERT_TRUE(log_->append(items, out).ok());
  EXPECT_EQ(record_at(file_, 4).prior_seq(), 3u);
  EXPECT_EQ(record_at(file_, 2).prior_seq(), 0u) << "a record that creates its ticket builds on none";
}

TEST_F(EventLogTest, AChangeOnATicketsRowEditedOutsideTheHubIsRefusedAndNothingIsWritten) {
  append({intake("A"), intake("B")});
  const std::string edited_status = "UPDATE tickets SET status = 4 WHERE ticket_id = 'T00000001'";
  // A column, the body, or the row pointed at another record: each is an edit the log does not back.
  for (const std::string& sql :
       {edited_status, std::string("UPDATE tickets SET assignee_code = 'X9' WHERE ticket_id = 'T00000001'"),
        std::string("UPDATE tickets SET body = (SELECT body FROM tickets WHERE ticket_id = 'T00000002') "
                    "WHERE ticket_id = 'T00000001'"),
        std::string("UPDATE tickets SET last_seq = 2 WHERE ticket_id = 'T00000001'")}) {
    SCOPED_TRACE(sql);
    const auto rows = ticket_rows();
    ASSERT_TRUE(db().exec(sql).ok());
    std::vector<AppendItem> items;
    items.push_back(note("T00000001", "laundered?"));
    std::vector<AppendOutcome> out;
    ASSERT_TRUE(log_->append(items, out).ok());
    EXPECT_EQ(out.at(0).refused, Refusal::kInconsistent);
    EXPECT_NE(out.at(0).reason.find("disagrees with the log"), std::string::npos) << out.at(0).reason;
    EXPECT_EQ(log_->head_seq(), 2u) << "nothing chained";
    // Put the row back as the log has it.
    log_.reset();
    ASSERT_TRUE(rebuild_projection(file_).ok());
    open();
    ASSERT_EQ(ticket_rows(), rows);
  }
  // The erasure refuses as well.
  ASSERT_TRUE(db().exec(edited_status).ok());
  std::vector<AppendItem> erase;
  erase.emplace_back(ErasureItem{"T00000001", "case 1", "dpo"});
  std::vector<AppendOutcome> out;
  auto s = log_->append(erase, out);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().detail.find("changed outside the hub"), std::string::npos) << s.error().detail;
  EXPECT_EQ(log_->head_seq(), 2u);
}

TEST_F(EventLogTest, ASecondErasureWritesNothingAndNamesTheFirst) {
  append({intake("A"), intake("B")});
  std::vector<AppendItem> erase;
  erase.emplace_back(ErasureItem{"T00000001", "case 1", "dpo"});
  std::vector<AppendOutcome> out;
  ASSERT_TRUE(log_->append(erase, out).ok());
  ASSERT_EQ(out.at(0).seq, 3u);
  EXPECT_FALSE(out.at(0).duplicate);
  // Readers show "[erased]" where the ticket had personal data, not an empty reporter.
  EXPECT_EQ(stored_ticket("T00000001").reporter().name(), "[erased]");
  EXPECT_EQ(record_at(file_, 3).erasure().ticket().reporter().name(), "[erased]");
  EXPECT_EQ(record_at(file_, 3).prior_seq(), 1u);
  append({intake("C")});
  for (int i = 0; i < 2; ++i) {
    erase.clear();
    erase.emplace_back(ErasureItem{"T00000001", "case 1", "dpo"});
    ASSERT_TRUE(log_->append(erase, out).ok());
    EXPECT_TRUE(out.at(0).duplicate);
    EXPECT_EQ(out.at(0).seq, 3u) << "the erasure on record";
    EXPECT_NE(out.at(0).reason.find("already erased"), std::string::npos) << out.at(0).reason;
    EXPECT_EQ(log_->head_seq(), 4u) << "no second key-destroyed record";
    if (i == 0) open();
  }
  EXPECT_EQ(query_int("SELECT count(*) FROM log WHERE kind = 'erasure'"), 1);
}

TEST_F(EventLogTest, ErasingATicketAlsoShredsTheDeadLettersOfItsSourceRecords) {
  // Row A was rejected once (bad date), then corrected and accepted: both copies hold the reporter.
  append({dead_letter("A"), dead_letter("B")});
  append({intake("A")});
  std::vector<AppendItem> erase;
  erase.emplace_back(ErasureItem{"T00000001", "case 1", "dpo"});
  std::vector<AppendOutcome> out;
  ASSERT_TRUE(log_->append(erase, out).ok());
  auto d = db();
  EXPECT_EQ(dead_letter_payload(d, d.query_text("SELECT payload FROM dead_letters WHERE source_key = 'A'").value()), "")
      << "A's dead letter no longer opens";
  EXPECT_EQ(dead_letter_payload(d, d.query_text("SELECT payload FROM dead_letters WHERE source_key = 'B'").value()),
            "row bytes")
      << "B's is another reporter's";
}

TEST_F(EventLogTest, LogWrittenByANewerSchemaVersionIsRefusedNamingTheFile) {
  append({intake("A")});
  log_.reset();
  {
    auto d = db();
    ASSERT_TRUE(d.exec("PRAGMA user_version = 999").ok());
  }
  auto r = core::open_log(file_, LogOptions{}, clock_);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find(file_.string()), std::string::npos) << r.error().message();
  EXPECT_NE(r.error().message().find("999"), std::string::npos) << r.error().message();
}

TEST_F(EventLogTest, ReaderOfAMissingFileFailsWithoutCreatingIt) {
  const auto missing = dir_ / "elsewhere/log.db";
  auto r = LogReader::open(missing);
  EXPECT_FALSE(r.ok());
  EXPECT_FALSE(std::filesystem::exists(missing));
}

TEST_F(EventLogTest, DatabaseIsInWalModeAndPassesIntegrityCheck) {
  append({intake("A"), dead_letter("R1")});
  auto d = db();
  auto mode = d.query_text("PRAGMA journal_mode");
  ASSERT_TRUE(mode.ok());
  EXPECT_EQ(mode.value(), "wal");
  auto integrity = d.query_text("PRAGMA integrity_check");
  ASSERT_TRUE(integrity.ok());
  EXPECT_EQ(integrity.value(), "ok");
  // synchronous=FULL is a per-connection setting of the writer and cannot be observed from here.
}

}  // namespace
}  // namespace gridhub::log

namespace gridhub::log {
namespace {

// The stream decides who may see a record from its ticket alone, parsed without the rest of the
// record: it must find the same ticket record_ticket finds in the parsed record, for every kind.
TEST(RecordTicket, ParsedFromTheEncodingAloneItIsTheTicketOfTheParsedRecord) {
  namespace v1 = gridhub::v1;
  v1::Ticket t;
  t.set_ticket_id("T00000007");
  t.set_assignee_code("D_ROADS");
  t.set_community_code("C01");
  t.add_assignee_history("G0101");
  std::vector<v1::LogRecord> records(6);
  records[0].mutable_intake_accepted()->mutable_event()->set_source_key("A");
  *records[0].mutable_intake_accepted()->mutable_ticket() = t;
  *records[1].mutable_ticket_update()->mutable_ticket() = t;
  *records[2].mutable_escalation()->mutable_ticket() = t;
  *records[3].mutable_erasure()->mutable_ticket() = t;
  records[4].mutable_intake_accepted()->mutable_event()->set_source_key("chit-chat");   // no ticket
  records[5].set_seq(9);                                                                  // no body
  for (std::size_t i = 0; i < records.size(); ++i) {
    records[i].set_ticket_id("T00000007");
    const std::string stored = records[i].SerializeAsString();
    v1::Ticket parsed;
    bool has = true;
    ASSERT_TRUE(parse_record_ticket(stored, parsed, has)) << "record " << i;
    const v1::Ticket* expected = record_ticket(records[i]);
    ASSERT_EQ(has, expected != nullptr) << "record " << i;
    if (expected != nullptr) {
      EXPECT_EQ(parsed.SerializeAsString(), expected->SerializeAsString()) << "record " << i;
    }
  }
  bool has = false;
  v1::Ticket parsed;
  const std::string stored = records[1].SerializeAsString();
  EXPECT_FALSE(parse_record_ticket(stored.substr(0, stored.size() - 3), parsed, has)) << "truncated";
}

}  // namespace
}  // namespace gridhub::log

namespace gridhub::log {
namespace {

// Storage on its own, given records a sequencer decided: it stores, chains, projects and indexes them
// as they are, and refuses what does not continue its head.
class EventLogStorageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto r = open_event_log(file_, LogOptions{}, clock_);
    ASSERT_TRUE(r.ok()) << r.error().message();
    log_ = std::move(r.value());
  }

  static DecidedRecord intake_record(std::uint64_t seq, const std::string& source_key) {
    DecidedRecord w;
    w.record.set_seq(seq);
    w.record.mutable_recorded_at()->set_unix_micros(1000 + static_cast<std::int64_t>(seq));
    w.record.set_ticket_id(ticket_id_for_seq(seq));
    auto* body = w.record.mutable_intake_accepted();
    body->mutable_event()->set_channel(gridhub::v1::CHANNEL_HOTLINE);
    body->mutable_event()->set_source_key(source_key);
    body->set_disposition(gridhub::v1::DISPOSITION_NEW_TICKET);
    body->mutable_ticket()->set_ticket_id(ticket_id_for_seq(seq));
    body->mutable_ticket()->set_version(seq);
    w.keys.push_back(KeyOp{ticket_id_for_seq(seq), make_pii_key()});
    return w;
  }

  gridhub::testing::TempDir dir_;
  std::filesystem::path file_ = dir_ / "log.db";
  ManualClock clock_{1'700'000'000'000'000};
  std::unique_ptr<EventLog> log_;
};

TEST_F(EventLogStorageTest, StoresDecidedRecordsAsTheyAreChainedProjectedAndFindable) {
  std::vector<Write> batch;
  batch.emplace_back(intake_record(1, "A"));
  batch.emplace_back(intake_record(2, "B"));
  DecidedRecord change;
  change.record.set_seq(3);
  change.record.mutable_recorded_at()->set_unix_micros(1003);
  change.record.set_ticket_id("T00000001");
  change.record.set_prior_seq(1);
  auto* t = change.record.mutable_ticket_update()->mutable_ticket();
  t->set_ticket_id("T00000001");
  t->set_version(3);
  t->set_status(gridhub::v1::TICKET_STATUS_ASSIGNED);
  change.change_key = "sub/1";
  batch.emplace_back(change);
  const std::string stored_change = change.record.SerializeAsString();
  ASSERT_TRUE(log_->append(batch).ok());
  EXPECT_EQ(log_->head_seq(), 3u);

  // The record's bytes are the decided record's, chained from the genesis hash.
  auto reader = LogReader::open(file_);
  ASSERT_TRUE(reader.ok());
  std::vector<std::string> bodies;
  ASSERT_TRUE(reader->read(1, 10, [&](std::uint64_t, std::string_view b) { bodies.emplace_back(b); }).ok());
  ASSERT_EQ(bodies.size(), 3u);
  EXPECT_EQ(bodies[2], stored_change);
  auto d = sqlite::Database::open(file_, sqlite::OpenMode::kReadOnly);
  ASSERT_TRUE(d.ok());
  auto hashes = d->prepare("SELECT hash FROM log ORDER BY seq");
  ASSERT_TRUE(hashes.ok());
  ChainHasher hasher;
  ChainHash prev = kChainGenesis;
  for (std::uint64_t seq = 1; seq <= 3; ++seq) {
    auto row = hashes->step();
    ASSERT_TRUE(row.ok() && row.value());
    ChainHash h{};
    ASSERT_TRUE(hasher.next(prev, seq, 1000 + static_cast<std::int64_t>(seq), bodies[seq - 1], h));
    EXPECT_EQ(chain_hash_from_blob(hashes->column_blob(0)), h) << "record " << seq;
    prev = h;
  }

  // Projected, indexed, keys kept.
  auto current = log_->load_ticket("T00000001");
  ASSERT_TRUE(current.ok());
  EXPECT_EQ(current->seq, 3u);
  EXPECT_TRUE(current->mismatch.empty()) << current->mismatch;
  EXPECT_EQ(current->ticket.status(), gridhub::v1::TICKET_STATUS_ASSIGNED);
  EXPECT_EQ(log_->find_intake(gridhub::v1::CHANNEL_HOTLINE, "B").value(), 2u);
  EXPECT_EQ(log_->find_intake(gridhub::v1::CHANNEL_HOTLINE, "C").value(), 0u);
  EXPECT_EQ(log_->find_change("sub/1").value(), 3u);
  EXPECT_TRUE(log_->load_key("T00000002").value().has_value());
}

TEST_F(EventLogStorageTest, RefusesRecordsThatDoNotContinueItsHeadAndStoresNothingOfTheBatch) {
  std::vector<Write> gap;
  gap.emplace_back(intake_record(1, "A"));
  gap.emplace_back(intake_record(3, "C"));
  auto s = log_->append(gap);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().detail.find("expected seq 2"), std::string::npos) << s.error().detail;
  EXPECT_EQ(log_->head_seq(), 0u);
  EXPECT_EQ(log_->find_intake(gridhub::v1::CHANNEL_HOTLINE, "A").value(), 0u);
  std::vector<Write> ok;
  ok.emplace_back(intake_record(1, "A"));
  ASSERT_TRUE(log_->append(ok).ok());
  std::vector<Write> again;
  again.emplace_back(intake_record(1, "B"));
  EXPECT_FALSE(log_->append(again).ok()) << "seq 1 is taken";
}

/// A fingerprint under which every source key collides (the filter can only say "maybe").
std::uint64_t same_fingerprint(int, std::string_view) { return 7; }

TEST_F(EventLogStorageTest, FindsIntakeKeysExactlyBeforeAndAfterReopeningWhateverTheirFingerprintsCollide) {
  for (const auto fp : {&same_fingerprint, static_cast<std::uint64_t (*)(int, std::string_view)>(nullptr)}) {
    SCOPED_TRACE(fp == nullptr ? "the log's fingerprint" : "every fingerprint the same");
    log_.reset();
    std::filesystem::remove_all(dir_ / "each");
    const auto file = dir_ / "each/log.db";
    LogOptions options;
    options.intake_fingerprint = fp;
    auto opened = open_event_log(file, options, clock_);
    ASSERT_TRUE(opened.ok()) << opened.error().message();
    log_ = std::move(opened.value());
    std::vector<Write> batch;
    for (std::uint64_t seq = 1; seq <= 300; ++seq) batch.emplace_back(intake_record(seq, "K" + std::to_string(seq)));
    ASSERT_TRUE(log_->append(batch).ok());
    for (int round = 0; round < 2; ++round) {
      SCOPED_TRACE(round == 0 ? "as stored" : "after reopening");
      for (std::uint64_t seq = 1; seq <= 300; ++seq) {
        EXPECT_EQ(log_->find_intake(gridhub::v1::CHANNEL_HOTLINE, "K" + std::to_string(seq)).value(), seq);
        EXPECT_EQ(log_->find_intake(gridhub::v1::CHANNEL_WECHAT, "K" + std::to_string(seq)).value(), 0u);
        EXPECT_EQ(log_->find_intake(gridhub::v1::CHANNEL_HOTLINE, "N" + std::to_string(seq)).value(), 0u);
      }
      log_.reset();
      auto again = open_event_log(file, options, clock_);
      ASSERT_TRUE(again.ok()) << again.error().message();
      log_ = std::move(again.value());
    }
    // A key that failed to be stored (the batch rolled back) is still new.
    std::vector<Write> failed;
    failed.emplace_back(intake_record(301, "late"));
    failed.emplace_back(intake_record(302, "K1"));
    EXPECT_FALSE(log_->append(failed).ok());
    EXPECT_EQ(log_->find_intake(gridhub::v1::CHANNEL_HOTLINE, "late").value(), 0u);
  }
}

TEST_F(EventLogStorageTest, ASourceKeyStoredTwiceFailsTheBatchRatherThanBeingDropped) {
  std::vector<Write> first;
  first.emplace_back(intake_record(1, "A"));
  ASSERT_TRUE(log_->append(first).ok());
  std::vector<Write> dup;
  dup.emplace_back(intake_record(2, "B"));
  dup.emplace_back(intake_record(3, "A"));
  EXPECT_FALSE(log_->append(dup).ok());
  EXPECT_EQ(log_->head_seq(), 1u);
  EXPECT_EQ(log_->find_intake(gridhub::v1::CHANNEL_HOTLINE, "B").value(), 0u) << "the whole batch rolled back";
  EXPECT_FALSE(log_->load_key("T00000002").value().has_value()) << "and its keys";
  std::vector<Write> next;
  next.emplace_back(intake_record(2, "B"));
  EXPECT_TRUE(log_->append(next).ok()) << "the head is where it was";
}

}  // namespace
}  // namespace gridhub::log
