// The stream's record cache: each record opened (or opened and masked) once per form, encoded as
// the Delivery frame subscribers receive — the same bytes as opening the parsed record and letting
// protobuf serialize the frame.
#include "gridhub/core/record_cache.hpp"

#include <gtest/gtest.h>

#include "../../testing/temp_dir.hpp"
#include "gridhub/common/clock.hpp"
#include "gridhub/core/pii.hpp"
#include "gridhub/core/sequencer.hpp"
#include "gridhub/log/event_log.hpp"

namespace gridhub::core {
namespace {

namespace v1 = gridhub::v1;

TEST(RecordCache, FramesAreTheOpenedOrMaskedRecordAsProtobufWouldEncodeThem) {
  gridhub::testing::TempDir dir;
  ManualClock clock(1'780'000'000'000'000);
  {
    auto log = core::open_log(dir / "gridhub.db", log::LogOptions{}, clock);
    ASSERT_TRUE(log.ok()) << log.error().message();
    std::vector<log::AppendItem> items;
    log::IntakeItem item;
    auto* ev = item.body.mutable_event();
    ev->set_channel(v1::CHANNEL_HOTLINE);
    ev->set_source_key("GD1");
    ev->set_original_payload("GD1,王女士,13800000001,路灯不亮");
    ev->mutable_fields()->set_reporter_name("王女士");
    ev->mutable_fields()->set_reporter_phone("13800000001");
    item.body.mutable_ticket()->mutable_reporter()->set_phone("13800000001");
    item.body.mutable_ticket()->set_assignee_code("G0101");
    items.emplace_back(std::move(item));
    std::vector<log::AppendOutcome> out;
    ASSERT_TRUE(log.value()->append(items, out).ok());
  }
  auto reader = log::LogReader::open(dir / "gridhub.db");
  ASSERT_TRUE(reader.ok());
  RecordCache cache(reader.value(), 8);
  std::string stored;
  ASSERT_TRUE(reader->read(1, 1, [&](std::uint64_t, std::string_view body) { stored = body; }).ok());
  auto& e = cache.get(1, stored);
  ASSERT_TRUE(e.parsed);
  ASSERT_NE(e.ticket, nullptr);
  EXPECT_EQ(e.ticket->assignee_code(), "G0101");
  EXPECT_EQ(cache.find(1), &e);
  EXPECT_EQ(cache.find(9), nullptr);

  // Entitlement and filters name the ticket fields they read; only those are parsed.
  RecordCache narrow(reader.value(), 8, {"assignee_code", "grid_code"});
  auto& n = narrow.get(1, stored);
  ASSERT_TRUE(n.parsed);
  ASSERT_NE(n.ticket, nullptr);
  EXPECT_EQ(n.ticket->assignee_code(), "G0101");
  EXPECT_FALSE(n.ticket->has_reporter()) << "not a decision field: not parsed";
  EXPECT_EQ(narrow.frame(n, true), cache.frame(e, true)) << "subscribers still get the whole record";

  for (const bool pii : {true, false}) {
    v1::LogRecord record;
    ASSERT_TRUE(record.ParseFromString(stored));
    ASSERT_TRUE(reader->unseal(record, pii ? log::PiiPresentation{} : kMasked).ok());
    v1::HubToSubscriber expected;
    expected.mutable_delivery()->set_seq(1);
    record.SerializeToString(expected.mutable_delivery()->mutable_record());
    EXPECT_EQ(cache.frame(e, pii), expected.SerializeAsString()) << (pii ? "opened" : "masked");

    v1::HubToSubscriber got;
    ASSERT_TRUE(got.ParseFromString(cache.frame(e, pii)));
    ASSERT_TRUE(record.ParseFromString(got.delivery().record()));
    const auto& fields = record.intake_accepted().event().fields();
    EXPECT_EQ(fields.reporter_phone(), pii ? "13800000001" : "138****0001");
    EXPECT_EQ(record.intake_accepted().event().original_payload().empty(), !pii) << "masked: raw bytes dropped";
  }
}

}  // namespace
}  // namespace gridhub::core
