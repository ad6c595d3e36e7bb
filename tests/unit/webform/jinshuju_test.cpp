#include "gridhub/webform/jinshuju.hpp"

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




const FieldMap& wugong_map() {
  static const FieldMap map = [] {
    auto m = FieldMap::from_json(read_file(kFixtureDir + "webform/field_map.json"), "field_map.json");
    EXPECT_TRUE(m.ok()) << (m.ok() ? "" : m.error().message());
    return m.ok() ? std::move(m).value() : FieldMap{};
  }();
  return map;
}

std::vector<KeyedEvent> parse_fixture() {
  JinshujuOptions options;
  options.adapter_id = "webform-jinshuju";
  return parse_jinshuju_file(read_file(kFixtureDir + "webform/jinshuju_push.jsonl"), wugong_map(),
                             "jinshuju_push.jsonl", options);
}

const KeyedEvent* find(const std::vector<KeyedEvent>& events, std::string_view source_key) {
  for (const auto& rec : events) {
    if (rec.event.source_key() == source_key) return &rec;
  }
  return nullptr;
}

TEST(Jinshuju, FixtureYieldsExactlyTheLabelledSerialNumbersWithTruncatedLinesRejected) {
  const auto expected = labelled("webform", "webform/jinshuju_push.jsonl");
  ASSERT_FALSE(expected.empty());
  const auto events = parse_fixture();
  std::map<std::string, bool> got;
  for (const auto& rec : events) {
    EXPECT_TRUE(got.emplace(rec.record_key, rec.event.has_rejection()).second) << "duplicate " << rec.record_key;
    if (rec.event.has_rejection()) {
      EXPECT_EQ(rec.event.rejection().reason_code(), kReasonBadJson) << rec.record_key;
      EXPECT_TRUE(rec.event.rejection().location().starts_with("jinshuju_push.jsonl:"));
    }
  }
  EXPECT_EQ(got, expected);
}

TEST(Jinshuju, OptionCodesBecomeLabelsAndFieldsLandInTheirSlots) {
  const auto events = parse_fixture();
  const KeyedEvent* rec = find(events, "Xk3pQv:1146");
  ASSERT_NE(rec, nullptr);
  EXPECT_EQ(rec->record_key, "1146");
  const v1::Event& e = rec->event;
  EXPECT_FALSE(e.has_rejection());
  EXPECT_EQ(e.channel(), v1::CHANNEL_WEBFORM);
  EXPECT_EQ(e.content_type(), "application/json");
  const auto& f = e.fields();
  EXPECT_EQ(f.reporter_name(), "韩伟浩");
  EXPECT_EQ(f.reporter_phone(), "02938723531");
  EXPECT_EQ(f.category_hint(), "社会救助与养老");  // Yt6P
  EXPECT_EQ(f.community_hint(), "瑞丰社区");        // 5PdH
  EXPECT_EQ(f.address_text(), "普集街道");
  EXPECT_EQ(f.text(), "想给泰和小区15-3-401的老人申请居家养老服务，麻烦社区给看看。");
  EXPECT_EQ(f.intake_channel_detail(), "普集街道民生诉求随手拍");
  EXPECT_EQ(f.extra().at("media_urls"),
            "https://example.invalid/jinshuju/uploads/e36350151f7b1069.jpg\n"
            "https://example.invalid/jinshuju/uploads/3bc718407b2dff95.jpg\n"
            "https://example.invalid/jinshuju/uploads/02db9d18d77ceb08.jpg");
  EXPECT_EQ(f.extra().at("wants_reply"), "不需要回复");
  EXPECT_EQ(f.extra().at("info_platform"), "Weixin");
  EXPECT_EQ(f.extra().count("info_remote_ip"), 0u);
  // 2024-05-06T03:38:39.823Z
  EXPECT_EQ(f.reported_at().unix_micros(), 1714966719823000LL);
  EXPECT_EQ(f.reported_at().utc_offset_minutes(), 0);
}

TEST(Jinshuju, SecondFormUsesItsOwnLayout) {
  const auto events = parse_fixture();
  const KeyedEvent* rec = find(events, "Tm8wZr:224");
  ASSERT_NE(rec, nullptr);
  const auto& f = rec->event.fields();
  EXPECT_TRUE(f.text().starts_with("陕西省咸阳市武功县普集街道麦香社区")) << f.text();
  EXPECT_EQ(f.reporter_phone(), "02939502408");
  EXPECT_EQ(f.reporter_name(), "冯先生");
  EXPECT_EQ(f.address_text(), "");  // field_2 is ""
  EXPECT_EQ(f.community_hint(), "");
}

TEST(Jinshuju, TruncatedPushKeepsFormAndSerialNumber) {
  const auto events = parse_fixture();
  const KeyedEvent* rec = find(events, "Xk3pQv:1149");
  ASSERT_NE(rec, nullptr);
  EXPECT_EQ(rec->record_key, "1149");
  ASSERT_TRUE(rec->event.has_rejection());
  EXPECT_EQ(rec->event.rejection().reason_code(), kReasonBadJson);
  EXPECT_EQ(rec->event.rejection().location(), "jinshuju_push.jsonl:5");
  EXPECT_FALSE(rec->event.original_payload().empty());

  // A serial number cut by the truncation is not guessed at.
  const KeyedEvent cut = parse_jinshuju_push(R"({"form":"Xk3pQv","entry":{"serial_number":11)", wugong_map(),
                                             "POST /jinshuju", 0, JinshujuOptions{});
  EXPECT_EQ(cut.record_key, "POST /jinshuju");
  EXPECT_EQ(cut.event.rejection().location(), "POST /jinshuju");
}

TEST(Jinshuju, NullChoiceIsLeftEmptyAndUnknownCodeIsKept) {
  const KeyedEvent rec = parse_jinshuju_push(
      R"({"form":"Xk3pQv","form_name":"x","entry":{"serial_number":9,"field_3":"zzzz","field_4":null,"field_6":"灯坏了","field_99":"?","created_at":"2024-05-06T03:38:39Z"}})",
      wugong_map(), "POST /jinshuju", 0, JinshujuOptions{});
  EXPECT_FALSE(rec.event.has_rejection()) << rec.event.rejection().detail();
  EXPECT_EQ(rec.event.fields().category_hint(), "zzzz");
  EXPECT_EQ(rec.event.fields().community_hint(), "");
  EXPECT_EQ(rec.event.fields().extra().at("field_99"), "?");
}

TEST(Jinshuju, RecordProblemsAreRejectedByField) {
  const KeyedEvent unknown = parse_jinshuju_push(
      R"({"form":"Other","entry":{"serial_number":1,"created_at":"2024-05-06T03:38:39Z"}})", wugong_map(), "p", 3,
      JinshujuOptions{});
  EXPECT_EQ(unknown.event.rejection().reason_code(), kReasonUnknownForm);
  EXPECT_EQ(unknown.event.rejection().field(), "form");
  EXPECT_EQ(unknown.event.rejection().location(), "p:3");
  EXPECT_EQ(unknown.event.source_key(), "Other:1");

  const KeyedEvent bad_time = parse_jinshuju_push(
      R"({"form":"Tm8wZr","entry":{"serial_number":2,"created_at":"yesterday"}})", wugong_map(), "p", 4,
      JinshujuOptions{});
  EXPECT_EQ(bad_time.event.rejection().reason_code(), kReasonBadDate);
  EXPECT_EQ(bad_time.event.rejection().field(), "created_at");

  const KeyedEvent no_serial = parse_jinshuju_push(R"({"form":"Tm8wZr","entry":{"created_at":"2024-05-06T03:38:39Z"}})",
                                                   wugong_map(), "p", 5, JinshujuOptions{});
  EXPECT_EQ(no_serial.event.rejection().field(), "serial_number");
  EXPECT_EQ(no_serial.event.source_key(), "p:5");
}

TEST(FieldMap, ErrorsNameTheFileAndKeyPath) {
  auto no_canonical = FieldMap::from_json(R"({"forms":{"F1":{"fields":{"field_1":{"label":"x"}}}}})", "map.json");
  ASSERT_FALSE(no_canonical.ok());
  EXPECT_EQ(no_canonical.error().code, make_error_code(Errc::config_invalid));
  EXPECT_NE(no_canonical.error().detail.find("map.json: forms.F1.fields.field_1.canonical"), std::string::npos)
      << no_canonical.error().detail;

  auto bad_option = FieldMap::from_json(
      R"({"forms":{"F1":{"fields":{"field_1":{"canonical":"category_hint","options":{"a":1}}}}}})", "map.json");
  ASSERT_FALSE(bad_option.ok());
  EXPECT_NE(bad_option.error().detail.find("forms.F1.fields.field_1.options.a"), std::string::npos);

  EXPECT_FALSE(FieldMap::from_json("{", "map.json").ok());
  EXPECT_EQ(wugong_map().forms().size(), 2u);
  ASSERT_NE(wugong_map().form("Xk3pQv"), nullptr);
  EXPECT_EQ(wugong_map().form("Xk3pQv")->fields.at("field_4").options.at("AQTi"), "麦香社区");
}

}  // namespace
}  // namespace gridhub::webform
