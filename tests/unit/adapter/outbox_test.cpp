#include "gridhub/adapter/outbox.hpp"

#include <sqlite3.h>

#include <chrono>
#include <cstdint>
#include <fstream>
#include <iterator>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "../../testing/temp_dir.hpp"
#include "gridhub/common/clock.hpp"
#include "gridhub/sqlite/sqlite.hpp"

namespace gridhub::adapter {

// Beside EnqueueResult so that gtest finds it by argument-dependent lookup; static keeps it in this file.
static void PrintTo(EnqueueResult r, std::ostream* os) {
  switch (r) {
    case EnqueueResult::kQueued: *os << "kQueued"; return;
    case EnqueueResult::kAlreadyKnown: *os << "kAlreadyKnown"; return;
    case EnqueueResult::kCorrected: *os << "kCorrected"; return;
    case EnqueueResult::kFull: *os << "kFull"; return;
  }
}

namespace {

namespace v1 = gridhub::v1;
using R = EnqueueResult;

v1::Event make_event(const std::string& key, v1::Channel channel = v1::CHANNEL_HOTLINE) {
  v1::Event ev;
  ev.set_channel(channel);
  ev.set_adapter_id("hotline-1");
  ev.set_source_key(key);
  ev.mutable_fields()->set_text("text of " + key);
  return ev;
}

std::vector<v1::Event> events(std::initializer_list<const char*> keys) {
  std::vector<v1::Event> out;
  for (const char* k : keys) out.push_back(make_event(k));
  return out;
}

Delivery acked(std::int64_t id, std::uint64_t log_seq) {
  Delivery d{};
  d.id = id;
  d.log_seq = log_seq;
  return d;
}

Delivery refused(std::int64_t id) {
  Delivery d{};
  d.id = id;
  d.refused_reason = "event.fields.text: empty";
  return d;
}

class OutboxTest : public ::testing::Test {
 protected:
  void SetUp() override { open(); }

  void open(std::size_t max_pending = 100) {
    outbox_.reset();
    auto r = Outbox::open(file_, max_pending, clock_);
    ASSERT_TRUE(r.ok()) << r.error().message();
    outbox_.emplace(std::move(r.value()));
  }

  std::vector<R> enqueue(const std::vector<v1::Event>& evs) {
    auto r = outbox_->enqueue(evs);
    EXPECT_TRUE(r.ok()) << r.error().message();
    return r.ok() ? r.value() : std::vector<R>{};
  }

  std::vector<OutboxEntry> pending(std::int64_t after_id = 0, std::size_t limit = 1000) {
    auto r = outbox_->pending(after_id, limit);
    EXPECT_TRUE(r.ok()) << r.error().message();
    return r.ok() ? r.value() : std::vector<OutboxEntry>{};
  }

  /// The source keys of pending entries, in the order pending() gives them.
  std::vector<std::string> pending_keys() {
    std::vector<std::string> keys;
    for (const auto& e : pending()) {
      v1::Event ev;
      EXPECT_TRUE(ev.ParseFromString(e.event_bytes));
      keys.push_back(ev.source_key());
    }
    return keys;
  }

  std::size_t pending_count() {
    auto r = outbox_->pending_count();
    EXPECT_TRUE(r.ok());
    return r.ok() ? r.value() : 0;
  }

  void complete(const std::vector<Delivery>& ds) {
    auto s = outbox_->complete(ds);
    ASSERT_TRUE(s.ok()) << s.error().message();
  }

  gridhub::testing::TempDir dir_;
  std::filesystem::path file_ = dir_ / "state/outbox.db";
  ManualClock clock_{1'700'000'000'000'000};
  std::optional<Outbox> outbox_;
};

TEST_F(OutboxTest, EnqueueQueuesNewEventsAndReportsKnownOnes) {
  EXPECT_EQ(enqueue(events({"A", "B"})), (std::vector<R>{R::kQueued, R::kQueued}));
  EXPECT_EQ(enqueue(events({"A", "C"})), (std::vector<R>{R::kAlreadyKnown, R::kQueued}));
  EXPECT_EQ(enqueue(events({"D", "D"})), (std::vector<R>{R::kQueued, R::kAlreadyKnown}));
  EXPECT_EQ(pending_keys(), (std::vector<std::string>{"A", "B", "C", "D"}));
  EXPECT_EQ(pending_count(), 4u);
}

TEST_F(OutboxTest, SameSourceKeyOnAnotherChannelIsQueued) {
  EXPECT_EQ(enqueue({make_event("K", v1::CHANNEL_HOTLINE), make_event("K", v1::CHANNEL_WEBFORM)}),
            (std::vector<R>{R::kQueued, R::kQueued}));
  EXPECT_EQ(pending_count(), 2u);
}

TEST_F(OutboxTest, KnownEventsStayKnownAfterReopenAndAfterDelivery) {
  enqueue(events({"A", "B"}));
  open();
  EXPECT_EQ(enqueue(events({"A"})), (std::vector<R>{R::kAlreadyKnown}));

  const auto entries = pending();
  ASSERT_EQ(entries.size(), 2u);
  complete({acked(entries[0].id, 1), refused(entries[1].id)});
  // Re-importing the same file adds nothing, whatever became of the first copy.
  EXPECT_EQ(enqueue(events({"A", "B"})), (std::vector<R>{R::kAlreadyKnown, R::kAlreadyKnown}));
  EXPECT_TRUE(pending().empty());
}

v1::Event rejected_event(const std::string& key) {
  v1::Event ev = make_event(key);
  ev.mutable_rejection()->set_reason_code("bad_date");
  ev.mutable_rejection()->set_location("export.csv:3");
  return ev;
}

Delivery dead_lettered(std::int64_t id) {
  Delivery d{};
  d.id = id;
  d.dead_lettered = true;
  return d;
}

// Issue #11, item 1: a record the hub dead-lettered made no ticket; its corrected version goes out.
TEST_F(OutboxTest, CorrectedVersionOfADeadLetteredRecordIsQueuedOnce) {
  ASSERT_EQ(enqueue({rejected_event("A")}), (std::vector<R>{R::kQueued}));
  const auto first = pending();
  ASSERT_EQ(first.size(), 1u);
  complete({dead_lettered(first[0].id)});
  EXPECT_EQ(pending_count(), 0u);
  // The same broken row again adds nothing; the fixed one takes the slot.
  EXPECT_EQ(enqueue({rejected_event("A")}), (std::vector<R>{R::kAlreadyKnown}));
  EXPECT_EQ(enqueue({make_event("A")}), (std::vector<R>{R::kCorrected}));
  const auto second = pending();
  ASSERT_EQ(second.size(), 1u);
  EXPECT_GT(second[0].id, first[0].id);
  v1::Event ev;
  ASSERT_TRUE(ev.ParseFromString(second[0].event_bytes));
  EXPECT_FALSE(ev.has_rejection());
  EXPECT_EQ(pending_count(), 1u);
  // Once it is acknowledged as a ticket, every later version is already known.
  EXPECT_EQ(enqueue({make_event("A")}), (std::vector<R>{R::kAlreadyKnown}));
  complete({acked(second[0].id, 7)});
  auto changed = make_event("A");
  changed.mutable_fields()->set_text("edited");
  EXPECT_EQ(enqueue({changed, rejected_event("A")}), (std::vector<R>{R::kAlreadyKnown, R::kAlreadyKnown}));
  EXPECT_TRUE(pending().empty());
}

TEST_F(OutboxTest, PendingRejectionIsReplacedAndALateAnswerForItIsIgnored) {
  enqueue({rejected_event("A")});
  const auto old = pending();
  ASSERT_EQ(old.size(), 1u);
  EXPECT_EQ(enqueue({make_event("A")}), (std::vector<R>{R::kCorrected}));
  EXPECT_EQ(pending_count(), 1u);
  complete({dead_lettered(old[0].id)});   // the hub's answer to the rejected version, sent before
  const auto now = pending();
  ASSERT_EQ(now.size(), 1u);
  EXPECT_NE(now[0].id, old[0].id);
  EXPECT_EQ(pending_count(), 1u);
}

TEST_F(OutboxTest, RefusedEventIsReplacedOnlyByADifferentVersion) {
  enqueue(events({"A"}));
  complete({refused(pending()[0].id)});
  EXPECT_EQ(enqueue(events({"A"})), (std::vector<R>{R::kAlreadyKnown}));
  auto fixed = make_event("A");
  fixed.mutable_fields()->set_text("fixed text");
  EXPECT_EQ(enqueue({fixed}), (std::vector<R>{R::kCorrected}));
  EXPECT_EQ(pending_keys(), (std::vector<std::string>{"A"}));
}

TEST_F(OutboxTest, CorrectionNeedsRoomLikeANewEvent) {
  open(1);
  enqueue({rejected_event("A")});
  complete({dead_lettered(pending()[0].id)});
  enqueue(events({"B"}));   // the one pending slot
  EXPECT_EQ(enqueue({make_event("A")}), (std::vector<R>{R::kFull}));
}

TEST_F(OutboxTest, PendingPagesInIdOrder) {
  enqueue(events({"A", "B", "C"}));
  enqueue(events({"D", "E"}));

  std::vector<std::string> keys;
  std::vector<std::size_t> page_sizes;
  std::int64_t after = 0;
  for (;;) {
    const auto page = pending(after, 2);
    if (page.empty()) break;
    page_sizes.push_back(page.size());
    for (const auto& e : page) {
      EXPECT_GT(e.id, after) << "ids must increase";
      after = e.id;
      v1::Event ev;
      ASSERT_TRUE(ev.ParseFromString(e.event_bytes));
      EXPECT_EQ(ev.fields().text(), "text of " + ev.source_key()) << "the event is stored whole";
      keys.push_back(ev.source_key());
    }
  }
  EXPECT_EQ(keys, (std::vector<std::string>{"A", "B", "C", "D", "E"}));
  EXPECT_EQ(page_sizes, (std::vector<std::size_t>{2, 2, 1}));
}

TEST_F(OutboxTest, CompletedAndRefusedEntriesLeavePending) {
  enqueue(events({"A", "B", "C", "D"}));
  const auto entries = pending();
  ASSERT_EQ(entries.size(), 4u);

  Delivery dup = acked(entries[2].id, 7);
  dup.duplicate = true;
  complete({acked(entries[0].id, 5), refused(entries[1].id), dup});
  EXPECT_EQ(pending_keys(), (std::vector<std::string>{"D"}));
  EXPECT_EQ(pending_count(), 1u);

  // A second answer for an entry already completed changes nothing (e.g. a re-sent ack).
  complete({acked(entries[0].id, 5), refused(entries[2].id)});
  EXPECT_EQ(pending_keys(), (std::vector<std::string>{"D"}));
  EXPECT_EQ(pending_count(), 1u);

  open();
  EXPECT_EQ(pending_keys(), (std::vector<std::string>{"D"}));
  EXPECT_EQ(pending_count(), 1u);
}

TEST_F(OutboxTest, BeyondMaxPendingEnqueueAnswersFullUntilRoomIsFreed) {
  open(2);
  EXPECT_EQ(enqueue(events({"A", "B", "C"})), (std::vector<R>{R::kQueued, R::kQueued, R::kFull}));
  EXPECT_EQ(enqueue(events({"D"})), (std::vector<R>{R::kFull}));
  EXPECT_EQ(pending_keys(), (std::vector<std::string>{"A", "B"}));

  const auto entries = pending();
  ASSERT_EQ(entries.size(), 2u);
  complete({acked(entries[0].id, 1)});
  // C was not taken while full, so it is new now, not "already known".
  EXPECT_EQ(enqueue(events({"C", "D"})), (std::vector<R>{R::kQueued, R::kFull}));
  complete({refused(entries[1].id)});
  EXPECT_EQ(enqueue(events({"D"})), (std::vector<R>{R::kQueued}));
  EXPECT_EQ(pending_keys(), (std::vector<std::string>{"C", "D"}));
}

TEST_F(OutboxTest, MaxPendingCountsEntriesLeftPendingBeforeReopen) {
  open(3);
  enqueue(events({"A", "B"}));
  open(3);
  EXPECT_EQ(enqueue(events({"C", "D"})), (std::vector<R>{R::kQueued, R::kFull}));
}

TEST_F(OutboxTest, PendingEntriesSurviveReopenWithTheirBytes) {
  enqueue(events({"A", "B", "C"}));
  const auto before = pending();
  ASSERT_EQ(before.size(), 3u);
  complete({acked(before[1].id, 1)});
  outbox_.reset();

  open();
  const auto after = pending();
  ASSERT_EQ(after.size(), 2u);
  EXPECT_EQ(after[0].id, before[0].id);
  EXPECT_EQ(after[0].event_bytes, before[0].event_bytes);
  EXPECT_EQ(after[1].id, before[2].id);
  EXPECT_EQ(after[1].event_bytes, before[2].event_bytes);
  EXPECT_EQ(pending_count(), 2u);
}

TEST_F(OutboxTest, OutboxFileIsInWalModeAndIntact) {
  enqueue(events({"A"}));
  auto db = sqlite::Database::open(file_, sqlite::OpenMode::kReadOnly);
  ASSERT_TRUE(db.ok()) << db.error().message();
  auto mode = db->query_text("PRAGMA journal_mode");
  ASSERT_TRUE(mode.ok());
  EXPECT_EQ(mode.value(), "wal");
  auto integrity = db->query_text("PRAGMA integrity_check");
  ASSERT_TRUE(integrity.ok());
  EXPECT_EQ(integrity.value(), "ok");
}

Delivery acked_at(std::int64_t id, std::uint64_t log_seq, const std::string& log_id, const std::string& timeline) {
  Delivery d = acked(id, log_seq);
  d.log_id = log_id;
  d.timeline = timeline;
  return d;
}

v1::HelloReply hello(const std::string& log_id, std::uint64_t head,
                     std::initializer_list<std::pair<const char*, std::uint64_t>> timelines) {
  v1::HelloReply h;
  h.set_log_id(log_id);
  h.set_head_seq(head);
  for (const auto& [id, first] : timelines) {
    auto* t = h.add_timelines();
    t->set_id(id);
    t->set_first_seq(first);
  }
  return h;
}

std::size_t requeue(Outbox& o, const v1::HelloReply& h) {
  auto r = o.requeue_lost(h);
  EXPECT_TRUE(r.ok()) << r.error().message();
  return r.ok() ? r.value() : 0;
}

TEST_F(OutboxTest, RestoreHandshakeRequeuesExactlyWhatTheLogNoLongerHolds) {
  enqueue(events({"A", "B", "C", "D", "E", "F", "G"}));
  const auto e = pending();
  ASSERT_EQ(e.size(), 7u);
  complete({acked_at(e[0].id, 5, "L", "t1"),     // kept: below the head
            acked_at(e[1].id, 9, "L", "t1"),     // the head was 8 in t1: lost
            acked_at(e[2].id, 3, "L", "t0"),     // t0 below t1's start: kept
            acked_at(e[3].id, 4, "L", "t0"),     // t0 at t1's start (4): a seq t1 wrote again: lost
            acked_at(e[4].id, 2, "L", "tX"),     // a timeline not in the line (lost to a later restore)
            acked_at(e[5].id, 99, "OTHER", "t9"),   // another log altogether: none of its business
            acked(e[6].id, 99)});                   // acked by a hub older than the handshake
  ASSERT_EQ(pending_count(), 0u);
  EXPECT_EQ(requeue(*outbox_, hello("L", 8, {{"t0", 1}, {"t1", 4}})), 3u);
  EXPECT_EQ(pending_keys(), (std::vector<std::string>{"B", "D", "E"}));
  EXPECT_EQ(pending_count(), 3u);
  // Sent again and acknowledged in the current timeline: nothing more to do.
  const auto again = pending();
  complete({acked_at(again[0].id, 9, "L", "t1"), acked_at(again[1].id, 10, "L", "t1"), acked_at(again[2].id, 11, "L", "t1")});
  EXPECT_EQ(requeue(*outbox_, hello("L", 11, {{"t0", 1}, {"t1", 4}})), 0u);
  EXPECT_EQ(pending_count(), 0u);
}

TEST_F(OutboxTest, AHubThatKnowsNoLogRequeuesNothing) {
  enqueue(events({"A"}));
  complete({acked_at(pending().at(0).id, 7, "L", "t0")});
  EXPECT_EQ(requeue(*outbox_, hello("", 0, {})), 0u);
  EXPECT_EQ(pending_count(), 0u);
}

TEST_F(OutboxTest, AnsweredEntriesArePurgedAfterTheRetentionAndPendingOnesNever) {
  enqueue(events({"OLD", "REFUSED", "WAITING"}));
  const auto e = pending();
  complete({acked_at(e[0].id, 1, "L", "t0"), refused(e[1].id)});
  clock_.advance(std::int64_t{8} * 24 * 3600 * 1'000'000);
  enqueue(events({"NEW"}));
  complete({acked_at(pending().at(1).id, 2, "L", "t0")});
  auto purged = outbox_->purge_completed(std::chrono::hours(24 * 7));
  ASSERT_TRUE(purged.ok()) << purged.error().message();
  EXPECT_EQ(purged.value(), 2u);
  EXPECT_EQ(pending_keys(), (std::vector<std::string>{"WAITING"}));
  outbox_.reset();
  // Gone from the file, personal data with them (secure_delete overwrites the freed bytes).
  sqlite3* h = nullptr;
  ASSERT_EQ(sqlite3_open_v2(file_.c_str(), &h, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(h, "SELECT group_concat(source_key, ',') FROM (SELECT source_key FROM outbox ORDER BY id)", -1, &st, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(sqlite3_column_text(st, 0))), "WAITING,NEW");
  sqlite3_finalize(st);
  sqlite3_close(h);
  std::ifstream in(file_, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_FALSE(bytes.empty());
  EXPECT_EQ(bytes.find("text of OLD"), std::string::npos);
  EXPECT_EQ(bytes.find("text of REFUSED"), std::string::npos);
  // A purged record imported again is new to the outbox (the hub will answer it as a duplicate).
  open();
  EXPECT_EQ(enqueue(events({"OLD", "NEW"})), (std::vector<R>{R::kQueued, R::kAlreadyKnown}));
}

}  // namespace
}  // namespace gridhub::adapter
