#include "gridhub/hotline/xlsx_reader.hpp"

#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "../../testing/fixtures.hpp"
#include "gridhub/text/csv_reader.hpp"
#include "gridhub/text/datetime.hpp"

namespace gridhub::hotline {
namespace {

using gridhub::fixtures::kFixtureDir;
using gridhub::fixtures::labelled;
using gridhub::fixtures::read_file;

constexpr std::int64_t kMicros = 1'000'000;
const std::string kXlsx = "export_20240606-20240616.xlsx";


const std::string& xlsx_bytes() {
  static const std::string bytes = read_file(kFixtureDir + "hotline/" + kXlsx);
  return bytes;
}

ParseOutput parse_fixture(int utc_offset_minutes = 480) {
  ParseOptions options;
  options.adapter_id = "hotline-wugong";
  options.utc_offset_minutes = utc_offset_minutes;
  auto out = parse_xlsx_export(xlsx_bytes(), kXlsx, options);
  EXPECT_TRUE(out.ok()) << (out.ok() ? "" : out.error().message());
  return out.ok() ? std::move(out).value() : ParseOutput{};
}

const v1::Event* find_event(const ParseOutput& out, std::string_view key) {
  for (const auto& e : out.events) {
    if (e.source_key() == key) return &e;
  }
  return nullptr;
}


std::int64_t local_micros(int y, unsigned mo, unsigned d, int h, int mi, int s, int offset_minutes) {
  return ((text::days_from_civil(y, mo, d) * 86400) + h * 3600 + mi * 60 + s - offset_minutes * 60) * kMicros;
}

TEST(XlsxExport, YieldsExactlyTheLabelledKeysWithMalformedRowsRejected) {
  const auto expected = labelled("hotline", "hotline/" + kXlsx);
  ASSERT_FALSE(expected.empty());
  const ParseOutput out = parse_fixture();
  EXPECT_EQ(out.encoding, "utf-8");
  EXPECT_EQ(out.data_rows, out.events.size());

  std::map<std::string, bool> got;
  for (const auto& event : out.events) {
    EXPECT_TRUE(got.emplace(event.source_key(), event.has_rejection()).second) << "duplicate " << event.source_key();
    if (event.has_rejection()) {
      EXPECT_EQ(event.rejection().field(), "来电时间") << event.source_key();
      EXPECT_TRUE(event.rejection().location().starts_with(kXlsx + ":新工单!R")) << event.rejection().location();
    }
  }
  EXPECT_EQ(got, expected);
  std::size_t malformed = 0;
  for (const auto& [key, bad] : expected) malformed += bad ? 1 : 0;
  EXPECT_EQ(out.rejected_rows, malformed);
}

TEST(XlsxExport, DateCellsAreLocalTimeAtTheConfiguredOffset) {
  auto sheet = read_xlsx_sheet(xlsx_bytes());
  ASSERT_TRUE(sheet.ok()) << sheet.error().message();
  EXPECT_EQ(sheet->name, "新工单");
  ASSERT_GE(sheet->rows.size(), 2u);
  EXPECT_EQ(sheet->rows[0].row_number, 1u);
  EXPECT_EQ(sheet->rows[0].cells.at(1), "来电时间");
  // B2 holds the serial 45449.31949074 with numFmt yyyy-mm-dd hh:mm:ss.
  EXPECT_EQ(sheet->rows[1].row_number, 2u);
  EXPECT_EQ(sheet->rows[1].cells.at(1), "2024-06-06 07:40:04");

  const ParseOutput cst = parse_fixture(480);
  const v1::Event* e = find_event(cst, "GD202406060003");
  ASSERT_NE(e, nullptr);
  EXPECT_FALSE(e->has_rejection());
  EXPECT_EQ(e->fields().reported_at().unix_micros(), local_micros(2024, 6, 6, 7, 40, 4, 480));
  EXPECT_EQ(e->fields().reported_at().utc_offset_minutes(), 480);

  const ParseOutput utc = parse_fixture(0);
  const v1::Event* u = find_event(utc, "GD202406060003");
  ASSERT_NE(u, nullptr);
  EXPECT_EQ(u->fields().reported_at().unix_micros(), local_micros(2024, 6, 6, 7, 40, 4, 0));
}

TEST(XlsxExport, NumericPhoneCellKeepsAllDigits) {
  auto sheet = read_xlsx_sheet(xlsx_bytes(), "新工单");
  ASSERT_TRUE(sheet.ok()) << sheet.error().message();
  const XlsxRow* row7 = nullptr;
  for (const auto& row : sheet->rows) {
    if (row.row_number == 7) row7 = &row;
  }
  ASSERT_NE(row7, nullptr);
  EXPECT_EQ(row7->cells.at(3), "13760230009");  // D7 is <c r="D7"><v>13760230009</v></c>, no type

  const ParseOutput out = parse_fixture();
  const v1::Event* e = find_event(out, row7->cells.at(0));
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->fields().reporter_phone(), "13760230009");
  EXPECT_FALSE(e->has_rejection());
}

TEST(XlsxExport, EmptyAndTextDateCellsAreRejectedBySheetAndRow) {
  const ParseOutput out = parse_fixture();
  const v1::Event* empty = find_event(out, "GD202406140003");
  ASSERT_NE(empty, nullptr);
  ASSERT_TRUE(empty->has_rejection());
  EXPECT_EQ(empty->rejection().reason_code(), kReasonBadDate);
  EXPECT_EQ(empty->rejection().field(), "来电时间");
  EXPECT_EQ(empty->rejection().location(), kXlsx + ":新工单!R60");
  EXPECT_FALSE(empty->fields().has_reported_at());
  // The other fields are still read, so the dead letter is useful.
  EXPECT_EQ(empty->fields().reporter_name(), "谢先生");

  const v1::Event* text_date = find_event(out, "GD202406090006");  // a string cell "2024-06-40 11:22:26"
  ASSERT_NE(text_date, nullptr);
  ASSERT_TRUE(text_date->has_rejection());
  EXPECT_EQ(text_date->rejection().reason_code(), kReasonBadDate);
  EXPECT_EQ(text_date->rejection().location(), kXlsx + ":新工单!R23");
}

TEST(XlsxExport, EventsCarryTheRowAsCsvAndHotlineProvenance) {
  const ParseOutput out = parse_fixture();
  const v1::Event* e = find_event(out, "GD202406060003");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->channel(), v1::CHANNEL_HOTLINE);
  EXPECT_EQ(e->adapter_id(), "hotline-wugong");
  EXPECT_EQ(e->source_name(), kXlsx);
  EXPECT_EQ(e->content_type(), "text/csv; charset=utf-8");
  EXPECT_TRUE(e->original_payload().starts_with("GD202406060003,2024-06-06 07:40:04,宋先生,15825505293,电话,求助,,"))
      << e->original_payload();
  EXPECT_EQ(e->fields().remark(), "来电人要求保密");
  EXPECT_EQ(e->fields().category_hint(), "");  // G2 is absent: an empty optional column
}

TEST(XlsxExport, NotAWorkbookIsAFileErrorNamingTheFile) {
  auto out = parse_xlsx_export("工单编号,来电时间\n", "export.xlsx", ParseOptions{});
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().code, make_error_code(Errc::malformed_frame));
  EXPECT_NE(out.error().detail.find("export.xlsx"), std::string::npos) << out.error().detail;

  auto truncated = parse_xlsx_export(xlsx_bytes().substr(0, xlsx_bytes().size() / 2), "cut.xlsx", ParseOptions{});
  ASSERT_FALSE(truncated.ok());
  EXPECT_NE(truncated.error().detail.find("cut.xlsx"), std::string::npos) << truncated.error().detail;
}

TEST(XlsxExport, DamagedArchivesAreFileErrorsNotCrashes) {
  std::string damaged = xlsx_bytes();
  for (std::size_t at = 0; at < damaged.size(); at += 61) {
    damaged[at] = static_cast<char>(damaged[at] ^ 0x5A);
    // Either the damage hit something unused, or it is reported; both are fine, a crash is not.
    auto out = parse_xlsx_export(damaged, "damaged.xlsx", ParseOptions{});
    if (!out.ok()) {
      EXPECT_NE(out.error().detail.find("damaged.xlsx"), std::string::npos);
    }
  }
}

TEST(XlsxExport, UnknownSheetIsAFileErrorListingTheSheets) {
  auto out = parse_xlsx_export(xlsx_bytes(), kXlsx, ParseOptions{}, "Sheet1");
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().code, make_error_code(Errc::missing_field));
  EXPECT_NE(out.error().detail.find("新工单"), std::string::npos) << out.error().detail;
}

TEST(XlsxExport, RowAsCsvQuotesOnlyWhereNeeded) {
  const std::vector<std::string> cells{"a", "", "b,c", "say \"hi\"", "two\nlines"};
  EXPECT_EQ(xlsx_row_as_csv(cells), "a,,\"b,c\",\"say \"\"hi\"\"\",\"two\nlines\"");
}

}  // namespace
}  // namespace gridhub::hotline
