#include "gridhub/hotline/hotline_mapping.hpp"

#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "../../testing/fixtures.hpp"
#include "gridhub/text/csv_reader.hpp"

namespace gridhub::hotline {
namespace {

using gridhub::fixtures::kFixtureDir;
using gridhub::fixtures::labelled;
using gridhub::fixtures::read_file;

constexpr std::int64_t kMicros = 1'000'000;


ParseOptions wugong_options() {
  ParseOptions options;
  options.adapter_id = "hotline-wugong";
  return options;
}

ParseOutput parse_fixture(const std::string& file) {
  const std::string bytes = read_file(kFixtureDir + "hotline/" + file);
  EXPECT_FALSE(bytes.empty()) << file;
  auto out = parse_export(bytes, file, wugong_options());
  EXPECT_TRUE(out.ok()) << (out.ok() ? "" : out.error().message());
  return out.ok() ? std::move(out).value() : ParseOutput{};
}

const v1::Event* find_event(const ParseOutput& out, std::string_view key) {
  for (const auto& e : out.events) {
    if (e.source_key() == key) return &e;
  }
  return nullptr;
}


class WugongExport : public ::testing::TestWithParam<const char*> {};

TEST_P(WugongExport, YieldsExactlyTheLabelledKeysWithMalformedRowsRejected) {
  const std::string file = GetParam();
  const auto labels = labelled("hotline", "hotline/" + std::string(file));
  ASSERT_FALSE(labels.empty());
  const ParseOutput out = parse_fixture(file);

  EXPECT_EQ(out.data_rows, labels.size());
  EXPECT_EQ(out.events.size(), labels.size());
  std::map<std::string, int> seen;
  std::size_t malformed = 0;
  for (const auto& event : out.events) {
    ++seen[event.source_key()];
    const auto label = labels.find(event.source_key());
    ASSERT_NE(label, labels.end()) << "unlabelled key " << event.source_key();
    EXPECT_EQ(event.has_rejection(), label->second) << event.source_key();
    if (event.has_rejection()) {
      ++malformed;
      EXPECT_TRUE(event.rejection().location().starts_with(file + ":")) << event.rejection().location();
      EXPECT_FALSE(event.rejection().reason_code().empty());
      // Rejections end up in logs and the dead-letter table: no names or phone numbers.
      EXPECT_EQ(event.rejection().detail().find(event.fields().reporter_name()), std::string::npos);
      if (!event.fields().reporter_phone().empty()) {
        EXPECT_EQ(event.rejection().detail().find(event.fields().reporter_phone()), std::string::npos);
      }
    }
  }
  for (const auto& [key, is_malformed] : labels) EXPECT_EQ(seen[key], 1) << key;
  EXPECT_EQ(out.rejected_rows, malformed);
}

INSTANTIATE_TEST_SUITE_P(HotlineMapping, WugongExport,
                         ::testing::Values("export_20240506-20240516.csv", "export_20240517-20240526.csv",
                                           "export_20240527-20240605.csv"));

TEST(HotlineMapping, Gb18030ExportKeepsRareNamesAndRejectsBadRowsByLineAndField) {
  const ParseOutput out = parse_fixture("export_20240506-20240516.csv");
  EXPECT_EQ(out.encoding, "gb18030");

  const v1::Event* zhao = find_event(out, "GD202405080023");
  ASSERT_NE(zhao, nullptr);
  EXPECT_EQ(zhao->fields().reporter_name(), "赵䶮");
  const v1::Event* chen = find_event(out, "GD202405100006");
  ASSERT_NE(chen, nullptr);
  EXPECT_EQ(chen->fields().reporter_name(), "陈𠮷");
  EXPECT_EQ(chen->fields().reporter_phone(), "17316565929");  // from "+86 17316565929"
  // "2024/5/10 4:27" at +08:00
  EXPECT_EQ(chen->fields().reported_at().unix_micros(), 1715286420 * kMicros);
  EXPECT_EQ(chen->fields().reported_at().utc_offset_minutes(), 480);

  const v1::Event* bad_day = find_event(out, "GD202405100024");  // 2024/5/32 23:39
  ASSERT_NE(bad_day, nullptr);
  ASSERT_TRUE(bad_day->has_rejection());
  EXPECT_EQ(bad_day->rejection().reason_code(), "bad_date");
  EXPECT_EQ(bad_day->rejection().field(), "来电时间");
  EXPECT_EQ(bad_day->rejection().location(), "export_20240506-20240516.csv:51");
  EXPECT_NE(bad_day->rejection().detail().find("day 32"), std::string::npos);
  EXPECT_FALSE(bad_day->fields().has_reported_at());

  const v1::Event* short_row = find_event(out, "GD202405160015");  // 8 columns
  ASSERT_NE(short_row, nullptr);
  ASSERT_TRUE(short_row->has_rejection());
  EXPECT_EQ(short_row->rejection().reason_code(), "column_count");
  EXPECT_EQ(short_row->rejection().location(), "export_20240506-20240516.csv:97");
  // What could be read is still there for whoever fixes the row.
  EXPECT_EQ(short_row->fields().reporter_name(), "郭女士");
}

TEST(HotlineMapping, EventsCarryChannelProvenanceAndRawRowButNoReceivedAt) {
  const ParseOutput out = parse_fixture("export_20240517-20240526.csv");
  EXPECT_EQ(out.encoding, "utf-8");
  ASSERT_FALSE(out.events.empty());
  const v1::Event& first = out.events.front();
  EXPECT_EQ(first.channel(), v1::CHANNEL_HOTLINE);
  EXPECT_EQ(first.adapter_id(), "hotline-wugong");
  EXPECT_EQ(first.source_name(), "export_20240517-20240526.csv");
  EXPECT_EQ(first.content_type(), "text/csv; charset=utf-8");
  EXPECT_EQ(first.source_key(), "GD202405170002");
  EXPECT_FALSE(first.has_received_at());
  EXPECT_FALSE(first.has_rejection());
  EXPECT_TRUE(first.original_payload().starts_with("GD202405170002,2024-05-17 16:25:28,郑建,"));
  EXPECT_FALSE(first.original_payload().ends_with("\n"));

  const v1::ExtractedFields& f = first.fields();
  EXPECT_EQ(f.reported_at().unix_micros(), 1715934328 * kMicros);  // 2024-05-17 16:25:28 +08:00
  EXPECT_EQ(f.reporter_name(), "郑建");
  EXPECT_EQ(f.reporter_phone(), "18632311291");
  EXPECT_EQ(f.intake_channel_detail(), "电话");
  EXPECT_EQ(f.request_kind(), "咨询");
  EXPECT_EQ(f.category_hint(), "政法/法律服务");
  EXPECT_EQ(f.text(), "来电称：我住盛世新城3栋,想咨询一下交通事故赔偿的问题，谢谢工作人员。来电人要求尽快处理。");
  EXPECT_EQ(f.address_text(), "武功县");
  EXPECT_EQ(f.remark(), "来电人要求上门查看");
  EXPECT_TRUE(f.extra().empty());

  // The test order is a normal event: deciding it is not a ticket is the hub's job.
  const v1::Event* test_order = find_event(out, "GD202405240020");
  ASSERT_NE(test_order, nullptr);
  EXPECT_FALSE(test_order->has_rejection());
  EXPECT_EQ(test_order->fields().text(), "测试工单，请忽略。");
}

TEST(HotlineMapping, MultiLineQuotedFieldsKeepNewlineAndLaterLineNumbersStayRight) {
  const ParseOutput out = parse_fixture("export_20240527-20240605.csv");
  const v1::Event* multi = find_event(out, "GD202405280003");  // starts on line 13, spans 13-14
  ASSERT_NE(multi, nullptr);
  EXPECT_FALSE(multi->has_rejection());
  EXPECT_NE(multi->fields().text().find("处理。\n补充说明：来电人称该问题已持续好几天,曾向社区反映,未解决。"),
            std::string::npos);
  EXPECT_NE(multi->original_payload().find('\n'), std::string::npos);
  EXPECT_EQ(multi->fields().address_text(), "普集街道");  // the column after the quoted one

  // Four two-line records come before it, so this row is on line 97, not 93.
  const v1::Event* free_text_date = find_event(out, "GD202406050012");
  ASSERT_NE(free_text_date, nullptr);
  ASSERT_TRUE(free_text_date->has_rejection());
  EXPECT_EQ(free_text_date->rejection().reason_code(), "bad_date");
  EXPECT_EQ(free_text_date->rejection().field(), "来电时间");
  EXPECT_EQ(free_text_date->rejection().location(), "export_20240527-20240605.csv:97");

  const v1::Event* landline = find_event(out, "GD202405290019");
  ASSERT_NE(landline, nullptr);
  EXPECT_EQ(landline->rejection().reason_code(), "column_count");
  EXPECT_EQ(landline->rejection().location(), "export_20240527-20240605.csv:31");
  EXPECT_EQ(landline->fields().reporter_phone(), "02934913326");
}

constexpr std::string_view kHeader = "工单编号,来电时间,来电人,联系电话,受理渠道,诉求类型,问题分类,诉求内容,事发地址,备注\n";

TEST(HotlineMapping, RowWithoutKeyGetsPositionalKeyAndMissingFieldRejection) {
  const std::string csv = std::string(kHeader) + ",2024-05-17 09:12:33,王某,13800000000,电话,投诉,,路灯坏了,文化街1号,\n";
  auto out = parse_export(csv, "manual.csv", wugong_options());
  ASSERT_TRUE(out.ok());
  ASSERT_EQ(out->events.size(), 1u);
  const v1::Event& e = out->events[0];
  EXPECT_EQ(e.source_key(), "manual.csv:2");
  EXPECT_EQ(e.rejection().reason_code(), "missing_field");
  EXPECT_EQ(e.rejection().field(), "工单编号");
  EXPECT_EQ(e.rejection().location(), "manual.csv:2");
}

TEST(HotlineMapping, EmptyDateAndEmptyTextAreRejected) {
  const std::string csv = std::string(kHeader) +
                          "GD1,,王某,13800000000,电话,投诉,,路灯坏了,文化街1号,\n"
                          "GD2,2024-05-17 09:12:33,王某,13800000000,电话,投诉,,,文化街1号,\n";
  auto out = parse_export(csv, "manual.csv", wugong_options());
  ASSERT_TRUE(out.ok());
  ASSERT_EQ(out->events.size(), 2u);
  EXPECT_EQ(out->events[0].rejection().reason_code(), "bad_date");
  EXPECT_EQ(out->events[0].rejection().field(), "来电时间");
  EXPECT_EQ(out->events[1].rejection().reason_code(), "missing_field");
  EXPECT_EQ(out->events[1].rejection().field(), "诉求内容");
  EXPECT_EQ(out->rejected_rows, 2u);
}

TEST(HotlineMapping, UnterminatedQuoteRejectsTheLastRowAsBadCsv) {
  const std::string csv = std::string(kHeader) +
                          "GD1,2024-05-17 09:12:33,王某,13800000000,电话,投诉,,路灯坏了,文化街1号,\n"
                          "GD2,2024-05-17 10:00:00,李某,13900000000,电话,投诉,,\"没有结束的引号,文化街2号,\n";
  auto out = parse_export(csv, "cut.csv", wugong_options());
  ASSERT_TRUE(out.ok());
  ASSERT_EQ(out->events.size(), 2u);
  EXPECT_FALSE(out->events[0].has_rejection());
  EXPECT_EQ(out->events[1].source_key(), "GD2");
  EXPECT_EQ(out->events[1].rejection().reason_code(), "bad_csv");
  EXPECT_EQ(out->events[1].rejection().location(), "cut.csv:3");
}

TEST(HotlineMapping, CustomColumnMapReadsOtherExportsAndKeepsUnmappedColumnsInExtra) {
  auto columns = ColumnMap::from_config({{"record_key", "编号"},
                                         {"reported_at", "受理时间"},
                                         {"text", "主要内容"},
                                         {"reporter_phone", "来电号码"}});
  ASSERT_TRUE(columns.ok()) << columns.error().message();
  ParseOptions options = wugong_options();
  options.columns = columns.value();
  const std::string csv =
      "编号,受理时间,来电号码,主要内容,承办单位,办结状态\r\n"
      "GD9,2024-06-10T09:12:33+08:00,0086 138-0000-0001,幸福路12号垃圾三天未清运,某街道办事处,\r\n";
  auto out = parse_export(csv, "other.csv", options);
  ASSERT_TRUE(out.ok()) << out.error().message();
  ASSERT_EQ(out->events.size(), 1u);
  const v1::Event& e = out->events[0];
  EXPECT_FALSE(e.has_rejection()) << e.rejection().detail();
  EXPECT_EQ(e.source_key(), "GD9");
  EXPECT_EQ(e.fields().reporter_phone(), "13800000001");
  EXPECT_EQ(e.fields().text(), "幸福路12号垃圾三天未清运");
  EXPECT_EQ(e.fields().reporter_name(), "");  // 来电人 is not in this export
  EXPECT_EQ(e.fields().extra().at("承办单位"), "某街道办事处");
  EXPECT_EQ(e.fields().extra().count("办结状态"), 0u);  // empty cells are not copied
}

TEST(HotlineMapping, MissingRequiredHeaderIsAFileErrorNamingFileAndColumn) {
  auto out = parse_export("工单编号,来电人,诉求内容\nGD1,王某,路灯坏了\n", "old_export.csv", wugong_options());
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().code, make_error_code(Errc::missing_field));
  EXPECT_NE(out.error().detail.find("old_export.csv"), std::string::npos);
  EXPECT_NE(out.error().detail.find("来电时间"), std::string::npos);
  EXPECT_NE(out.error().detail.find("reported_at"), std::string::npos);
}

TEST(HotlineMapping, HandBuiltMapWithoutARequiredColumnIsAFileError) {
  ParseOptions options = wugong_options();
  options.columns.text.clear();
  auto out = parse_export(std::string(kHeader) + "GD1,2024-05-17 09:12:33,,,,,,x,,\n", "x.csv", options);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().code, make_error_code(Errc::missing_field));
  EXPECT_NE(out.error().detail.find("text"), std::string::npos);
}

TEST(HotlineMapping, EmptyFileIsAFileError) {
  auto out = parse_export("", "empty.csv", wugong_options());
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.error().detail.find("empty.csv"), std::string::npos);
  EXPECT_NE(out.error().detail.find("header"), std::string::npos);
}

TEST(HotlineMapping, UndecodableFileIsAFileErrorWithOffset) {
  std::string bytes(kHeader);
  bytes += "GD1,\xFF\xFF";
  auto out = parse_export(bytes, "broken.csv", wugong_options());
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().code, make_error_code(Errc::decode_failed));
  EXPECT_NE(out.error().detail.find("broken.csv"), std::string::npos);
  EXPECT_NE(out.error().detail.find("byte offset"), std::string::npos);
}

TEST(HotlineMapping, HeaderOnlyFileHasNoEvents) {
  auto out = parse_export(kHeader, "none.csv", wugong_options());
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->data_rows, 0u);
  EXPECT_TRUE(out->events.empty());
}

TEST(ColumnMap, DefaultsAreTheWugongHeaders) {
  const ColumnMap map;
  EXPECT_EQ(map.record_key, "工单编号");
  EXPECT_EQ(map.reported_at, "来电时间");
  EXPECT_EQ(map.text, "诉求内容");
  EXPECT_EQ(map.remark, "备注");
  auto from_empty = ColumnMap::from_config({});
  ASSERT_TRUE(from_empty.ok());
  EXPECT_EQ(from_empty->address_text, "事发地址");
}

TEST(ColumnMap, UnknownFieldNameListsKnownOnes) {
  auto map = ColumnMap::from_config({{"caller", "来电人"}});
  ASSERT_FALSE(map.ok());
  EXPECT_EQ(map.error().code, make_error_code(Errc::config_invalid));
  EXPECT_NE(map.error().detail.find("caller"), std::string::npos);
  for (std::string_view name : ColumnMap::field_names()) {
    EXPECT_NE(map.error().detail.find(name), std::string::npos) << name;
  }
}

TEST(ColumnMap, RequiredFieldCannotBeUnmapped) {
  EXPECT_FALSE(ColumnMap::from_config({{"reported_at", ""}}).ok());
  auto optional_off = ColumnMap::from_config({{"remark", ""}});
  ASSERT_TRUE(optional_off.ok());
  EXPECT_EQ(optional_off->remark, "");
}

}  // namespace
}  // namespace gridhub::hotline
