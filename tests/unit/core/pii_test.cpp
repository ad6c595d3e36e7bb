#include "gridhub/core/pii.hpp"

#include <algorithm>
#include <cctype>
#include <string>

#include <gtest/gtest.h>

#include "gridhub/v1/log.pb.h"
#include "gridhub/v1/ticket.pb.h"

namespace gridhub::core {
namespace {

namespace v1 = gridhub::v1;

std::size_t digit_count(const std::string& s) {
  return static_cast<std::size_t>(std::count_if(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c); }));
}

TEST(MaskValue, MobileNumberKeepsFirstThreeAndLastFourDigits) {
  EXPECT_EQ(mask_value("13800000001"), "138****0001");
}

TEST(MaskValue, ChineseNameKeepsOnlyTheSurname) {
  EXPECT_EQ(mask_value("张三"), "张*");
  EXPECT_EQ(mask_value("欧阳娜娜"), "欧***");
  EXPECT_EQ(mask_value("张"), "张*") << "a one-character name must still look masked";
}

TEST(MaskValue, LatinNameKeepsOnlyTheFirstLetter) {
  EXPECT_EQ(mask_value("Alice"), "A****");
}

TEST(MaskValue, ShortNumbersAreFullyHidden) {
  EXPECT_EQ(mask_value("110"), "**");
  EXPECT_EQ(mask_value("123456"), "**");
}

TEST(MaskValue, EmptyStaysEmpty) { EXPECT_EQ(mask_value(""), ""); }

TEST(MaskValue, MaskingIsIdempotent) {
  for (const std::string v : {"13800000001", "张三丰", "Alice", "110"}) {
    const std::string once = mask_value(v);
    EXPECT_EQ(mask_value(once), once) << v;
  }
  EXPECT_EQ(mask_value("138****0001"), "138****0001");
}

// Local landline numbers are 7 or 8 digits. A mask must hide at least as many digits as it does for a
// mobile number (4), or the "masked" value still identifies the caller.
TEST(MaskValue, EveryPhoneNumberHasAtLeastFourDigitsHidden) {
  for (const std::string v : {"13800000001", "+8613800000001", "010-12345678", "87654321", "6543210"}) {
    const std::string masked = mask_value(v);
    EXPECT_LE(digit_count(masked) + 4, digit_count(v)) << v << " was masked as " << masked;
  }
}

v1::Ticket ticket_with_pii() {
  v1::Ticket t;
  t.set_ticket_id("T00000001");
  t.mutable_reporter()->set_name("张三");
  t.mutable_reporter()->set_phone("13800000001");
  t.mutable_reporter()->set_wechat_openid("oABCDEFG123");
  t.set_text("张三反映幸福路12号路灯不亮，电话13800000001");
  t.mutable_location()->set_address_text("幸福路12号");
  t.set_category_hint("市政设施");
  auto* p = t.add_provenance();
  p->set_channel(v1::CHANNEL_HOTLINE);
  p->set_source_key("13800000001");  // a source key is an identifier, not personal data, whatever it looks like
  return t;
}

TEST(MaskPii, MasksReporterFieldsAndLeavesReportContentAlone) {
  v1::Ticket t = ticket_with_pii();
  mask_pii(t);
  EXPECT_EQ(t.reporter().name(), "张*");
  EXPECT_EQ(t.reporter().phone(), "138****0001");
  EXPECT_EQ(t.reporter().wechat_openid(), "o**********");
  // Free text and address are not marked pii; masking them would destroy the report.
  EXPECT_EQ(t.text(), "张三反映幸福路12号路灯不亮，电话13800000001");
  EXPECT_EQ(t.location().address_text(), "幸福路12号");
  EXPECT_EQ(t.category_hint(), "市政设施");
  EXPECT_EQ(t.ticket_id(), "T00000001");
  EXPECT_EQ(t.provenance(0).source_key(), "13800000001");
}

TEST(MaskPii, RecursesIntoNestedMessages) {
  v1::LogRecord rec;
  rec.set_seq(1);
  auto* accepted = rec.mutable_intake_accepted();
  auto* f = accepted->mutable_event()->mutable_fields();
  f->set_reporter_name("李四");
  f->set_reporter_phone("13900000002");
  f->set_text("噪音扰民");
  *accepted->mutable_ticket() = ticket_with_pii();

  mask_pii(rec);
  EXPECT_EQ(rec.intake_accepted().event().fields().reporter_name(), "李*");
  EXPECT_EQ(rec.intake_accepted().event().fields().reporter_phone(), "139****0002");
  EXPECT_EQ(rec.intake_accepted().event().fields().text(), "噪音扰民");
  EXPECT_EQ(rec.intake_accepted().ticket().reporter().name(), "张*");
  EXPECT_EQ(rec.intake_accepted().ticket().reporter().phone(), "138****0001");
}

TEST(MaskPii, MessageWithoutPersonalDataIsUnchanged) {
  v1::Ticket t;
  t.set_ticket_id("T00000002");
  t.set_text("路灯不亮");
  t.add_provenance()->set_source_key("K1");
  const std::string before = t.SerializeAsString();
  mask_pii(t);
  EXPECT_EQ(t.SerializeAsString(), before);
  EXPECT_FALSE(t.has_reporter()) << "masking must not create absent sub-messages";
}

}  // namespace
}  // namespace gridhub::core
