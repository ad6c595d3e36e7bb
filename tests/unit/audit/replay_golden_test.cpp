// gridhub::audit::replay's exact output over a small log that holds every record kind, compared
// byte for byte with files under golden/: replay writes JSON straight from the wire format, and any
// change to how it does so must leave what an auditor reads unchanged. A golden file changes only
// with a deliberate change to the output, stated in its commit (regenerate: GRIDHUB_UPDATE_GOLDEN=1).
#include "gridhub/audit/replay.hpp"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "../../testing/temp_dir.hpp"
#include "gridhub/common/clock.hpp"
#include "gridhub/core/normalizer.hpp"
#include "gridhub/core/sequencer.hpp"
#include "gridhub/log/event_log.hpp"

namespace gridhub::audit {
namespace {

namespace v1 = gridhub::v1;

constexpr std::int64_t kMay6 = 1'714'953'600'000'000;   // 2024-05-06T00:00:00Z
constexpr std::int64_t kHour = 3'600'000'000LL;

const std::filesystem::path kGoldenDir = std::filesystem::path(GRIDHUB_SOURCE_DIR) / "tests/unit/audit/golden";

v1::StageDecision decision(const std::string& stage, const std::string& detail) {
  v1::StageDecision d;
  d.set_stage(stage);
  d.set_plugin(stage + "_test");
  d.set_plugin_version("1.0");
  d.set_rule("r-" + stage);
  d.set_detail(detail);
  return d;
}

class ReplayGoldenTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto l = core::open_log(db_, log::LogOptions{}, clock_);
    ASSERT_TRUE(l.ok()) << l.error().message();
    // Texts with what JSON must escape (quotes, backslashes, control characters), non-ASCII text,
    // personal fields (sealed by the log), decisions with and without every field.
    const char* texts[] = {"路灯不亮，已经三天了", "quote \" backslash \\ tab \t newline \n bell \x07 end", "",
                           "井盖缺失 — 危险!"};
    for (int i = 0; i < 4; ++i) {
      v1::Event ev;
      ev.set_channel(i == 3 ? v1::CHANNEL_WECHAT : v1::CHANNEL_HOTLINE);
      ev.set_source_key("WO-" + std::to_string(i + 1) + (i == 1 ? ",\"x\"" : ""));
      ev.mutable_fields()->set_text(texts[i]);
      if (i != 2) ev.mutable_fields()->set_reporter_phone("1380000000" + std::to_string(i));
      if (i == 0) ev.mutable_fields()->set_reporter_name("张三");
      log::IntakeItem item;
      *item.body.mutable_event() = ev;
      *item.body.mutable_ticket() = core::ticket_from_event(ev);
      item.body.mutable_ticket()->set_category_code(i == 0 ? "LIGHT" : "ROAD");
      item.body.mutable_ticket()->set_tier(v1::TIER_COMMUNITY);
      if (i == 0) {
        auto* point = item.body.mutable_ticket()->mutable_location()->mutable_point();
        point->set_lat(30.123456789);
        point->set_lon(-0.1);
        point->set_accuracy_m(1e-7);
      }
      if (i == 1) item.body.mutable_ticket()->add_assignee_history("G11W");
      item.body.mutable_ticket()->mutable_sla_due()->set_unix_micros(kMay6 + (i + 1) * 24 * kHour);
      if (i != 2) {
        *item.body.add_decisions() = decision("resolver", "grid G" + std::to_string(i));
        *item.body.add_decisions() = decision("classifier", i == 1 ? "p=0.93 \"LIGHT\"" : "");
      }
      std::vector<log::AppendItem> items;
      items.push_back(std::move(item));
      std::vector<log::AppendOutcome> out;
      ASSERT_TRUE(l.value()->append(items, out).ok());
      clock_.advance(kHour + 123'456);
    }
    append(l.value().get(), change("T00000001", false));
    append(l.value().get(), change("T00000002", true));
    std::vector<log::AppendItem> erase;
    erase.emplace_back(log::ErasureItem{"T00000004", "case 7/2024", "dpo \"office\""});
    append(l.value().get(), std::move(erase));
  }

  static std::vector<log::AppendItem> change(const std::string& ticket_id, bool escalate) {
    log::ChangeItem item;
    item.ticket_id = ticket_id;
    item.apply = [=](const v1::Ticket& current, v1::LogRecord& record, std::string&) {
      v1::Ticket* t = escalate ? record.mutable_escalation()->mutable_ticket() : record.mutable_ticket_update()->mutable_ticket();
      *t = current;
      if (escalate) {
        record.mutable_escalation()->set_reason("sla_breach");
        t->set_tier(v1::TIER_COUNTY);
        t->set_escalation_count(1);
      } else {
        record.mutable_ticket_update()->set_action(v1::UPDATE_ACTION_RESOLVE);
        record.mutable_ticket_update()->set_text("修好了");
        t->set_status(v1::TICKET_STATUS_RESOLVED);
        t->set_resolution("修好了");
      }
      return log::Refusal::kNone;
    };
    std::vector<log::AppendItem> items;
    items.push_back(std::move(item));
    return items;
  }

  void append(core::SequencedLog* l, std::vector<log::AppendItem> items) {
    std::vector<log::AppendOutcome> out;
    ASSERT_TRUE(l->append(items, out).ok());
    ASSERT_EQ(out.at(0).refused, log::Refusal::kNone) << out.at(0).reason;
    clock_.advance(kHour);
  }

  std::string run(const ReplayOptions& o) {
    std::FILE* f = std::tmpfile();
    auto n = replay(db_, o, f);
    EXPECT_TRUE(n.ok()) << n.error().message();
    std::rewind(f);
    std::string text;
    char buf[4096];
    std::size_t got = 0;
    while ((got = std::fread(buf, 1, sizeof buf, f)) > 0) text.append(buf, got);
    std::fclose(f);
    // The erasure names the key it destroyed: a random id, the one part that differs between runs.
    // (Plain search, not std::regex: g++ 12's sanitizer build warns inside <regex>.)
    const std::string field = "\"key_id\":\"";
    for (std::size_t at = text.find(field); at != std::string::npos; at = text.find(field, at)) {
      const std::size_t value = at + field.size();
      const std::size_t end = text.find('"', value);
      if (end == std::string::npos) break;
      text.replace(value, end - value, "<key>");
      at = value + 5;
    }
    return text;
  }

  void expect_golden(const std::string& name, const std::string& got) {
    const auto file = kGoldenDir / name;
    if (std::getenv("GRIDHUB_UPDATE_GOLDEN") != nullptr) {
      std::ofstream(file, std::ios::binary) << got;
      return;
    }
    std::ifstream in(file, std::ios::binary);
    ASSERT_TRUE(in) << file;
    std::stringstream want;
    want << in.rdbuf();
    EXPECT_EQ(got, want.str()) << "replay output differs from " << file;
  }

  gridhub::testing::TempDir dir_;
  std::filesystem::path db_ = dir_ / "gridhub.db";
  ManualClock clock_{kMay6};
};

TEST_F(ReplayGoldenTest, JsonLinesAreByteForByteTheGoldenFile) { expect_golden("replay.jsonl", run({})); }

TEST_F(ReplayGoldenTest, JsonLinesWithPersonalDataAreByteForByteTheGoldenFile) {
  ReplayOptions o;
  o.show_pii = true;
  expect_golden("replay_show_pii.jsonl", run(o));
}

TEST_F(ReplayGoldenTest, CsvIsByteForByteTheGoldenFile) {
  ReplayOptions o;
  o.format = ReplayFormat::kCsv;
  expect_golden("replay.csv", run(o));
}

}  // namespace
}  // namespace gridhub::audit
