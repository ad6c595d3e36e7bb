// gridhub::dryrun::labels_from_log: what happened to the tickets in a log becomes training labels.
#include "gridhub/dryrun/log_labels.hpp"

#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "../../testing/temp_dir.hpp"
#include "gridhub/common/clock.hpp"
#include "gridhub/core/normalizer.hpp"
#include "gridhub/core/sequencer.hpp"
#include "gridhub/dryrun/train.hpp"
#include "gridhub/log/event_log.hpp"
#include "gridhub/plugins/classifier_ngram.hpp"

namespace gridhub::dryrun {
namespace {

namespace v1 = gridhub::v1;

const std::string kWugong = std::string(GRIDHUB_SOURCE_DIR) + "/examples/wugong";
constexpr std::int64_t kMay6 = 1'714'953'600'000'000;
constexpr std::int64_t kHour = 3'600'000'000;

// Merges the reports it is told to into their incident, as the pipeline's merger would.
class ScriptedMerges final : public core::IntakeHook {
 public:
  std::map<std::string, std::string> into;   // source key -> incident ticket id
  void complete(log::IntakeItem& item, std::uint64_t, const std::string&, std::int64_t) noexcept override {
    auto it = into.find(item.body.event().source_key());
    if (it == into.end()) return;
    item.body.set_disposition(v1::DISPOSITION_MERGED);
    item.body.mutable_ticket()->set_incident_id(it->second);
  }
};

// A log written as lifecycle.cpp writes it (hand-built, so each ticket's story is known exactly).
class LogLabelsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto l = core::open_log(db_, log::LogOptions{}, clock_, &merges_);
    ASSERT_TRUE(l.ok()) << l.error().message();
    log_ = std::move(l.value());
    auto table = categories::load_categories(kWugong + "/world/categories.csv");
    ASSERT_TRUE(table.ok()) << table.error().message();
    table_ = std::move(table).value();
  }

  std::string intake(const char* key, const char* text, const char* category, const char* assignee,
                     std::vector<std::string> suggestions = {}, const std::string& merge_into = {}) {
    v1::Event ev;
    ev.set_channel(v1::CHANNEL_HOTLINE);
    ev.set_adapter_id("t");
    ev.set_source_key(key);
    ev.mutable_fields()->set_text(text);
    log::IntakeItem item;
    *item.body.mutable_event() = ev;
    auto& t = *item.body.mutable_ticket() = core::ticket_from_event(ev);
    t.set_category_code(category);
    t.set_community_code("610431001004");
    t.set_tier(v1::TIER_COUNTY);
    t.set_assignee_code(assignee);
    for (const auto& s : suggestions) t.add_suggestions()->set_category_code(s);
    if (!merge_into.empty()) merges_.into[key] = merge_into;
    clock_.advance(kHour);
    return append(std::move(item));
  }

  void update(const std::string& id, v1::UpdateAction action, const std::string& suggested = {}, const std::string& to = {}) {
    log::ChangeItem c;
    c.ticket_id = id;
    c.apply = [=](const v1::Ticket& cur, v1::LogRecord& rec, std::string&) {
      auto* u = rec.mutable_ticket_update();
      u->set_action(action);
      u->set_suggested_assignee(suggested);
      auto& t = *u->mutable_ticket() = cur;
      if (!to.empty()) t.set_assignee_code(to);
      return log::Refusal::kNone;
    };
    clock_.advance(kHour);
    append(std::move(c));
  }

  template <class Item>
  std::string append(Item item) {
    std::vector<log::AppendItem> items;
    items.push_back(std::move(item));
    std::vector<log::AppendOutcome> out;
    auto st = log_->append(items, out);
    EXPECT_TRUE(st.ok()) << st.error().message();
    return out.empty() ? std::string{} : out[0].ticket.ticket_id;
  }

  gridhub::testing::TempDir dir_;
  std::filesystem::path db_ = dir_ / "gridhub.db";
  ManualClock clock_{kMay6};
  ScriptedMerges merges_;
  std::unique_ptr<core::SequencedLog> log_;
  categories::CategoryTable table_;
};

TEST_F(LogLabelsTest, ReturnsNamingADeskAndResolutionsBecomeLabelsOfEveryReportOfTheTicket) {
  // Read as a power cut; the power company returns it to the water bureau (one category: 1801).
  const auto water = intake("A", "楼里一早就没水了", "1802", "CTY_GDGS");
  intake("A2", "三号楼也停水了", "1802", "CTY_GDGS", {}, water);   // the same incident, merged
  update(water, v1::UPDATE_ACTION_RETURN, "CTY_SWJ");
  // Resolved where it was sent, never returned: the category stands.
  const auto rubbish = intake("B", "门口垃圾没人清", "0102", "610431001004002");
  update(rubbish, v1::UPDATE_ACTION_RESOLVE);
  // Returned to the housing bureau (0301, 0402, 1001): its categories include the classifier's
  // second suggestion, 0301.
  const auto noise = intake("C", "工地半夜还在打桩", "1502", "CTY_GAJ", {"1502", "0301", "1101"});
  update(noise, v1::UPDATE_ACTION_RETURN, "CTY_ZJJ");
  // Returned to the city management bureau, none of whose six categories was ranked: ambiguous.
  const auto vague = intake("D", "这事到底归谁管", "1601", "CTY_SFJ", {"1601", "1602", "1201"});
  update(vague, v1::UPDATE_ACTION_RETURN, "CTY_CGJ");
  // Returned without a suggestion, then resolved by the civil affairs bureau: the desk that did the
  // work names the category among its own (1401, 1402) the classifier ranked.
  const auto relief = intake("E", "低保申请一直没批", "1201", "CTY_RSJ", {"1201", "1401", "1602"});
  update(relief, v1::UPDATE_ACTION_RETURN);
  update(relief, v1::UPDATE_ACTION_RESOLVE, {}, "CTY_MZJ");
  // Open: nothing known yet.
  intake("F", "路灯不亮", "0601", "610431001004002");

  auto r = labels_from_log(db_, table_);
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(r->intake, 7u);
  EXPECT_EQ(r->tickets, 6u);
  EXPECT_EQ(r->confirmed, 1u);
  EXPECT_EQ(r->corrected, 3u);
  EXPECT_EQ(r->ambiguous, 1u);
  std::vector<std::string> got;
  for (const auto& l : r->labels) got.push_back(l.event.source_key() + "=" + l.category + (l.corrected ? "*" : ""));
  EXPECT_EQ(got, (std::vector<std::string>{"A=1801*", "A2=1801*", "B=0102", "C=0301*", "E=1401*"}));
}

TEST_F(LogLabelsTest, ANonDepartmentSuggestionOrAReturnToTheSameCategorysDeskCorrectsNothing) {
  // A grid code says nothing of the category; the county desk of the ticket's own category keeps it.
  const auto a = intake("A", "楼道里堆满杂物", "0102", "610431001004002");
  update(a, v1::UPDATE_ACTION_RETURN, "610431001004");
  const auto b = intake("B", "小区门口垃圾堆成山", "0102", "610431001004002");
  update(b, v1::UPDATE_ACTION_RETURN, "CTY_CGJ");
  update(b, v1::UPDATE_ACTION_RESOLVE, {}, "CTY_CGJ");
  auto r = labels_from_log(db_, table_);
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(r->corrected, 0u);
  EXPECT_EQ(r->confirmed, 1u);
  ASSERT_EQ(r->labels.size(), 1u);
  EXPECT_EQ(r->labels[0].event.source_key(), "B");
  EXPECT_EQ(r->labels[0].category, "0102");
}

TEST_F(LogLabelsTest, TrainingFromTheLogAloneLearnsTheCorrectedCategory) {
  // A county word no description or lexicon knows, read wrongly and corrected three times.
  for (const char* key : {"A", "B", "C"}) {
    const auto t = intake(key, "咕噜咕噜岗又出问题了", "1802", "CTY_GDGS");
    update(t, v1::UPDATE_ACTION_RETURN, "CTY_SWJ");
  }
  auto r = labels_from_log(db_, table_);
  ASSERT_TRUE(r.ok()) << r.error().message();
  ASSERT_EQ(r->labels.size(), 3u);
  const auto model_file = dir_ / "candidate.ngram";
  auto rep = train_classifier({}, {}, kWugong + "/world/categories.csv", model_file, 1, {}, r->labels);
  ASSERT_TRUE(rep.ok()) << rep.error().message();
  EXPECT_EQ(rep->log_examples, 3u);
  auto model = classifier_ngram::Model::load(model_file);
  ASSERT_TRUE(model.ok()) << model.error().message();
  plugin::Record rec;
  rec.text = "咕噜咕噜岗又出问题了";
  rec.channel = "hotline";
  EXPECT_EQ(model->predict(rec).category, "1801") << model->predict(rec).why;
}

TEST_F(LogLabelsTest, AMissingLogIsAnErrorNamingTheFile) {
  auto r = labels_from_log(dir_ / "nope.db", table_);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("nope.db"), std::string::npos);
}

}  // namespace
}  // namespace gridhub::dryrun
