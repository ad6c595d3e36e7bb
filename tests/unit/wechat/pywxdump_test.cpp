#include "gridhub/wechat/pywxdump.hpp"

#include <iterator>
#include <set>
#include <string>

#include <gtest/gtest.h>

#include "../../testing/fixtures.hpp"

namespace gridhub::wechat {
namespace {

using gridhub::fixtures::kFixtureDir;
using gridhub::fixtures::read_file;

constexpr const char* kFixture = "wechat/25867612345@chatroom_0_5000.csv";

ExportOptions options() {
  ExportOptions o;
  o.adapter_id = "wechat-wugong";
  return o;
}

ExportOutput parse(const std::string& bytes, const std::string& name = "24001122@chatroom_0_5000.csv") {
  auto out = parse_pywxdump_csv(bytes, name, options());
  EXPECT_TRUE(out.ok()) << (out.ok() ? "" : out.error().message());
  return out.ok() ? std::move(out).value() : ExportOutput{};
}

const std::string kHeader = "id,MsgSvrID,type_name,is_sender,talker,room_name,msg,src,CreateTime\n";
const std::string kOldHeader = "id,MsgSvrID,type_name,is_sender,talker,room_name,content,CreateTime\n";

TEST(PyWxDumpCsv, DetectsTheExporterByTheHeaderRow) {
  EXPECT_EQ(detect_chat_csv_format(kHeader + "1,2,文本,0,a,b,c,,2024-05-06 11:22:10\n"), ChatCsvFormat::kPyWxDump);
  EXPECT_EQ(detect_chat_csv_format(kOldHeader), ChatCsvFormat::kPyWxDump);
  EXPECT_EQ(detect_chat_csv_format("\xEF\xBB\xBFlocalId,TalkerId,Type,SubType,IsSender,CreateTime,Status,StrContent,"
                                   "StrTime,Remark,NickName,Sender\r\n"),
            ChatCsvFormat::kMemoTrace);
  EXPECT_EQ(detect_chat_csv_format("工单编号,来电时间\n"), ChatCsvFormat::kUnknown);
  EXPECT_EQ(detect_chat_csv_format(""), ChatCsvFormat::kUnknown);
  EXPECT_EQ(detect_chat_csv_format(read_file(kFixtureDir + kFixture)), ChatCsvFormat::kPyWxDump);
  EXPECT_EQ(detect_chat_csv_format(read_file(kFixtureDir + "wechat/owners_group_A_utf8.csv")), ChatCsvFormat::kMemoTrace);
}

TEST(PyWxDumpCsv, MapsTheCurrentVariant) {
  const ExportOutput out = parse(kHeader +
                                 "7,8412345678901234567,文本,0,wxid_li,24001122@chatroom,\"路灯坏了一周了, 在文化街\",,"
                                 "2024-06-10 14:13:20\n"
                                 "8,8412345678901234568,图片,1,wxid_staff,24001122@chatroom,图片,FileStorage/a.jpg,"
                                 "1718000001\n");
  ASSERT_EQ(out.events.size(), 2u);
  EXPECT_EQ(out.rejected, 0u);
  EXPECT_EQ(out.conversation, "24001122@chatroom");
  const auto& text = out.events[0];
  EXPECT_EQ(text.record_key, "8412345678901234567");
  EXPECT_EQ(text.event.source_key(), "24001122@chatroom:8412345678901234567");
  EXPECT_EQ(text.event.channel(), v1::CHANNEL_WECHAT);
  const auto& f = text.event.fields();
  EXPECT_EQ(f.message_kind(), "text");
  EXPECT_EQ(f.text(), "路灯坏了一周了, 在文化街");
  EXPECT_EQ(f.sender_id(), "wxid_li");
  EXPECT_FALSE(f.from_staff());
  EXPECT_EQ(f.conversation(), "24001122@chatroom");
  EXPECT_EQ(f.reported_at().unix_micros(), 1718000000LL * 1000000);  // 14:13:20 at UTC+08:00
  EXPECT_EQ(f.reported_at().utc_offset_minutes(), 480);
  EXPECT_EQ(f.extra().at("type_name"), "文本");
  const auto& image = out.events[1].event.fields();
  EXPECT_EQ(image.message_kind(), "image");
  EXPECT_TRUE(image.from_staff());
  EXPECT_EQ(image.text(), "");
  EXPECT_EQ(image.extra().at("src"), "FileStorage/a.jpg");
  EXPECT_EQ(image.reported_at().unix_micros(), 1718000001LL * 1000000);  // epoch seconds too
}

TEST(PyWxDumpCsv, MapsTheOlderJsonContentVariant) {
  const ExportOutput out = parse(kOldHeader +
                                 "1,9001,文本,0,wxid_li,24001122@chatroom,\"{\"\"src\"\": \"\"\"\", \"\"msg\"\": "
                                 "\"\"井盖松了\"\"}\",2024-06-10 14:13:20\n"
                                 "2,9002,文本,0,wxid_li,24001122@chatroom,not json,2024-06-10 14:13:21\n");
  ASSERT_EQ(out.events.size(), 2u);
  EXPECT_FALSE(out.events[0].event.has_rejection()) << out.events[0].event.rejection().detail();
  EXPECT_EQ(out.events[0].event.fields().text(), "井盖松了");
  const auto& r = out.events[1].event.rejection();
  EXPECT_EQ(r.reason_code(), kReasonBadValue);
  EXPECT_EQ(r.field(), "content");
  EXPECT_EQ(r.location(), "24001122@chatroom_0_5000.csv:3");
  EXPECT_EQ(out.rejected, 1u);
}

TEST(PyWxDumpCsv, TypeNamesMapToMessageKinds) {
  EXPECT_EQ(pywxdump_message_kind("文本"), "text");
  EXPECT_EQ(pywxdump_message_kind("图片"), "image");
  EXPECT_EQ(pywxdump_message_kind("语音"), "voice");
  EXPECT_EQ(pywxdump_message_kind("语音通话"), "call");
  EXPECT_EQ(pywxdump_message_kind("位置"), "location");
  EXPECT_EQ(pywxdump_message_kind("location"), "location");
  EXPECT_EQ(pywxdump_message_kind("动画表情"), "sticker");
  EXPECT_EQ(pywxdump_message_kind("系统通知"), "system");
  EXPECT_EQ(pywxdump_message_kind("(分享)卡片式链接"), "link");
  EXPECT_EQ(pywxdump_message_kind("带有引用的文本消息"), "quote");
  EXPECT_EQ(pywxdump_message_kind("红包"), "other");
  const ExportOutput out = parse(kHeader + "1,9001,红包,0,wxid_li,24001122@chatroom,,,2024-06-10 14:13:20\n");
  ASSERT_EQ(out.events.size(), 1u);
  EXPECT_EQ(out.events[0].event.fields().message_kind(), "other");
  EXPECT_EQ(out.events[0].event.fields().extra().at("type_name"), "红包");
}

TEST(PyWxDumpCsv, LocationsQuotesAndLinks) {
  const ExportOutput out = parse(
      kHeader +
      "1,9001,位置,0,wxid_li,24001122@chatroom,\"纬度:【34.260512】 经度:【108.219873】\n位置：武功县普集街镇 "
      "杏林社区\n其他信息：{}\",,2024-06-10 14:13:20\n"
      "2,9002,带有引用的文本消息,1,wxid_staff,24001122@chatroom,\"已转城管\n\n[引用](2024-06-10 14:13:20)老李:路灯坏了\","
      ",2024-06-10 14:20:00\n"
      "3,9003,(分享)卡片式链接,1,wxid_staff,24001122@chatroom,停水通知,https://example.invalid/n,2024-06-10 15:00:00\n"
      "4,9004,位置,0,wxid_li,24001122@chatroom,\"纬度:【north】 经度:【108.2】\",,2024-06-10 15:01:00\n");
  ASSERT_EQ(out.events.size(), 4u);
  const auto& loc = out.events[0].event.fields();
  EXPECT_EQ(loc.message_kind(), "location");
  EXPECT_DOUBLE_EQ(loc.location().lat(), 34.260512);
  EXPECT_DOUBLE_EQ(loc.location().lon(), 108.219873);
  EXPECT_EQ(loc.location().datum(), v1::DATUM_GCJ02);
  EXPECT_EQ(loc.address_text(), "武功县普集街镇 杏林社区");
  const auto& quote = out.events[1].event.fields();
  EXPECT_EQ(quote.message_kind(), "quote");
  EXPECT_EQ(quote.text(), "已转城管");
  EXPECT_EQ(quote.extra().at("quoted_sender"), "老李");
  EXPECT_EQ(quote.extra().at("quoted_text"), "路灯坏了");
  const auto& link = out.events[2].event.fields();
  EXPECT_EQ(link.message_kind(), "link");
  EXPECT_EQ(link.text(), "停水通知");
  EXPECT_EQ(link.extra().at("url"), "https://example.invalid/n");
  const auto& bad = out.events[3].event.rejection();
  EXPECT_EQ(bad.field(), "msg");
  EXPECT_EQ(bad.location(), "24001122@chatroom_0_5000.csv:9");
  EXPECT_EQ(out.rejected, 1u);
}

TEST(PyWxDumpCsv, BadRowsAreRejectedWithFileLineAndField) {
  const ExportOutput out = parse(kHeader +
                                 "1,,文本,0,a,r,x,,2024-06-10 14:13:20\n"          // line 2
                                 "2,12ab,文本,0,a,r,x,,2024-06-10 14:13:20\n"      // line 3
                                 "3,9003,,0,a,r,x,,2024-06-10 14:13:20\n"          // line 4
                                 "4,9004,文本,2,a,r,x,,2024-06-10 14:13:20\n"      // line 5
                                 "5,9005,文本,0,a,r,x,,\n"                         // line 6
                                 "6,9006,文本,0,a,r,x,,昨天下午3点\n"              // line 7
                                 "7,9007,文本,0,a,r,x,,2024-02-30 10:00:00\n"      // line 8
                                 "8,9008,文本,0,a,r,x\n"                           // line 9
                                 "9,9009,文本,0,a,r,\"x\n");                       // line 10
  ASSERT_EQ(out.events.size(), 9u);
  EXPECT_EQ(out.rejected, 9u);
  const std::pair<const char*, const char*> expected[] = {
      {"missing_field", "MsgSvrID"}, {"bad_value", "MsgSvrID"}, {"missing_field", "type_name"},
      {"bad_value", "is_sender"},    {"bad_date", "CreateTime"}, {"bad_date", "CreateTime"},
      {"bad_date", "CreateTime"},    {"column_count", ""},       {"bad_csv", ""}};
  for (std::size_t i = 0; i < 9; ++i) {
    const auto& r = out.events[i].event.rejection();
    EXPECT_EQ(r.reason_code(), expected[i].first) << i;
    EXPECT_EQ(r.field(), expected[i].second) << i;
    EXPECT_EQ(r.location(), "24001122@chatroom_0_5000.csv:" + std::to_string(i + 2)) << i;
    EXPECT_EQ(r.detail().find("昨天"), std::string::npos) << "details never repeat values";
  }
}

TEST(PyWxDumpCsv, WholeFileProblemsNameTheFile) {
  auto empty = parse_pywxdump_csv("", "x.csv", options());
  ASSERT_FALSE(empty.ok());
  EXPECT_NE(empty.error().detail.find("x.csv"), std::string::npos);
  auto no_time = parse_pywxdump_csv("id,MsgSvrID,type_name,is_sender,talker,room_name,msg,src\n", "x.csv", options());
  ASSERT_FALSE(no_time.ok());
  EXPECT_NE(no_time.error().detail.find("CreateTime"), std::string::npos);
  auto latin1 = parse_pywxdump_csv(kHeader + "1,2,\xCE\xC4\xB1\xBE\xFF,0,a,r,x,,1\n", "x.csv", options());
  EXPECT_FALSE(latin1.ok());
}

TEST(PyWxDumpCsv, ConversationFallsBackToTheFileName) {
  EXPECT_EQ(pywxdump_conversation_from_file_name("/exp/25867612345@chatroom_0_5000.csv"), "25867612345@chatroom");
  EXPECT_EQ(pywxdump_conversation_from_file_name("wxid_abc_12_5000_10000.csv"), "wxid_abc_12");
  const ExportOutput out = parse(kHeader + "1,9001,文本,0,a,,x,,1718000000\n", "dir/25867612345@chatroom_5000_10000.csv");
  ASSERT_EQ(out.events.size(), 1u);
  EXPECT_EQ(out.events[0].event.source_key(), "25867612345@chatroom:9001");
}

// Pages and re-exports name the same message by the same MsgSvrID, so the keys the hub
// deduplicates on do not depend on the file, the page or the row position.
TEST(PyWxDumpCsv, ReExportsKeepTheirSourceKeys) {
  const std::string bytes = read_file(kFixtureDir + kFixture);
  const ExportOutput first = parse(bytes, kFixture);
  ASSERT_GE(first.events.size(), 10u);
  EXPECT_EQ(first.rejected, 0u);
  const char* kinds[] = {"system", "text", "text", "image", "quote", "sticker",
                         "text",   "text", "link", "text",  "voice", "text"};
  ASSERT_EQ(first.events.size(), std::size(kinds));
  for (std::size_t i = 0; i < std::size(kinds); ++i) {
    EXPECT_EQ(first.events[i].event.fields().message_kind(), kinds[i]) << i;
    EXPECT_EQ(first.events[i].event.fields().conversation(), "25867612345@chatroom") << i;
  }
  EXPECT_TRUE(first.events[4].event.fields().from_staff());
  EXPECT_EQ(first.events[4].event.fields().text(), "收到，已通知网格员今天上午去看");
  EXPECT_EQ(first.events[4].event.fields().extra().at("quoted_sender"), "青山");
  EXPECT_FALSE(first.events[2].event.fields().from_staff());
  EXPECT_EQ(first.events[2].event.fields().sender_id(), "wxid_c8v1ts4k0r6e13");
  std::set<std::string> keys;
  for (const auto& e : first.events) EXPECT_TRUE(keys.insert(e.event.source_key()).second) << e.event.source_key();
  // The same chat exported again later, in another page layout: header, then the rows from the
  // fourth one on, under a different file name.
  const std::size_t header_end = bytes.find('\n') + 1;
  std::size_t cut = header_end;
  for (int i = 0; i < 3; ++i) cut = bytes.find("\r\n", cut) + 2;
  const std::string later = bytes.substr(0, header_end) + bytes.substr(cut);
  const ExportOutput second = parse(later, "export2/25867612345@chatroom_3_5003.csv");
  ASSERT_EQ(second.events.size(), first.events.size() - 3);
  for (const auto& e : second.events) EXPECT_TRUE(keys.contains(e.event.source_key())) << e.event.source_key();
}

}  // namespace
}  // namespace gridhub::wechat
