#include "gridhub/core/normalizer.hpp"

#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace gridhub::core {
namespace {

namespace v1 = gridhub::v1;
using ::testing::HasSubstr;

v1::Event valid_event() {
  v1::Event ev;
  ev.set_channel(v1::CHANNEL_HOTLINE);
  ev.set_adapter_id("hotline-1");
  ev.set_source_key("GD20240301-0001");
  ev.mutable_fields()->set_text("小区门口路灯不亮");
  return ev;
}

/// The error of an event that must be rejected: invalid_event, with the message naming `field`.
void expect_rejected(const v1::Event& ev, const std::string& field, const EventLimits& limits = {}) {
  const Status s = validate_event(ev, limits);
  ASSERT_FALSE(s.ok()) << "expected " << field << " to be rejected";
  EXPECT_EQ(s.error().code, make_error_code(Errc::invalid_event));
  EXPECT_THAT(s.error().detail, HasSubstr(field));
}

TEST(ValidateEvent, AcceptsACompleteEvent) {
  const Status s = validate_event(valid_event(), EventLimits{});
  EXPECT_TRUE(s.ok()) << s.error().message();
}

TEST(ValidateEvent, UnspecifiedOrUnknownChannelIsRejectedNamingChannel) {
  v1::Event ev = valid_event();
  ev.set_channel(v1::CHANNEL_UNSPECIFIED);
  expect_rejected(ev, "event.channel");
  ev.set_channel(static_cast<v1::Channel>(42));
  expect_rejected(ev, "event.channel");
}

TEST(ValidateEvent, EmptySourceKeyIsRejectedNamingSourceKey) {
  v1::Event ev = valid_event();
  ev.clear_source_key();
  expect_rejected(ev, "event.source_key");
}

TEST(ValidateEvent, SourceKeyLongerThanTheLimitIsRejectedNamingSourceKey) {
  EventLimits limits;
  limits.max_key_bytes = 16;
  v1::Event ev = valid_event();
  ev.set_source_key(std::string(16, 'k'));
  EXPECT_TRUE(validate_event(ev, limits).ok()) << "a key of exactly the limit is fine";
  ev.set_source_key(std::string(17, 'k'));
  expect_rejected(ev, "event.source_key", limits);
}

TEST(ValidateEvent, EmptyAdapterIdIsRejectedNamingAdapterId) {
  v1::Event ev = valid_event();
  ev.clear_adapter_id();
  expect_rejected(ev, "event.adapter_id");
}

TEST(ValidateEvent, AnEventWithoutTextIsStoredSoTheClassifierCanSayItIsNoTicket) {
  // A sticker, a photo or a location in a chat export is a record too: logged, never a ticket.
  v1::Event ev = valid_event();
  ev.mutable_fields()->clear_text();
  ev.mutable_fields()->set_message_kind("sticker");
  const Status s = validate_event(ev, EventLimits{});
  EXPECT_TRUE(s.ok()) << s.error().message();
}

TEST(ValidateEvent, TextLongerThanTheLimitIsRejectedNamingText) {
  EventLimits limits;
  limits.max_text_bytes = 10;
  v1::Event ev = valid_event();
  ev.mutable_fields()->set_text(std::string(10, 'x'));
  EXPECT_TRUE(validate_event(ev, limits).ok());
  ev.mutable_fields()->set_text(std::string(11, 'x'));
  expect_rejected(ev, "event.fields.text", limits);
}

TEST(ValidateEvent, ARejectionDoesNotExcuseAMissingSourceKey) {
  v1::Event ev = valid_event();
  ev.mutable_fields()->clear_text();
  ev.mutable_rejection()->set_reason_code("bad_date");
  ev.clear_source_key();
  expect_rejected(ev, "event.source_key");
}

TEST(TicketFromEvent, CopiesReportFieldsAndProvenance) {
  v1::Event ev = valid_event();
  ev.set_source_name("export-0301.csv");
  ev.mutable_received_at()->set_unix_micros(1'709'280'000'000'000);
  ev.mutable_received_at()->set_utc_offset_minutes(480);
  auto* f = ev.mutable_fields();
  f->set_reporter_name("张三");
  f->set_reporter_phone("13800000001");
  f->set_address_text("幸福路12号3栋");
  f->mutable_reported_at()->set_unix_micros(1'709'270'000'000'000);
  f->mutable_reported_at()->set_utc_offset_minutes(480);
  f->set_category_hint("市政设施");
  f->set_request_kind("求助");
  f->mutable_location()->set_lat(30.5);
  f->mutable_location()->set_lon(114.3);
  f->mutable_location()->set_datum(v1::DATUM_GCJ02);

  const v1::Ticket t = ticket_from_event(ev);
  EXPECT_EQ(t.reporter().name(), "张三");
  EXPECT_EQ(t.reporter().phone(), "13800000001");
  EXPECT_EQ(t.text(), "小区门口路灯不亮");
  EXPECT_EQ(t.location().address_text(), "幸福路12号3栋");
  EXPECT_EQ(t.location().point().lat(), 30.5);
  EXPECT_EQ(t.location().point().lon(), 114.3);
  EXPECT_EQ(t.location().point().datum(), v1::DATUM_GCJ02);
  EXPECT_EQ(t.reported_at().unix_micros(), 1'709'270'000'000'000);
  EXPECT_EQ(t.reported_at().utc_offset_minutes(), 480);
  EXPECT_EQ(t.category_hint(), "市政设施");
  EXPECT_EQ(t.request_kind(), "求助");
  EXPECT_EQ(t.status(), v1::TICKET_STATUS_NEW);
  // Id, version and log seq are the log's to assign.
  EXPECT_TRUE(t.ticket_id().empty());
  EXPECT_EQ(t.version(), 0u);

  ASSERT_EQ(t.provenance_size(), 1);
  const auto& p = t.provenance(0);
  EXPECT_EQ(p.channel(), v1::CHANNEL_HOTLINE);
  EXPECT_EQ(p.adapter_id(), "hotline-1");
  EXPECT_EQ(p.source_key(), "GD20240301-0001");
  EXPECT_EQ(p.source_name(), "export-0301.csv");
  EXPECT_EQ(p.received_at().unix_micros(), 1'709'280'000'000'000);
  EXPECT_EQ(p.log_seq(), 0u);
}

TEST(TicketFromEvent, AbsentTimesAndPointStayAbsent) {
  const v1::Ticket t = ticket_from_event(valid_event());
  EXPECT_FALSE(t.has_reported_at());
  EXPECT_FALSE(t.location().has_point());
  ASSERT_EQ(t.provenance_size(), 1);
  EXPECT_FALSE(t.provenance(0).has_received_at());
}

}  // namespace
}  // namespace gridhub::core
