#include "gridhub/webform/urlencoded.hpp"

#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "../../testing/fixtures.hpp"
#include "gridhub/text/csv_reader.hpp"

namespace gridhub::webform {
namespace {

using gridhub::fixtures::kFixtureDir;
using gridhub::fixtures::labelled;
using gridhub::fixtures::read_file;




std::vector<KeyedEvent> parse_fixture() {
  UrlencodedOptions options;
  options.adapter_id = "webform-h5";
  return parse_urlencoded_file(read_file(kFixtureDir + "webform/h5_form_posts.txt"), "h5_form_posts.txt", options);
}

const KeyedEvent* find(const std::vector<KeyedEvent>& events, std::string_view key) {
  for (const auto& rec : events) {
    if (rec.record_key == key) return &rec;
  }
  return nullptr;
}

TEST(Urlencoded, FixtureYieldsExactlyTheLabelledLinesWithBrokenBodiesRejected) {
  const auto expected = labelled("webform", "webform/h5_form_posts.txt");
  ASSERT_FALSE(expected.empty());
  const auto events = parse_fixture();
  std::map<std::string, bool> got;
  for (const auto& rec : events) {
    EXPECT_TRUE(got.emplace(rec.record_key, rec.event.has_rejection()).second) << "duplicate " << rec.record_key;
    if (rec.event.has_rejection()) {
      EXPECT_FALSE(rec.event.rejection().field().empty()) << rec.record_key;
      EXPECT_EQ(rec.event.rejection().location(), "h5_form_posts.txt:" + rec.record_key);
    }
  }
  EXPECT_EQ(got, expected);
}

TEST(Urlencoded, CutEscapeAndNonUtf8BytesNameTheirField) {
  const auto events = parse_fixture();
  const KeyedEvent* cut = find(events, "37");
  ASSERT_NE(cut, nullptr);
  EXPECT_EQ(cut->event.rejection().reason_code(), kReasonBadPercentEscape);
  EXPECT_EQ(cut->event.rejection().field(), "content");  // the line ends in "%E8%B"
  EXPECT_EQ(cut->event.fields().reporter_name(), "市民");

  const KeyedEvent* bytes = find(events, "4");
  ASSERT_NE(bytes, nullptr);
  EXPECT_EQ(bytes->event.rejection().reason_code(), kReasonBadEncoding);
  EXPECT_EQ(bytes->event.rejection().field(), "content");
  // The fields that did decode are still there for the dead-letter reader.
  EXPECT_EQ(bytes->event.fields().reporter_name(), "谢先生");
  EXPECT_EQ(bytes->event.fields().text(), "");
}

TEST(Urlencoded, PlusIsSpaceAndTimeCarriesItsOffset) {
  const auto events = parse_fixture();
  const KeyedEvent* rec = find(events, "1");
  ASSERT_NE(rec, nullptr);
  ASSERT_FALSE(rec->event.has_rejection());
  const auto& f = rec->event.fields();
  EXPECT_EQ(f.reporter_name(), "胡先生");
  EXPECT_EQ(f.reporter_phone(), "18883465581");  // "188 8346 5581"
  EXPECT_EQ(f.category_hint(), "社会救助与养老");
  EXPECT_EQ(f.intake_channel_detail(), "h5");
  EXPECT_EQ(f.address_text(), "");
  EXPECT_FALSE(f.has_location());
  // 2024-05-06T18:27:27+08:00
  EXPECT_EQ(f.reported_at().unix_micros(), 1714991247LL * 1'000'000);
  EXPECT_EQ(f.reported_at().utc_offset_minutes(), 480);
  EXPECT_EQ(rec->event.source_key(), "h5_form_posts.txt:1");
  EXPECT_EQ(rec->event.content_type(), "application/x-www-form-urlencoded");
}

TEST(Urlencoded, CoordSelectsTheDatum) {
  const auto events = parse_fixture();
  const KeyedEvent* gcj = find(events, "6");
  ASSERT_NE(gcj, nullptr);
  ASSERT_TRUE(gcj->event.fields().has_location());
  EXPECT_DOUBLE_EQ(gcj->event.fields().location().lat(), 34.265035);
  EXPECT_DOUBLE_EQ(gcj->event.fields().location().lon(), 108.223543);
  EXPECT_EQ(gcj->event.fields().location().datum(), v1::DATUM_GCJ02);

  const KeyedEvent* wgs = find(events, "12");
  ASSERT_NE(wgs, nullptr);
  EXPECT_EQ(wgs->event.fields().location().datum(), v1::DATUM_WGS84);
  EXPECT_EQ(wgs->event.fields().reporter_phone(), "15876295088");  // "+86 15876295088"
}

// "张三" and "䶮" in GB18030 (the latter outside GB2312), "路灯坏了" in GBK.
constexpr std::string_view kGbkBody =
    "name=%D5%C5%C8%FD%FE%9F&content=%C2%B7%B5%C6%BB%B5%C1%CB&ts=2024-06-01T10%3A00%3A00%2B08%3A00";

TEST(Urlencoded, DeclaredGbkCharsetIsDecoded) {
  const KeyedEvent by_field =
      parse_urlencoded_post("_charset_=gbk&" + std::string(kGbkBody), "POST /h5", "r1", UrlencodedOptions{});
  ASSERT_FALSE(by_field.event.has_rejection()) << by_field.event.rejection().detail();
  EXPECT_EQ(by_field.event.fields().reporter_name(), "张三䶮");
  EXPECT_EQ(by_field.event.fields().text(), "路灯坏了");
  EXPECT_EQ(by_field.event.fields().extra().count("_charset_"), 0u);

  UrlencodedOptions gbk_request;
  gbk_request.charset = "GB2312";  // from Content-Type
  const KeyedEvent by_header = parse_urlencoded_post(kGbkBody, "POST /h5", "r2", gbk_request);
  ASSERT_FALSE(by_header.event.has_rejection()) << by_header.event.rejection().detail();
  EXPECT_EQ(by_header.event.fields().text(), "路灯坏了");
}

TEST(Urlencoded, GbkBytesDeclaredAsUtf8AreRejectedNamingTheField) {
  const KeyedEvent rec = parse_urlencoded_post(kGbkBody, "POST /h5", "r3", UrlencodedOptions{});
  ASSERT_TRUE(rec.event.has_rejection());
  EXPECT_EQ(rec.event.rejection().reason_code(), kReasonBadEncoding);
  EXPECT_EQ(rec.event.rejection().field(), "name");
  EXPECT_EQ(rec.event.rejection().location(), "POST /h5:r3");

  const KeyedEvent unknown = parse_urlencoded_post("_charset_=ebcdic&ts=2024-06-01T10:00:00", "POST /h5", "r4",
                                                   UrlencodedOptions{});
  EXPECT_EQ(unknown.event.rejection().reason_code(), kReasonUnknownCharset);
  EXPECT_EQ(unknown.event.rejection().field(), "_charset_");
}

TEST(Urlencoded, TimeAndPositionProblemsAreRejectedByField) {
  const auto reason_field = [](std::string_view body) {
    const KeyedEvent rec = parse_urlencoded_post(body, "p", "1", UrlencodedOptions{});
    return rec.event.rejection().reason_code() + "/" + rec.event.rejection().field();
  };
  EXPECT_EQ(reason_field("content=x"), "bad_date/ts");
  EXPECT_EQ(reason_field("content=x&ts=2024-06-31T10:00:00"), "bad_date/ts");
  EXPECT_EQ(reason_field("ts=2024-06-01T10:00:00&lat=34.2"), "bad_value/lng");
  EXPECT_EQ(reason_field("ts=2024-06-01T10:00:00&lat=134.2&lng=108.2"), "bad_value/lat");
  EXPECT_EQ(reason_field("ts=2024-06-01T10:00:00&lat=34.2&lng=108.2&coord=utm"), "bad_value/coord");
  EXPECT_EQ(reason_field("ts=2024-06-01T10:00:00&lat=34.2&lng=108.2"), "/");  // datum unspecified, not an error

  const KeyedEvent local = parse_urlencoded_post("ts=2024-06-01+10:00:00", "p", "2", UrlencodedOptions{});
  EXPECT_EQ(local.event.fields().reported_at().utc_offset_minutes(), 480);
}

TEST(RecordLines, SplitsOnLfAndCrlfSkippingBlankLinesButCountingThem) {
  const auto lines = split_record_lines("a\r\n\n  \nb\nc");
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0].number, 1u);
  EXPECT_EQ(lines[0].text, "a");
  EXPECT_EQ(lines[1].number, 4u);
  EXPECT_EQ(lines[2].number, 5u);
  EXPECT_EQ(lines[2].text, "c");
}

}  // namespace
}  // namespace gridhub::webform
