#include "gridhub/text/text_decode.hpp"

#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

namespace gridhub::text {
namespace {

std::string read_fixture(const std::string& relative) {
  std::ifstream in(std::string(GRIDHUB_SOURCE_DIR) + "/" + relative, std::ios::binary);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

bool is_decode_failed(const Error& e) { return e.code == make_error_code(Errc::decode_failed); }

TEST(TextDecode, AutoStripsUtf8BomAndReportsIt) {
  auto r = decode_text("\xEF\xBB\xBF工单编号,来电时间", "auto");
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(r->utf8, "工单编号,来电时间");
  EXPECT_EQ(r->encoding_used, "utf-8");
  EXPECT_TRUE(r->had_bom);
}

TEST(TextDecode, AutoKeepsValidUtf8WithoutBom) {
  auto r = decode_text("诉求内容,备注\r\n", "auto");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->utf8, "诉求内容,备注\r\n");
  EXPECT_EQ(r->encoding_used, "utf-8");
  EXPECT_FALSE(r->had_bom);
}

TEST(TextDecode, AutoFallsBackToGb18030ForGbkBytes) {
  auto r = decode_text("\xB9\xA4\xB5\xA5,ok", "auto");  // 工单 in GBK
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(r->utf8, "工单,ok");
  EXPECT_EQ(r->encoding_used, "gb18030");
}

TEST(TextDecode, Gb18030DecodesCharactersOutsideGbk) {
  // 䶮 (U+4DAE, FE 9F), 𠮷 (U+20BB7, 4-byte 95 34 B2 35, beyond the BMP), 䶵 (U+4DB5, 4-byte 82 35 87 38).
  auto r = decode_text("\xD5\xD4\xFE\x9F \xB3\xC2\x95\x34\xB2\x35 \x82\x35\x87\x38", "gb18030");
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(r->utf8, "赵䶮 陈𠮷 䶵");
}

TEST(TextDecode, Gb18030FixtureFileDecodesRareNameCharacters) {
  const std::string bytes = read_fixture("examples/wugong/hotline/export_20240506-20240516.csv");
  ASSERT_FALSE(bytes.empty());
  auto r = decode_text(bytes, "auto");
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(r->encoding_used, "gb18030");
  EXPECT_TRUE(r->utf8.starts_with("工单编号,来电时间,来电人"));
  EXPECT_NE(r->utf8.find("赵䶮"), std::string::npos);
  EXPECT_NE(r->utf8.find("陈𠮷"), std::string::npos);
  EXPECT_TRUE(is_valid_utf8(r->utf8));
}

TEST(TextDecode, Gb18030BomIsStripped) {
  auto r = decode_text("\x84\x31\x95\x33\xB9\xA4", "gb18030");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->utf8, "工");
  EXPECT_TRUE(r->had_bom);
}

TEST(TextDecode, UndecodableGb18030NamesTheByteOffset) {
  auto r = decode_text("abc\xFF\xFFxyz", "gb18030");
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(is_decode_failed(r.error()));
  EXPECT_NE(r.error().detail.find("byte offset 3"), std::string::npos) << r.error().detail;
}

TEST(TextDecode, TruncatedGb18030SequenceAtEndIsAnError) {
  auto r = decode_text("ab\x81", "gb18030");
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(is_decode_failed(r.error()));
  EXPECT_NE(r.error().detail.find("byte offset 2"), std::string::npos) << r.error().detail;
}

TEST(TextDecode, AutoReportsBytesThatAreNeitherEncoding) {
  auto r = decode_text("\xB9\xA4\xFF", "auto");
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(is_decode_failed(r.error()));
  EXPECT_NE(r.error().detail.find("byte offset 2"), std::string::npos) << r.error().detail;
}

TEST(TextDecode, DeclaredUtf8RejectsInvalidBytesWithOffset) {
  auto r = decode_text("ok\xB9\xA4", "UTF-8");
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(is_decode_failed(r.error()));
  EXPECT_NE(r.error().detail.find("byte offset 2"), std::string::npos) << r.error().detail;
}

TEST(TextDecode, UnknownEncodingIsBadValue) {
  auto r = decode_text("abc", "latin-9");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, make_error_code(Errc::bad_value));
}

TEST(TextDecode, EmptyInputIsEmptyUtf8) {
  auto r = decode_text("", "auto");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->utf8, "");
}

TEST(IsValidUtf8, AcceptsAllSequenceLengths) {
  EXPECT_TRUE(is_valid_utf8("a é 工 𠮷"));
  EXPECT_TRUE(is_valid_utf8(""));
}

TEST(IsValidUtf8, RejectsOverlongSurrogateOutOfRangeAndTruncated) {
  EXPECT_FALSE(is_valid_utf8("\xC0\xAF"));          // overlong '/'
  EXPECT_FALSE(is_valid_utf8("\xE0\x80\xAF"));      // overlong
  EXPECT_FALSE(is_valid_utf8("\xED\xA0\x80"));      // U+D800 surrogate
  EXPECT_FALSE(is_valid_utf8("\xF4\x90\x80\x80"));  // above U+10FFFF
  EXPECT_FALSE(is_valid_utf8("\xE5\xB7"));          // truncated 工
  EXPECT_FALSE(is_valid_utf8("\x80"));              // lone continuation byte
  EXPECT_EQ(find_invalid_utf8("工\xFF"), 3u);
}

}  // namespace
}  // namespace gridhub::text
