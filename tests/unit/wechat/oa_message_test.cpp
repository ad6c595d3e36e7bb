#include "gridhub/wechat/oa_message.hpp"

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "gridhub/text/csv_reader.hpp"
#include "gridhub/wechat/memotrace.hpp"

namespace gridhub::wechat {
namespace {

const std::string kFixtureDir = std::string(GRIDHUB_SOURCE_DIR) + "/examples/wugong/";

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

/// file -> (record_key, malformed) for every OA file of labels.csv.
std::map<std::string, std::pair<std::string, bool>> labelled_oa_files() {
  const std::string labels = read_file(kFixtureDir + "labels.csv");
  text::CsvReader reader(labels);
  text::CsvRecord rec;
  std::map<std::string, std::pair<std::string, bool>> rows;
  EXPECT_TRUE(reader.next(rec));
  while (reader.next(rec)) {
    if (rec.fields.at(0) == "wechat" && rec.fields.at(1).starts_with("wechat/oa/")) {
      rows[rec.fields.at(1)] = {rec.fields.at(2), rec.fields.at(4) == "1"};
    }
  }
  return rows;
}

KeyedEvent parse_fixture(const std::string& msg_id) {
  OaOptions options;
  options.adapter_id = "wechat-oa";
  return parse_oa_message(read_file(kFixtureDir + "wechat/oa/" + msg_id + ".xml"), msg_id + ".xml", options);
}

TEST(OaMessage, EveryFixtureFileYieldsItsLabelledMsgIdAndOnlyMalformedOnesAreRejected) {
  const auto expected = labelled_oa_files();
  ASSERT_FALSE(expected.empty());
  std::size_t files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(kFixtureDir + "wechat/oa")) {
    const std::string file = "wechat/oa/" + entry.path().filename().string();
    ++files;
    const auto it = expected.find(file);
    ASSERT_NE(it, expected.end()) << file << " has no label";
    const KeyedEvent rec =
        parse_oa_message(read_file(entry.path().string()), entry.path().filename().string(), OaOptions{});
    EXPECT_EQ(rec.record_key, it->second.first) << file;
    // Well-formed messages are keyed within their account (ToUserName); a broken body by what is left.
    EXPECT_EQ(rec.event.source_key(), rec.event.has_rejection()
                                          ? it->second.first
                                          : rec.event.fields().conversation() + ":" + it->second.first)
        << file;
    EXPECT_EQ(rec.event.has_rejection(), it->second.second) << file;
    if (rec.event.has_rejection()) {
      EXPECT_EQ(rec.event.rejection().reason_code(), kReasonBadXml) << file;
      EXPECT_EQ(rec.event.rejection().location(), entry.path().filename().string());
      EXPECT_NE(rec.event.rejection().detail().find("byte"), std::string::npos) << rec.event.rejection().detail();
    }
  }
  EXPECT_EQ(files, expected.size());
}

TEST(OaMessage, LocationKeepsGcj02LatLonLabelAndScale) {
  const KeyedEvent rec = parse_fixture("24500008499865624");
  ASSERT_FALSE(rec.event.has_rejection()) << rec.event.rejection().detail();
  const auto& f = rec.event.fields();
  EXPECT_EQ(f.message_kind(), "location");
  ASSERT_TRUE(f.has_location());
  EXPECT_DOUBLE_EQ(f.location().lat(), 34.252851);   // Location_X is the latitude
  EXPECT_DOUBLE_EQ(f.location().lon(), 108.217968);  // Location_Y the longitude
  EXPECT_EQ(f.location().datum(), v1::DATUM_GCJ02);
  EXPECT_EQ(f.address_text(), "武功县星河花园");
  EXPECT_EQ(f.extra().at("Scale"), "18");
  EXPECT_EQ(f.sender_id(), "ow1ps33W8kIOSe32yoVHcSLZ_HPd");
  EXPECT_EQ(f.conversation(), "gh_a981f86220bf");
  EXPECT_EQ(f.reported_at().unix_micros(), 1714952905LL * 1'000'000);
  EXPECT_EQ(rec.event.channel(), v1::CHANNEL_WECHAT);
  EXPECT_EQ(rec.event.content_type(), "application/xml");
}

TEST(OaMessage, TextMessageCarriesContent) {
  const KeyedEvent rec = parse_fixture("24500008500185277");
  ASSERT_FALSE(rec.event.has_rejection());
  EXPECT_EQ(rec.event.fields().message_kind(), "text");
  EXPECT_EQ(rec.event.fields().text(), "普集街道河畔社区楼下的商铺喇叭每天中午都很吵，希望尽快处理。");
  EXPECT_FALSE(rec.event.fields().has_location());
  EXPECT_FALSE(rec.event.fields().from_staff());
}

TEST(OaMessage, TruncatedBodyKeepsItsMsgIdFromTheFileName) {
  const KeyedEvent rec = parse_fixture("24500008562739287");
  EXPECT_EQ(rec.record_key, "24500008562739287");
  ASSERT_TRUE(rec.event.has_rejection());
  EXPECT_EQ(rec.event.rejection().reason_code(), kReasonBadXml);
  EXPECT_EQ(rec.event.rejection().location(), "24500008562739287.xml");
  EXPECT_FALSE(rec.event.original_payload().empty());
}

TEST(OaMessage, TruncatedBodyPrefersAClosedMsgIdInTheBytes) {
  const std::string body =
      "<xml><ToUserName><![CDATA[gh_x]]></ToUserName><MsgId>777</MsgId><FromUserName><![CDATA[o1";
  const KeyedEvent rec = parse_oa_message(body, "POST /wechat", OaOptions{});
  EXPECT_EQ(rec.record_key, "777");
  EXPECT_EQ(rec.event.rejection().reason_code(), kReasonBadXml);

  // A MsgId cut in the middle is not trusted; with no usable file name the source name is the key.
  const KeyedEvent cut = parse_oa_message("<xml><MsgId>77", "POST /wechat", OaOptions{});
  EXPECT_EQ(cut.record_key, "POST /wechat");
}

TEST(OaMessage, EveryTruncationIsRejectedUnderTheSameKey) {
  const std::string body = read_file(kFixtureDir + "wechat/oa/24500008499865624.xml");
  ASSERT_TRUE(body.ends_with("</xml>"));
  for (std::size_t n = 0; n < body.size(); ++n) {
    const KeyedEvent rec = parse_oa_message(body.substr(0, n), "24500008499865624.xml", OaOptions{});
    EXPECT_EQ(rec.record_key, "24500008499865624") << "cut at " << n;
    EXPECT_TRUE(rec.event.has_rejection()) << "cut at " << n;
  }
}

TEST(OaMessage, MissingFieldsAreRejectedByName) {
  const KeyedEvent no_sender = parse_oa_message(
      "<xml><CreateTime>1718000000</CreateTime><MsgType><![CDATA[text]]></MsgType>"
      "<Content><![CDATA[hi]]></Content><MsgId>1</MsgId></xml>",
      "1.xml", OaOptions{});
  EXPECT_EQ(no_sender.event.rejection().reason_code(), kReasonMissingField);
  EXPECT_EQ(no_sender.event.rejection().field(), "FromUserName");

  const KeyedEvent bad_lat = parse_oa_message(
      "<xml><FromUserName><![CDATA[o1]]></FromUserName><CreateTime>1718000000</CreateTime>"
      "<MsgType><![CDATA[location]]></MsgType><Location_X>north</Location_X><Location_Y>108.2</Location_Y>"
      "<MsgId>2</MsgId></xml>",
      "2.xml", OaOptions{});
  EXPECT_EQ(bad_lat.event.rejection().reason_code(), kReasonBadValue);
  EXPECT_EQ(bad_lat.event.rejection().field(), "Location_X");
  EXPECT_FALSE(bad_lat.event.fields().has_location());

  const KeyedEvent encrypted = parse_oa_message(
      "<xml><ToUserName><![CDATA[gh_x]]></ToUserName><Encrypt><![CDATA[abc]]></Encrypt></xml>", "3.xml", OaOptions{});
  EXPECT_EQ(encrypted.event.rejection().reason_code(), kReasonEncrypted);
  EXPECT_EQ(encrypted.record_key, "3");
}

TEST(OaMessage, EventsWithoutMsgIdAreKeyedBySenderAndTime) {
  const KeyedEvent rec = parse_oa_message(
      "<xml><ToUserName><![CDATA[gh_x]]></ToUserName><FromUserName><![CDATA[o1]]></FromUserName>"
      "<CreateTime>1718000000</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[subscribe]]></Event>"
      "</xml>",
      "POST /wechat", OaOptions{});
  EXPECT_FALSE(rec.event.has_rejection());
  EXPECT_EQ(rec.record_key, "o1:1718000000:subscribe");
  EXPECT_TRUE(rec.event.source_key().starts_with("gh_x:o1:1718000000:subscribe:")) << rec.event.source_key();
  EXPECT_EQ(rec.event.fields().message_kind(), "event");
  EXPECT_EQ(rec.event.fields().extra().at("Event"), "subscribe");
}

// A LOCATION report and a menu CLICK from one user in the same second used to share
// "FromUserName:CreateTime", so the second was dropped as a retry.
TEST(OaMessage, TwoEventsFromOneUserInOneSecondHaveDifferentKeysAndARetryTheSame) {
  const std::string head =
      "<xml><ToUserName><![CDATA[gh_x]]></ToUserName><FromUserName><![CDATA[o1]]></FromUserName>"
      "<CreateTime>1718000000</CreateTime><MsgType><![CDATA[event]]></MsgType>";
  const std::string location = head + "<Event><![CDATA[LOCATION]]></Event><Latitude>29.5</Latitude><Longitude>106.5</Longitude>"
                                      "<Precision>65</Precision></xml>";
  const std::string click = head + "<Event><![CDATA[CLICK]]></Event><EventKey><![CDATA[REPORT]]></EventKey></xml>";
  const std::string moved = head + "<Event><![CDATA[LOCATION]]></Event><Latitude>29.6</Latitude><Longitude>106.5</Longitude>"
                                   "<Precision>65</Precision></xml>";
  const auto a = parse_oa_message(location, "POST /wechat").event.source_key();
  const auto b = parse_oa_message(click, "POST /wechat").event.source_key();
  const auto c = parse_oa_message(moved, "POST /wechat").event.source_key();
  EXPECT_NE(a, b);
  EXPECT_NE(a, c);   // same event type, other contents
  EXPECT_EQ(a, parse_oa_message(location, "POST /wechat").event.source_key());
  EXPECT_LE(a.size(), 256u);
}

// One adapter may receive for several accounts, and several adapters feed one hub: a MsgId is
// only unique within its Official Account or WeCom application.
TEST(OaMessage, TheSameMsgIdOnTwoAccountsHasTwoKeys) {
  const auto text = [](const std::string& to, const std::string& agent) {
    return "<xml><ToUserName><![CDATA[" + to + "]]></ToUserName><FromUserName><![CDATA[o1]]></FromUserName>"
           "<CreateTime>1718000000</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[hi]]></Content>"
           "<MsgId>24500000000000001</MsgId>" + (agent.empty() ? "" : "<AgentID>" + agent + "</AgentID>") + "</xml>";
  };
  const auto oa = parse_oa_message(text("gh_oa", ""), "POST /wechat");
  const auto app1 = parse_oa_message(text("wwcorp", "1000002"), "POST /wechat");
  const auto app2 = parse_oa_message(text("wwcorp", "1000003"), "POST /wechat");
  EXPECT_EQ(oa.event.source_key(), "gh_oa:24500000000000001");
  EXPECT_EQ(app1.event.source_key(), "wwcorp/1000002:24500000000000001");
  EXPECT_EQ(app2.event.source_key(), "wwcorp/1000003:24500000000000001");
  EXPECT_EQ(oa.record_key, "24500000000000001");   // the source's own name for it is unchanged
}

}  // namespace
}  // namespace gridhub::wechat

namespace gridhub::wechat {
namespace {

std::string read_bytes(const std::string& rel) {
  std::ifstream in(std::string(GRIDHUB_SOURCE_DIR) + "/" + rel, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Found by tests/fuzz: a CreateTime beyond year 9999 overflowed the µs conversion (UB).
TEST(WechatFuzzRegressions, AbsurdCreateTimeIsRejectedNotOverflowed) {
  const auto oa = parse_oa_message(read_bytes("tests/fuzz/crashes/wechat_oa-createtime-overflow.bin"), "x.xml");
  ASSERT_TRUE(oa.event.has_rejection());
  EXPECT_EQ(oa.event.rejection().reason_code(), "bad_date");
  auto csv = parse_memotrace_csv(read_bytes("tests/fuzz/crashes/wechat_memotrace_csv-createtime-overflow.bin"), "c.csv", {});
  ASSERT_TRUE(csv.ok());
  ASSERT_FALSE(csv->events.empty());
  EXPECT_EQ(csv->events[0].event.rejection().reason_code(), "bad_date");
}

}  // namespace
}  // namespace gridhub::wechat
