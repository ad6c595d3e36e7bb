// gridhub::audit::replay and its time parsing: what an auditor's export looks like.
#include "gridhub/audit/replay.hpp"

#include <cstdio>
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

TEST(ReplayTime, ParsesRfc3339AndDates) {
  EXPECT_EQ(parse_time("2024-05-06").value(), kMay6);
  EXPECT_EQ(parse_time("2024-05-06T00:00:00Z").value(), kMay6);
  EXPECT_EQ(parse_time("2024-05-06T08:30:00+08:00").value(), kMay6 + 30 * 60'000'000LL);
  EXPECT_EQ(parse_time("2024-05-06T00:00:00.25Z").value(), kMay6 + 250'000);
  for (const char* bad : {"2024-5-6", "2024-02-30", "2024-05-06T25:00:00Z", "2024-05-06T00:00:00", "yesterday", ""}) {
    EXPECT_FALSE(parse_time(bad).ok()) << bad;
  }
  EXPECT_EQ(format_time(kMay6 + 30 * 60'000'000LL + 7), "2024-05-06T00:30:00.000007Z");
  EXPECT_EQ(format_time(-1), "1969-12-31T23:59:59.999999Z");
}

class ReplayTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto l = core::open_log(db_, log::LogOptions{}, clock_);
    ASSERT_TRUE(l.ok()) << l.error().message();
    for (int i = 1; i <= 5; ++i) {
      v1::Event ev;
      ev.set_channel(v1::CHANNEL_HOTLINE);
      ev.set_source_key("WO,\"" + std::to_string(i));
      ev.mutable_fields()->set_text("路灯不亮");
      ev.mutable_fields()->set_reporter_phone("13800000001");
      log::IntakeItem item;
      *item.body.mutable_event() = ev;
      *item.body.mutable_ticket() = core::ticket_from_event(ev);
      std::vector<log::AppendItem> items;
      items.push_back(std::move(item));
      std::vector<log::AppendOutcome> out;
      ASSERT_TRUE(l.value()->append(items, out).ok());
      clock_.advance(86'400'000'000LL);   // one record a day
    }
  }

  std::vector<std::string> run(const ReplayOptions& o) {
    std::FILE* f = std::tmpfile();
    auto n = replay(db_, o, f);
    EXPECT_TRUE(n.ok()) << n.error().message();
    std::rewind(f);
    std::vector<std::string> lines;
    char buf[8192];
    while (std::fgets(buf, sizeof buf, f) != nullptr) lines.emplace_back(buf);
    std::fclose(f);
    return lines;
  }

  gridhub::testing::TempDir dir_;
  std::filesystem::path db_ = dir_ / "gridhub.db";
  ManualClock clock_{kMay6};
};

TEST_F(ReplayTest, JsonLinesOnePerRecordWithSealedPiiLeftSealed) {
  auto lines = run({});
  ASSERT_EQ(lines.size(), 5u);
  EXPECT_EQ(lines[0].rfind("{\"seq\":1,\"recorded_at\":\"2024-05-06T00:00:00.000000Z\",\"kind\":\"intake_accepted\","
                           "\"ticket_id\":\"T00000001\",\"disposition\":\"DISPOSITION_NEW_TICKET\",\"channel\":\"CHANNEL_HOTLINE\","
                           "\"source_key\":\"WO,\\\"1\",\"ticket\":{",
                           0),
            0u)
      << lines[0];
  EXPECT_EQ(lines[0].find("13800000001"), std::string::npos) << lines[0];
  // Not opened without --show-pii (docs/audit.md, "gridhubctl replay"): not even the masked digits.
  EXPECT_EQ(lines[0].find("****0001"), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("\"phone\":\"[sealed]\""), std::string::npos) << lines[0];
  ReplayOptions pii;
  pii.show_pii = true;
  EXPECT_NE(run(pii)[0].find("13800000001"), std::string::npos);
}

TEST_F(ReplayTest, CsvHasAHeaderAndFiltersBySeqAndTime) {
  ReplayOptions o;
  o.format = ReplayFormat::kCsv;
  o.from_seq = 2;
  o.until_micros = parse_time("2024-05-10").value();
  auto lines = run(o);
  ASSERT_EQ(lines.size(), 4u);   // header, seqs 2..4 (5 is on 05-10)
  EXPECT_EQ(lines[0], "seq,recorded_at,kind,ticket_id,disposition,channel,source_key\n");
  EXPECT_EQ(lines[1], "2,2024-05-07T00:00:00.000000Z,intake_accepted,T00000002,DISPOSITION_NEW_TICKET,CHANNEL_HOTLINE,\"WO,\"\"2\"\n");
  o.since_micros = parse_time("2024-05-09T00:00:00Z").value();
  o.until_micros.reset();
  lines = run(o);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[1].substr(0, 2), "4,");
}

}  // namespace
}  // namespace gridhub::audit
