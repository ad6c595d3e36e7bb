// ProgressLookup: the hub's side of a resident's lookup — the reference maps to the ticket (also
// after a merge), the phone digits are checked here, every miss looks the same, and guessing is
// locked for a window.
#include "gridhub/core/progress_lookup.hpp"

#include <gtest/gtest.h>

#include "../../testing/temp_dir.hpp"
#include "gridhub/common/clock.hpp"
#include "gridhub/common/public_reference.hpp"
#include "gridhub/core/normalizer.hpp"
#include "gridhub/core/sequencer.hpp"

namespace gridhub::core {
namespace {

namespace v1 = gridhub::v1;

constexpr std::int64_t kStart = 1'714'953'600'000'000;   // 2024-05-06T00:00:00Z

/// Every report after the first joins the first one's ticket, as the merger would decide.
class MergeIntoFirst final : public IntakeHook {
 public:
  void complete(log::IntakeItem& item, std::uint64_t seq, const std::string& ticket_id, std::int64_t) noexcept override {
    if (seq == 1) {
      first_ = ticket_id;
      return;
    }
    item.body.set_disposition(v1::DISPOSITION_MERGED);
    item.body.mutable_ticket()->set_incident_id(first_);
  }

 private:
  std::string first_;
};

class ProgressLookupTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto l = open_log(db_, log::LogOptions{}, clock_, &hook_);
    ASSERT_TRUE(l.ok()) << l.error().message();
    log_ = std::move(l.value());
    report("form:first", "138 0000 1234");
    report("form:second", "13900005678");
  }

  void report(const std::string& key, const std::string& phone) {
    v1::Event ev;
    ev.set_channel(v1::CHANNEL_WEBFORM);
    ev.set_adapter_id("webform");
    ev.set_source_key(key);
    ev.mutable_fields()->set_text("幸福路12号门口垃圾三天没人清运");
    ev.mutable_fields()->set_reporter_phone(phone);
    log::IntakeItem item;
    *item.body.mutable_event() = ev;
    *item.body.mutable_ticket() = ticket_from_event(ev);
    item.body.mutable_ticket()->set_status(v1::TICKET_STATUS_ASSIGNED);
    item.body.mutable_ticket()->set_assignee_code("DEPT_SANITATION");
    std::vector<log::AppendItem> items;
    items.push_back(std::move(item));
    std::vector<log::AppendOutcome> out;
    ASSERT_TRUE(log_->append(items, out).ok());
    clock_.advance(60'000'000);
  }

  void resolve(const std::string& ticket_id, const std::string& text) {
    log::ChangeItem item;
    item.ticket_id = ticket_id;
    item.apply = [=](const v1::Ticket& current, v1::LogRecord& record, std::string&) {
      auto* u = record.mutable_ticket_update();
      u->set_action(v1::UPDATE_ACTION_RESOLVE);
      u->set_text(text);
      *u->mutable_ticket() = current;
      u->mutable_ticket()->set_status(v1::TICKET_STATUS_RESOLVED);
      return log::Refusal::kNone;
    };
    std::vector<log::AppendItem> items;
    items.push_back(std::move(item));
    std::vector<log::AppendOutcome> out;
    ASSERT_TRUE(log_->append(items, out).ok());
  }

  ProgressLookup make(LookupOptions o = {}) {
    auto r = log::LogReader::open(db_);
    EXPECT_TRUE(r.ok());
    return ProgressLookup(std::move(r.value()), clock_, o);
  }

  static v1::LookupRequest ask(const std::string& reference, const std::string& digits, const std::string& who = "ip:1") {
    v1::LookupRequest q;
    q.set_reference(reference);
    q.set_phone_last4(digits);
    q.set_requester(who);
    return q;
  }

  gridhub::testing::TempDir dir_;
  std::filesystem::path db_ = dir_.path() / "gridhub.db";
  ManualClock clock_{kStart};
  MergeIntoFirst hook_;
  std::unique_ptr<SequencedLog> log_;
};

TEST_F(ProgressLookupTest, AMergedReportFindsTheTicketItJoinedWithItsOwnReportersDigits) {
  auto lookup = make();
  const std::string second = public_reference(v1::CHANNEL_WEBFORM, "form:second");
  auto r = lookup.lookup(ask(display_reference(second), "5678"));
  ASSERT_TRUE(r.found());
  EXPECT_EQ(r.progress().reference(), second);
  EXPECT_EQ(r.progress().status_text(), "已派发");
  EXPECT_EQ(r.progress().handled_by(), "DEPT_SANITATION");
  // The first reporter's digits do not open the second report.
  EXPECT_FALSE(lookup.lookup(ask(second, "1234")).found());

  resolve(log::ticket_id_for_seq(1), "垃圾已清运完毕");
  auto done = lookup.lookup(ask(public_reference(v1::CHANNEL_WEBFORM, "form:first"), "1234"));
  ASSERT_TRUE(done.found());
  EXPECT_EQ(done.progress().status(), v1::TICKET_STATUS_RESOLVED);
  EXPECT_EQ(done.progress().status_text(), "已办结");
  ASSERT_EQ(done.progress().notes_size(), 1);
  EXPECT_EQ(done.progress().notes(0).action(), "办结");
  EXPECT_EQ(done.progress().notes(0).text(), "垃圾已清运完毕");
  // The public view carries no personal field at all.
  EXPECT_EQ(done.SerializeAsString().find("1380"), std::string::npos);
}

TEST_F(ProgressLookupTest, EveryMissIsTheSameAnswerAndALockedReferenceOpensAgainAfterTheWindow) {
  LookupOptions o;
  o.max_failures_per_reference = 3;
  o.max_failures_per_requester = 100;
  o.window_s = 600;
  auto lookup = make(o);
  const std::string first = public_reference(v1::CHANNEL_WEBFORM, "form:first");
  std::string typo = first;
  typo[3] = typo[3] == '9' ? '0' : static_cast<char>(typo[3] + 1);
  const std::string unknown_body = "12345678901";
  const std::string unknown = unknown_body + damm_check_digit(unknown_body);
  const std::string a = lookup.lookup(ask(unknown, "1234")).SerializeAsString();
  const std::string b = lookup.lookup(ask(typo, "1234")).SerializeAsString();
  EXPECT_EQ(a, b);
  for (const char* wrong : {"0000", "1111", "2222"}) {
    EXPECT_EQ(lookup.lookup(ask(first, wrong)).SerializeAsString(), a);
  }
  EXPECT_EQ(lookup.lookup(ask(first, "1234")).SerializeAsString(), a) << "locked: right digits answer as a miss";
  EXPECT_EQ(lookup.counters().throttled, 1u);
  clock_.advance(601'000'000);
  EXPECT_TRUE(lookup.lookup(ask(first, "1234")).found()) << "the window ended";
}

TEST_F(ProgressLookupTest, ARequesterWithTooManyMissesIsLockedWhateverItAsks) {
  LookupOptions o;
  o.max_failures_per_reference = 100;
  o.max_failures_per_requester = 2;
  auto lookup = make(o);
  const std::string first = public_reference(v1::CHANNEL_WEBFORM, "form:first");
  EXPECT_FALSE(lookup.lookup(ask(first, "0000", "ip:guesser")).found());
  EXPECT_FALSE(lookup.lookup(ask(first, "0001", "ip:guesser")).found());
  EXPECT_FALSE(lookup.lookup(ask(first, "1234", "ip:guesser")).found());
  EXPECT_TRUE(lookup.lookup(ask(first, "1234", "ip:resident")).found());
}

TEST_F(ProgressLookupTest, GarbageInEitherFieldIsAnsweredAsAnyOtherMiss) {
  LookupOptions o;
  o.max_failures_per_reference = 100;
  o.max_failures_per_requester = 100;
  auto lookup = make(o);
  const std::string first = public_reference(v1::CHANNEL_WEBFORM, "form:first");
  const std::string miss = lookup.lookup(ask(first, "0000")).SerializeAsString();
  const std::string garbage[] = {"", "abcd efgh ijkl", std::string(100'000, '7'), std::string("\xff\xfe\x00\x31", 4),
                                 "2274-1720-187"};
  for (const auto& ref : garbage) {
    EXPECT_EQ(lookup.lookup(ask(ref, "1234")).SerializeAsString(), miss) << "reference of " << ref.size() << " bytes";
  }
  const std::string bad_digits[] = {"", "12", "123456", "abcd", std::string("\xff\x31\x32\x33", 4)};
  for (const auto& digits : bad_digits) {
    EXPECT_EQ(lookup.lookup(ask(first, digits)).SerializeAsString(), miss) << "digits of " << digits.size() << " bytes";
  }
  EXPECT_FALSE(lookup.lookup(ask(first, "0000")).found());
  EXPECT_EQ(lookup.counters().found, 0u);
}

}  // namespace
}  // namespace gridhub::core
