#include "gridhub/wechat/location_pairing.hpp"

#include <gtest/gtest.h>

#include <limits>

namespace gridhub::wechat {
namespace {

v1::Event message(const std::string& kind, const std::string& sender, std::int64_t at_s, const std::string& key) {
  v1::Event ev;
  ev.set_source_key(key);
  auto* f = ev.mutable_fields();
  f->set_message_kind(kind);
  f->set_sender_id(sender);
  f->mutable_reported_at()->set_unix_micros(at_s * 1000000);
  if (kind == "location") {
    f->mutable_location()->set_lat(29.5);
    f->mutable_location()->set_lon(106.5);
    f->mutable_location()->set_datum(v1::DATUM_GCJ02);
  } else {
    f->set_text("垃圾没清");
  }
  return ev;
}

TEST(LocationPairer, ATextWithinTheWindowGetsTheSendersLocationWithItsDatum) {
  LocationPairer p(600LL * 1000000);
  auto loc = message("location", "o1", 1000, "L1");
  EXPECT_FALSE(p.feed(loc));
  auto other = message("text", "o2", 1010, "T0");
  EXPECT_FALSE(p.feed(other));   // another sender
  auto text = message("text", "o1", 1060, "T1");
  EXPECT_TRUE(p.feed(text));
  EXPECT_EQ(text.fields().location().datum(), v1::DATUM_GCJ02);
  EXPECT_EQ(text.fields().extra().at("location_msg"), "L1");
  auto late = message("location", "o1", 2000, "L2");
  p.feed(late);
  auto too_late = message("text", "o1", 2000 + 601, "T2");
  EXPECT_FALSE(p.feed(too_late));
}

TEST(LocationPairer, TimesAtTheInt64LimitsAreFarApartNotPaired) {
  // INT64_MAX - INT64_MIN wraps to -1 in signed arithmetic: "within the window". Exact: never.
  LocationPairer p(600LL * 1000000);
  auto loc = message("location", "o1", 0, "L1");
  loc.mutable_fields()->mutable_reported_at()->set_unix_micros(std::numeric_limits<std::int64_t>::min());
  EXPECT_FALSE(p.feed(loc));
  auto text = message("text", "o1", 0, "T1");
  text.mutable_fields()->mutable_reported_at()->set_unix_micros(std::numeric_limits<std::int64_t>::max());
  EXPECT_FALSE(p.feed(text));
  EXPECT_FALSE(text.fields().has_location());
}

TEST(LocationPairer, LocationsNobodyFollowsUpAreForgottenOnceTheyCanNoLongerPair) {
  LocationPairer p(600LL * 1000000);
  for (std::size_t i = 0; i < LocationPairer::kSweepEvery - 1; ++i) {
    auto loc = message("location", "user" + std::to_string(i), 1000, "L" + std::to_string(i));
    p.feed(loc);
  }
  EXPECT_EQ(p.waiting(), LocationPairer::kSweepEvery - 1);
  // Eleven minutes later the sweeping feed drops them; only the new location waits.
  auto fresh = message("location", "late", 1000 + 660, "Lfresh");
  p.feed(fresh);
  EXPECT_EQ(p.waiting(), 1u);
}

}  // namespace
}  // namespace gridhub::wechat
