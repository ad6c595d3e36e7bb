#include "gridhub/adapter/event_bounds.hpp"

#include <string>

#include <gtest/gtest.h>

namespace gridhub::adapter {
namespace {

namespace v1 = gridhub::v1;

v1::Event rejected_row(std::string payload) {
  v1::Event ev;
  ev.set_channel(v1::CHANNEL_HOTLINE);
  ev.set_source_key("GD1");
  ev.set_original_payload(payload);
  ev.mutable_fields()->set_text(payload);
  ev.mutable_rejection()->set_reason_code("bad_csv");
  ev.mutable_rejection()->set_detail("quoted field opened on line 2 is never closed");
  return ev;
}

TEST(EventBounds, RejectedRecordCarriesOneExcerptCutOnACharacter) {
  std::string payload;
  for (int i = 0; i < 100000; ++i) payload += "路";   // 3 bytes each: 4096 falls inside one
  auto ev = rejected_row(payload);
  bound_event(ev, 1 << 20);
  EXPECT_FALSE(ev.has_fields());
  EXPECT_EQ(ev.original_payload().size(), 4095u);
  EXPECT_EQ(ev.original_payload(), payload.substr(0, 4095));
  EXPECT_NE(ev.rejection().detail().find("first 4095 of the record's 300000 bytes"), std::string::npos)
      << ev.rejection().detail();
  EXPECT_LT(ev.ByteSizeLong(), 5000u);
}

TEST(EventBounds, SmallRejectionKeepsItsPayloadAndGoodEventsAreUntouched) {
  auto ev = rejected_row("GD1,2024/5/32 9:15,text");
  bound_event(ev, 1 << 20);
  EXPECT_EQ(ev.original_payload(), "GD1,2024/5/32 9:15,text");
  EXPECT_EQ(ev.rejection().detail(), "quoted field opened on line 2 is never closed");

  v1::Event good;
  good.set_source_key("GD2");
  good.set_original_payload(std::string(10000, 'x'));
  good.mutable_fields()->set_text("路灯不亮");
  const std::string before = good.SerializeAsString();
  bound_event(good, 1 << 20);
  EXPECT_EQ(good.SerializeAsString(), before);
}

TEST(EventBounds, EventOverTheFrameLimitBecomesATooLargeRejection) {
  v1::Event big;
  big.set_source_key("GD3");
  big.set_source_name("export.csv");
  big.set_original_payload(std::string(200000, 'x'));
  big.mutable_fields()->set_text(std::string(60000, 'y'));
  bound_event(big, 65536);
  ASSERT_TRUE(big.has_rejection());
  EXPECT_EQ(big.rejection().reason_code(), "too_large");
  EXPECT_EQ(big.source_key(), "GD3");
  EXPECT_LE(big.original_payload().size(), kRejectedExcerptBytes);
  EXPECT_LT(big.ByteSizeLong(), 65536u);
}

}  // namespace
}  // namespace gridhub::adapter
