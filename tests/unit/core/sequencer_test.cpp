// The sequencer decides over a fake storage: no SQLite, no processes. What it hands storage is what the
// log will hold, so the tests read the decided records themselves.
#include "gridhub/core/sequencer.hpp"

#include <gtest/gtest.h>

#include <map>

#include "gridhub/common/clock.hpp"
#include "gridhub/core/normalizer.hpp"
#include "gridhub/log/pii_vault.hpp"

namespace gridhub::core {
namespace {

namespace v1 = gridhub::v1;

/// Storage in memory: keeps what it is given, answers the sequencer's reads from it, and fails the
/// next append when told to.
class FakeStorage final : public log::EventLog {
 public:
  Status append(std::span<const log::Write> writes) override {
    ++appends;
    if (fail_next) {
      fail_next = false;
      return Error(Errc::storage_failed, "injected");
    }
    for (const auto& w : writes) {
      if (const auto* r = std::get_if<log::DecidedRecord>(&w)) {
        EXPECT_EQ(r->record.seq(), head_ + 1) << "seqs continue the head";
        head_ = r->record.seq();
        records.push_back(r->record);
        if (r->record.has_intake_accepted()) {
          const auto& ev = r->record.intake_accepted().event();
          intake[{ev.channel(), ev.source_key()}] = head_;
        }
        if (!r->change_key.empty()) changes[r->change_key] = head_;
        if (const auto* t = log::record_ticket(r->record); t != nullptr && !r->record.ticket_id().empty()) {
          tickets[r->record.ticket_id()] = {*t, head_};
        }
        for (const auto& k : r->keys) keys[k.key_id] = k.key;
      } else if (const auto* d = std::get_if<log::DeadLetterWrite>(&w)) {
        dead_letters.push_back(d->letter);
        for (const auto& k : d->keys) keys[k.key_id] = k.key;
      }
    }
    return Ok{};
  }
  std::uint64_t head_seq() const override { return head_; }
  Result<std::uint64_t> find_intake(int channel, std::string_view source_key) override {
    auto it = intake.find({channel, std::string(source_key)});
    return it == intake.end() ? 0 : it->second;
  }
  Result<bool> has_dead_letter(int channel, std::string_view source_key) override {
    for (const auto& d : dead_letters) {
      if (d.channel == channel && d.source_key == source_key) return true;
    }
    return false;
  }
  Result<std::uint64_t> find_change(std::string_view key) override {
    auto it = changes.find(std::string(key));
    return it == changes.end() ? 0 : it->second;
  }
  Result<log::StoredTicket> load_ticket(const std::string& ticket_id) override {
    log::StoredTicket out;
    if (auto it = tickets.find(ticket_id); it != tickets.end()) {
      out.ticket = it->second.first;
      out.seq = it->second.second;
    }
    return out;
  }
  Result<std::optional<log::PiiKey>> load_key(std::string_view key_id) override {
    auto it = keys.find(std::string(key_id));
    if (it == keys.end()) return std::optional<log::PiiKey>{};
    return it->second;
  }

  bool fail_next = false;
  int appends = 0;
  std::vector<v1::LogRecord> records;
  std::vector<log::DeadLetterItem> dead_letters;
  std::map<std::pair<int, std::string>, std::uint64_t> intake;
  std::map<std::string, std::uint64_t> changes;
  std::map<std::string, std::pair<v1::Ticket, std::uint64_t>> tickets;
  std::map<std::string, std::optional<log::PiiKey>> keys;

 private:
  std::uint64_t head_ = 0;
};

/// Merges every report whose text starts with "same" into the ticket `incident`.
class MergeSame final : public IntakeHook {
 public:
  void complete(log::IntakeItem& item, std::uint64_t, const std::string&, std::int64_t) noexcept override {
    if (item.body.event().fields().text().starts_with("same")) {
      item.body.set_disposition(v1::DISPOSITION_MERGED);
      item.body.mutable_ticket()->set_incident_id(incident);
    }
  }
  std::string incident = "T00000001";
};

log::AppendItem intake(const std::string& key, const std::string& text = "路灯不亮") {
  v1::Event ev;
  ev.set_channel(v1::CHANNEL_HOTLINE);
  ev.set_adapter_id("hotline-1");
  ev.set_source_key(key);
  ev.mutable_fields()->set_text(text);
  ev.mutable_fields()->set_reporter_name("张三");
  log::IntakeItem item;
  *item.body.mutable_event() = ev;
  *item.body.mutable_ticket() = ticket_from_event(ev);
  return item;
}

log::AppendItem note(const std::string& ticket_id, const std::string& text, const std::string& key = {}) {
  log::ChangeItem item;
  item.ticket_id = ticket_id;
  item.idempotency_key = key;
  item.apply = [text](const v1::Ticket& current, v1::LogRecord& record, std::string&) {
    auto* u = record.mutable_ticket_update();
    *u->mutable_ticket() = current;
    u->set_action(v1::UPDATE_ACTION_NOTE);
    u->set_text(text);
    return log::Refusal::kNone;
  };
  return item;
}

class SequencerTest : public ::testing::Test {
 protected:
  std::vector<log::AppendOutcome> append(std::vector<log::AppendItem> items) {
    std::vector<log::AppendOutcome> out;
    auto s = sequencer_.append(items, out);
    EXPECT_TRUE(s.ok()) << s.error().message();
    EXPECT_EQ(out.size(), items.size());
    return out;
  }

  FakeStorage storage_;
  ManualClock clock_{1'700'000'000'000'000};
  MergeSame hook_;
  Sequencer sequencer_{storage_, clock_, &hook_};
};

TEST_F(SequencerTest, DecidesSeqTicketIdAndProvenanceAndSealsBeforeStorageSeesTheRecord) {
  auto out = append({intake("A"), intake("B")});
  EXPECT_EQ(out[0].seq, 1u);
  EXPECT_EQ(out[1].seq, 2u);
  EXPECT_EQ(out[1].ticket.ticket_id, "T00000002");
  ASSERT_EQ(storage_.records.size(), 2u);
  const auto& r = storage_.records[1];
  EXPECT_EQ(r.ticket_id(), "T00000002");
  EXPECT_EQ(r.recorded_at().unix_micros(), clock_.now_micros());
  EXPECT_EQ(r.intake_accepted().disposition(), v1::DISPOSITION_NEW_TICKET);
  EXPECT_EQ(r.intake_accepted().ticket().version(), 2u);
  EXPECT_EQ(r.intake_accepted().ticket().provenance(0).log_seq(), 2u);
  EXPECT_EQ(log::pii_value_state(r.intake_accepted().event().fields().reporter_name()), log::PiiValueState::kSealed);
  EXPECT_TRUE(storage_.keys.at("T00000002").has_value()) << "the key goes to storage with the record";
}

TEST_F(SequencerTest, ASecondReportOfOneSourceKeyIsADuplicateWithinABatchAndAcrossBatches) {
  auto out = append({intake("A"), intake("B"), intake("A", "resent")});
  EXPECT_FALSE(out[0].duplicate);
  EXPECT_TRUE(out[2].duplicate);
  EXPECT_EQ(out[2].seq, 1u);
  EXPECT_EQ(storage_.records.size(), 2u) << "a duplicate is never handed to storage";
  out = append({intake("B", "again"), intake("C")});
  EXPECT_TRUE(out[0].duplicate);
  EXPECT_EQ(out[0].seq, 2u);
  EXPECT_EQ(out[1].seq, 3u);
}

TEST_F(SequencerTest, AMergedReportJoinsTheIncidentAndAChangeInTheSameBatchSeesTheMergedState) {
  auto out = append({intake("A"), intake("B", "same lamp"), note("T00000001", "on my way")});
  ASSERT_EQ(storage_.records.size(), 3u);
  const auto& merged = storage_.records[1];
  EXPECT_EQ(merged.intake_accepted().disposition(), v1::DISPOSITION_MERGED);
  EXPECT_EQ(merged.ticket_id(), "T00000001");
  EXPECT_EQ(merged.prior_seq(), 1u);
  EXPECT_EQ(merged.intake_accepted().ticket().provenance_size(), 2);
  // The merged report is sealed under its incident's key, made earlier in the same batch.
  EXPECT_EQ(log::sealed_key_id(merged.intake_accepted().event().fields().reporter_name()), "T00000001");
  EXPECT_FALSE(storage_.keys.contains("T00000002"));
  const auto& change = storage_.records[2];
  EXPECT_EQ(change.prior_seq(), 2u) << "the change builds on the merge, not on what storage held";
  EXPECT_EQ(change.ticket_update().ticket().provenance_size(), 2);
  EXPECT_EQ(out[2].ticket.version, 3u);
}

TEST_F(SequencerTest, AChangeWithAKeySeenEarlierInTheBatchIsADuplicate) {
  append({intake("A")});
  auto out = append({note("T00000001", "x", "k1"), note("T00000001", "x", "k1")});
  EXPECT_FALSE(out[0].duplicate);
  EXPECT_TRUE(out[1].duplicate);
  EXPECT_EQ(out[1].seq, 2u);
  EXPECT_EQ(storage_.records.size(), 2u);
}

TEST_F(SequencerTest, ARefusedChangeWritesNothingAndTakesNoSeq) {
  auto out = append({intake("A"), note("T00000099", "nobody"), intake("B")});
  EXPECT_EQ(out[1].refused, log::Refusal::kNotFound);
  EXPECT_EQ(out[2].seq, 2u);
  EXPECT_EQ(storage_.records.size(), 2u);
}

TEST_F(SequencerTest, ErasureClearsTheTicketAndDestroysItsKeysWithTheRecord) {
  append({intake("A")});
  std::vector<log::AppendItem> items;
  items.emplace_back(log::ErasureItem{"T00000001", "case 1", "dpo"});
  items.emplace_back(log::ErasureItem{"T00000001", "case 1", "dpo"});
  auto out = append(std::move(items));
  EXPECT_EQ(out[0].seq, 2u);
  EXPECT_TRUE(out[1].duplicate) << "the second sees the first's key destroyed in the same batch";
  EXPECT_EQ(out[1].seq, 2u);
  ASSERT_EQ(storage_.records.size(), 2u);
  const auto& t = storage_.records[1].erasure().ticket();
  EXPECT_TRUE(t.pii_erased());
  EXPECT_EQ(t.reporter().name(), log::kErasedText);
  EXPECT_FALSE(storage_.keys.at("T00000001").has_value());
  EXPECT_EQ(storage_.changes.at("erasure/T00000001"), 2u);
}

TEST_F(SequencerTest, AnErasureOfAnUnknownTicketFailsTheBatchAndNothingCounts) {
  std::vector<log::AppendItem> items;
  items.push_back(intake("A"));
  items.emplace_back(log::ErasureItem{"T00000099", "case 1", "dpo"});
  std::vector<log::AppendOutcome> out;
  EXPECT_FALSE(sequencer_.append(items, out).ok());
  EXPECT_EQ(storage_.appends, 0) << "decided nothing storage should see";
  EXPECT_EQ(append({intake("A")})[0].seq, 1u) << "the seq and the source key are free again";
}

TEST_F(SequencerTest, AFailedAppendDropsTheOverlayAndItsSeqsAreUsedAgain) {
  append({intake("A")});
  storage_.fail_next = true;
  std::vector<log::AppendItem> items{intake("B"), intake("C", "same lamp")};
  std::vector<log::AppendOutcome> out;
  EXPECT_FALSE(sequencer_.append(items, out).ok());
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(sequencer_.head_seq(), 1u);
  out = append({intake("B"), intake("C")});
  EXPECT_FALSE(out[0].duplicate) << "B was never stored";
  EXPECT_EQ(out[0].seq, 2u);
  EXPECT_EQ(out[1].seq, 3u);
}

TEST_F(SequencerTest, ARecordWithoutPersonalValuesGetsNoKeyAndAReportWithThemLaterMakesIt) {
  auto anonymous = intake("A", "井盖缺失");
  auto& body = std::get<log::IntakeItem>(anonymous).body;
  body.mutable_event()->mutable_fields()->clear_reporter_name();
  body.mutable_ticket()->clear_reporter();
  ASSERT_FALSE(log::has_plain_pii(body));
  append({std::move(anonymous)});
  ASSERT_EQ(storage_.records.size(), 1u);
  EXPECT_TRUE(storage_.keys.empty()) << "no key row for a record with nothing to seal";
  EXPECT_EQ(storage_.records[0].intake_accepted().event().fields().text(), "井盖缺失");
  // A report of the same incident that names its reporter makes the incident's key, and is sealed.
  append({intake("B", "same lamp")});
  ASSERT_EQ(storage_.records.size(), 2u);
  EXPECT_EQ(log::sealed_key_id(storage_.records[1].intake_accepted().event().fields().reporter_name()), "T00000001");
  EXPECT_TRUE(storage_.keys.at("T00000001").has_value());
  // A record with personal values is sealed as before, under a key of its own ticket.
  append({intake("C")});
  EXPECT_EQ(log::pii_value_state(storage_.records[2].intake_accepted().ticket().reporter().name()),
            log::PiiValueState::kSealed);
  EXPECT_TRUE(storage_.keys.at("T00000003").has_value());
}

TEST_F(SequencerTest, ATicketWithoutPersonalValuesIsErasedOnceAndThenAnsweredAsErased) {
  auto anonymous = intake("A", "井盖缺失");
  auto& body = std::get<log::IntakeItem>(anonymous).body;
  body.mutable_event()->mutable_fields()->clear_reporter_name();
  body.mutable_ticket()->clear_reporter();
  append({std::move(anonymous)});
  std::vector<log::AppendItem> items;
  items.emplace_back(log::ErasureItem{"T00000001", "case 1", "dpo"});
  items.emplace_back(log::ErasureItem{"T00000001", "case 1", "dpo"});
  auto out = append(std::move(items));
  EXPECT_EQ(out[0].seq, 2u);
  EXPECT_FALSE(out[0].duplicate);
  EXPECT_TRUE(out[1].duplicate);
  EXPECT_TRUE(storage_.records[1].erasure().ticket().pii_erased());
}

TEST_F(SequencerTest, ADeadLetterPerSourceKeyIsKeptOnceAndItsPayloadSealed) {
  log::DeadLetterItem d;
  d.channel = v1::CHANNEL_HOTLINE;
  d.source_key = "R1";
  d.reason_code = "bad_date";
  d.payload = "row bytes";
  auto out = append({d, d});
  EXPECT_TRUE(out[0].dead_lettered);
  EXPECT_FALSE(out[0].duplicate);
  EXPECT_TRUE(out[1].duplicate);
  ASSERT_EQ(storage_.dead_letters.size(), 1u);
  EXPECT_EQ(log::sealed_key_id(storage_.dead_letters[0].payload), "D1/R1");
}

}  // namespace
}  // namespace gridhub::core
