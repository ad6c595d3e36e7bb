#include "gridhub/wechat/memotrace.hpp"

#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "../../testing/fixtures.hpp"
#include "gridhub/text/csv_reader.hpp"

namespace gridhub::wechat {
namespace {

using gridhub::fixtures::kFixtureDir;
using gridhub::fixtures::labelled;
using gridhub::fixtures::read_file;




/// record_key -> has a rejection; every key must be new.
std::map<std::string, bool> produced(const ExportOutput& out) {
  std::map<std::string, bool> got;
  for (const auto& rec : out.events) {
    EXPECT_TRUE(got.emplace(rec.record_key, rec.event.has_rejection()).second) << "duplicate " << rec.record_key;
  }
  return got;
}

const KeyedEvent* find(const ExportOutput& out, std::string_view key) {
  for (const auto& rec : out.events) {
    if (rec.record_key == key) return &rec;
  }
  return nullptr;
}

ExportOutput parse_csv_fixture(const std::string& file) {
  ExportOptions options;
  options.adapter_id = "wechat-wugong";
  auto out = parse_memotrace_csv(read_file(kFixtureDir + "wechat/" + file), file, options);
  EXPECT_TRUE(out.ok()) << (out.ok() ? "" : out.error().message());
  return out.ok() ? std::move(out).value() : ExportOutput{};
}

ExportOutput parse_txt_fixture() {
  ExportOptions options;
  options.adapter_id = "wechat-wugong";
  options.export_owner_name = "宋雪";  // groups.csv export_owner
  return parse_memotrace_txt(read_file(kFixtureDir + "wechat/grid_group_C.txt"), "grid_group_C.txt", options);
}

class MemoTraceCsvFixture : public testing::TestWithParam<const char*> {};

TEST_P(MemoTraceCsvFixture, YieldsExactlyTheLabelledLocalIdsWithoutRejections) {
  const std::string file = GetParam();
  const auto expected = labelled("wechat", "wechat/" + file);
  ASSERT_FALSE(expected.empty());
  const ExportOutput out = parse_csv_fixture(file);
  EXPECT_EQ(produced(out), expected);
  EXPECT_EQ(out.rejected, 0u);
}

INSTANTIATE_TEST_SUITE_P(MemoTrace, MemoTraceCsvFixture,
                         testing::Values("owners_group_A_utf8.csv", "residents_group_B_utf8.csv"));

TEST(MemoTraceCsv, TextRowCarriesSenderConversationAndUnixTime) {
  const ExportOutput out = parse_csv_fixture("owners_group_A_utf8.csv");
  EXPECT_EQ(out.conversation, "owners_group_A");
  const KeyedEvent* rec = find(out, "6180");
  ASSERT_NE(rec, nullptr);
  const v1::Event& e = rec->event;
  EXPECT_EQ(e.channel(), v1::CHANNEL_WECHAT);
  EXPECT_EQ(e.source_key(), "owners_group_A:6180");
  EXPECT_EQ(e.content_type(), "text/csv; charset=utf-8");
  EXPECT_TRUE(e.original_payload().starts_with("6180,84,1,0,0,1714949992,2,")) << e.original_payload();
  const auto& f = e.fields();
  EXPECT_EQ(f.message_kind(), "text");
  EXPECT_TRUE(f.text().starts_with("@物业 清河城15")) << f.text();
  EXPECT_EQ(f.reporter_name(), "岁月静好");
  EXPECT_EQ(f.sender_id(), "wxid_4pmcygmgf1wwq8");
  EXPECT_FALSE(f.from_staff());
  EXPECT_EQ(f.conversation(), "owners_group_A");
  EXPECT_EQ(f.reported_at().unix_micros(), 1714949992LL * 1'000'000);
  EXPECT_EQ(f.reported_at().utc_offset_minutes(), 480);
  EXPECT_EQ(f.extra().at("TalkerId"), "84");
  EXPECT_EQ(f.extra().at("Remark"), "李老师");
}

TEST(MemoTraceCsv, MessageKindsFollowTypeAndSubType) {
  const ExportOutput a = parse_csv_fixture("owners_group_A_utf8.csv");
  const std::map<std::string, std::string> kinds{
      {"6187", "image"}, {"6195", "link"}, {"6202", "quote"}, {"6256", "sticker"}};
  for (const auto& [key, kind] : kinds) {
    const KeyedEvent* rec = find(a, key);
    ASSERT_NE(rec, nullptr) << key;
    EXPECT_EQ(rec->event.fields().message_kind(), kind) << key;
    // Media XML stays in the payload, not in the text.
    EXPECT_EQ(rec->event.fields().text(), "") << key;
  }
  const KeyedEvent* staff_quote = find(a, "6202");
  EXPECT_TRUE(staff_quote->event.fields().from_staff());
  EXPECT_EQ(staff_quote->event.fields().sender_id(), "wxid_bg2wvkc63ywasb");
}

TEST(MemoTraceCsv, SystemMessagesKeepTheirTextAndHaveNoSender) {
  const ExportOutput b = parse_csv_fixture("residents_group_B_utf8.csv");
  const KeyedEvent* rec = find(b, "5877");
  ASSERT_NE(rec, nullptr);
  const auto& f = rec->event.fields();
  EXPECT_EQ(f.message_kind(), "system");
  EXPECT_EQ(f.text(), "\"木子李\" 撤回了一条消息");
  EXPECT_EQ(f.sender_id(), "");
  EXPECT_EQ(f.reporter_name(), "");
  EXPECT_FALSE(rec->event.has_rejection());
}

TEST(MemoTraceCsv, AppMessageXmlGivesQuoteTextAndTarget) {
  const std::string csv =
      "\xEF\xBB\xBFlocalId,TalkerId,Type,SubType,IsSender,CreateTime,Status,StrContent,StrTime,Remark,NickName,Sender\r\n"
      "7,5,49,57,1,1718000000,2,\"<msg><appmsg><title>收到，明天去看</title><refermsg><displayname>老李</displayname>"
      "<content>路灯坏了</content></refermsg></appmsg></msg>\",2024-06-10 14:13:20,,网格员,wxid_staff\r\n";
  auto out = parse_memotrace_csv(csv, "chat_utf8.csv", ExportOptions{});
  ASSERT_TRUE(out.ok()) << out.error().message();
  ASSERT_EQ(out->events.size(), 1u);
  const auto& f = out->events[0].event.fields();
  EXPECT_EQ(f.message_kind(), "quote");
  EXPECT_EQ(f.text(), "收到，明天去看");
  EXPECT_EQ(f.extra().at("quoted_text"), "路灯坏了");
  EXPECT_EQ(f.extra().at("quoted_sender"), "老李");
  EXPECT_TRUE(f.from_staff());
}

TEST(MemoTraceCsv, BadRowsAreRejectedNamingLineAndColumn) {
  const std::string csv =
      "localId,TalkerId,Type,SubType,IsSender,CreateTime,Status,StrContent,StrTime,Remark,NickName,Sender\n"
      "1,5,1,0,0,yesterday,2,hi,2024-06-10 14:13:20,,a,wxid_a\n"
      "2,5,1,0,0,1718000000,2,hi\n"
      ",5,1,0,0,1718000000,2,hi,2024-06-10 14:13:20,,a,wxid_a\n"
      "4,5,1,0,0,1718000000,2,\"never closed\n";
  ExportOptions options;
  options.conversation = "123@chatroom";
  auto out = parse_memotrace_csv(csv, "chat_utf8.csv", options);
  ASSERT_TRUE(out.ok()) << out.error().message();
  ASSERT_EQ(out->events.size(), 4u);
  EXPECT_EQ(out->rejected, 4u);
  const auto& time = out->events[0].event;
  EXPECT_EQ(time.source_key(), "123@chatroom:1");
  EXPECT_EQ(time.rejection().reason_code(), kReasonBadDate);
  EXPECT_EQ(time.rejection().field(), "CreateTime");
  EXPECT_EQ(time.rejection().location(), "chat_utf8.csv:2");
  EXPECT_EQ(out->events[1].event.rejection().reason_code(), kReasonColumnCount);
  EXPECT_EQ(out->events[1].record_key, "2");
  const auto& no_id = out->events[2];
  EXPECT_EQ(no_id.record_key, "chat_utf8.csv:4");
  EXPECT_EQ(no_id.event.rejection().field(), "localId");
  EXPECT_EQ(out->events[3].event.rejection().reason_code(), kReasonBadCsv);
}

// Issue #11, item 2: one stray quote costs its own row; the messages after it are read, on their lines.
TEST(MemoTraceCsv, StrayQuoteCostsOnlyItsOwnRow) {
  std::string csv = "localId,TalkerId,Type,SubType,IsSender,CreateTime,Status,StrContent,StrTime,Remark,NickName,Sender\n"
                    "1,5,1,0,0,1718000000,2,\"路灯坏了,2024-06-10 14:13:20,,a,wxid_a\n";
  for (int i = 2; i <= 50; ++i) {
    csv += std::to_string(i) + ",5,1,0,0,1718000000,2,\"第" + std::to_string(i) + "条\",2024-06-10 14:13:20,,a,wxid_a\n";
  }
  auto out = parse_memotrace_csv(csv, "chat_utf8.csv", ExportOptions{});
  ASSERT_TRUE(out.ok()) << out.error().message();
  ASSERT_EQ(out->events.size(), 50u);
  EXPECT_EQ(out->rejected, 1u);
  EXPECT_EQ(out->events[0].event.rejection().reason_code(), kReasonBadCsv);
  EXPECT_EQ(out->events[0].event.rejection().location(), "chat_utf8.csv:2");
  EXPECT_FALSE(out->events[1].event.has_rejection());
  EXPECT_EQ(out->events[1].event.fields().text(), "第2条");
  EXPECT_EQ(out->events[49].event.fields().text(), "第50条");
}

TEST(MemoTraceCsv, MissingRequiredColumnIsAFileError) {
  auto out = parse_memotrace_csv("localId,Type,IsSender,StrContent\n1,1,0,hi\n", "x_utf8.csv", ExportOptions{});
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.error().detail.find("x_utf8.csv"), std::string::npos);
  EXPECT_NE(out.error().detail.find("CreateTime"), std::string::npos);
}

TEST(MemoTraceTxt, YieldsExactlyTheLabelledBlockLinesWithoutRejections) {
  const auto expected = labelled("wechat", "wechat/grid_group_C.txt");
  ASSERT_FALSE(expected.empty());
  const ExportOutput out = parse_txt_fixture();
  EXPECT_EQ(produced(out), expected);
  EXPECT_EQ(out.rejected, 0u);
}

TEST(MemoTraceTxt, QuoteReplyKeepsReplyTextAndQuotedMessage) {
  const ExportOutput out = parse_txt_fixture();
  const KeyedEvent* rec = find(out, "10");
  ASSERT_NE(rec, nullptr);
  const auto& f = rec->event.fields();
  EXPECT_EQ(f.message_kind(), "quote");
  EXPECT_EQ(f.text(), "谢谢反映，已联系相关部门");
  EXPECT_EQ(f.extra().at("quoted_sender"), "幸福一家人");
  EXPECT_EQ(f.extra().at("quoted_text"), "静怡名苑一个星期没水了，也没有停水通知，请马上处理！");
  EXPECT_EQ(f.reporter_name(), "宋雪");
  EXPECT_TRUE(f.from_staff());
  EXPECT_EQ(rec->event.source_key(), "grid_group_C:2024-05-06 17:24:57#1");
}

TEST(MemoTraceTxt, DisplayNamesAreHtmlUnescaped) {
  const ExportOutput out = parse_txt_fixture();
  const KeyedEvent* angle = find(out, "53");
  ASSERT_NE(angle, nullptr);
  EXPECT_EQ(angle->event.fields().reporter_name(), "<小太阳>");
  EXPECT_FALSE(angle->event.fields().from_staff());
  const KeyedEvent* amp = find(out, "108");
  ASSERT_NE(amp, nullptr);
  EXPECT_EQ(amp->event.fields().reporter_name(), "刘姐&小宝");
}

TEST(MemoTraceTxt, SystemMediaAndLinkBlocks) {
  const ExportOutput out = parse_txt_fixture();
  const KeyedEvent* system = find(out, "138");
  ASSERT_NE(system, nullptr);
  EXPECT_EQ(system->event.fields().message_kind(), "system");
  EXPECT_EQ(system->event.fields().text(), "你邀请\"思远\"加入了群聊");
  EXPECT_EQ(system->event.fields().reporter_name(), "");

  const KeyedEvent* image = find(out, "59");
  ASSERT_NE(image, nullptr);
  EXPECT_EQ(image->event.fields().message_kind(), "image");
  EXPECT_EQ(image->event.fields().text(), "");

  const KeyedEvent* link = find(out, "257");
  ASSERT_NE(link, nullptr);
  const auto& f = link->event.fields();
  EXPECT_EQ(f.message_kind(), "link");
  EXPECT_EQ(f.text(), "关于做好夏季防汛工作的通知");
  EXPECT_EQ(f.extra().at("url"), "https://mp.weixin.qq.com/s/_aRHoI2fhdP4e3v-1u1iN1");
  EXPECT_EQ(f.extra().at("link_source"), "普集街道发布");
  EXPECT_EQ(f.extra().count("link_description"), 0u);  // "None"

  const KeyedEvent* text = find(out, "4");
  ASSERT_NE(text, nullptr);
  EXPECT_EQ(text->event.fields().message_kind(), "text");
  EXPECT_EQ(text->event.fields().conversation(), "grid_group_C");
  // 2024-05-06 13:22:02 at UTC+8.
  EXPECT_EQ(text->event.fields().reported_at().unix_micros(), 1714972922LL * 1'000'000);
}

TEST(MemoTraceTxt, BrokenBlocksAreRejectedByLine) {
  const std::string txt =
      "stray text\n"
      "\n"
      "2024-13-01 10:00:00 老李\n"
      "路灯坏了\n"
      "\n"
      "2024-06-01 10:00:00 老王\n"
      "bad \xff byte\n"
      "\n"
      "2024-06-01 10:00:00 老王\n"
      "same second\n"
      "2024-06-01 10:00:01 not a header: no blank line before it\n";
  const ExportOutput out = parse_memotrace_txt(txt, "chat.txt", ExportOptions{});
  ASSERT_EQ(out.events.size(), 4u);
  EXPECT_EQ(out.rejected, 3u);
  EXPECT_EQ(out.events[0].record_key, "1");
  EXPECT_EQ(out.events[0].event.rejection().reason_code(), kReasonOrphanText);
  EXPECT_EQ(out.events[1].record_key, "3");
  EXPECT_EQ(out.events[1].event.rejection().reason_code(), kReasonBadDate);
  EXPECT_EQ(out.events[1].event.rejection().field(), "StrTime");
  EXPECT_EQ(out.events[1].event.rejection().location(), "chat.txt:3");
  EXPECT_EQ(out.events[2].event.rejection().reason_code(), kReasonBadEncoding);
  EXPECT_EQ(out.events[2].event.rejection().location(), "chat.txt:6");
  const auto& last = out.events[3];
  EXPECT_FALSE(last.event.has_rejection());
  EXPECT_EQ(last.event.source_key(), "chat:2024-06-01 10:00:00#1");  // the broken block took no number
  EXPECT_EQ(last.event.fields().text(), "same second\n2024-06-01 10:00:01 not a header: no blank line before it");
}

TEST(MemoTrace, KindsOfTypeCodes) {
  EXPECT_EQ(message_kind_of(1, 0), "text");
  EXPECT_EQ(message_kind_of(34, 0), "voice");
  EXPECT_EQ(message_kind_of(10000, 0), "system");
  EXPECT_EQ(message_kind_of(49, 57), "quote");
  EXPECT_EQ(message_kind_of(49, 5), "link");
  EXPECT_EQ(message_kind_of(49, 6), "file");
  EXPECT_EQ(message_kind_of(12345, 0), "other");
  EXPECT_EQ(conversation_from_file_name("x/三组居民群_utf8.csv"), "三组居民群");
}

}  // namespace
}  // namespace gridhub::wechat
