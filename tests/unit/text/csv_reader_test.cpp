#include "gridhub/text/csv_reader.hpp"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace gridhub::text {
namespace {

using Fields = std::vector<std::string>;

std::vector<CsvRecord> read_all(std::string_view text) {
  CsvReader reader(text);
  std::vector<CsvRecord> out;
  CsvRecord rec;
  while (reader.next(rec)) out.push_back(rec);
  return out;
}

TEST(CsvReader, SplitsSimpleRecordsWithLfAndCrlf) {
  for (std::string_view text : {"a,b,c\n1,2,3\n", "a,b,c\r\n1,2,3\r\n", "a,b,c\n1,2,3"}) {
    auto recs = read_all(text);
    ASSERT_EQ(recs.size(), 2u) << text;
    EXPECT_EQ(recs[0].fields, (Fields{"a", "b", "c"}));
    EXPECT_EQ(recs[1].fields, (Fields{"1", "2", "3"}));
    EXPECT_EQ(recs[0].line, 1u);
    EXPECT_EQ(recs[1].line, 2u);
    EXPECT_EQ(recs[1].raw, "1,2,3");  // the terminator is not part of the record
    EXPECT_FALSE(recs[1].error);
  }
}

TEST(CsvReader, QuotedFieldKeepsCommasQuotesAndNewlines) {
  const std::string_view text =
      "key,text,addr\r\n"
      "GD1,\"第一行,有逗号\n补充说明：\"\"引号\"\"\",东门\r\n"
      "GD2,plain,西门\r\n";
  auto recs = read_all(text);
  ASSERT_EQ(recs.size(), 3u);
  EXPECT_EQ(recs[1].fields, (Fields{"GD1", "第一行,有逗号\n补充说明：\"引号\"", "东门"}));
  EXPECT_EQ(recs[1].line, 2u);
  EXPECT_EQ(recs[1].raw, "GD1,\"第一行,有逗号\n补充说明：\"\"引号\"\"\",东门");
  // The record after a two-line record starts on line 4, not 3.
  EXPECT_EQ(recs[2].line, 4u);
  EXPECT_EQ(recs[2].fields, (Fields{"GD2", "plain", "西门"}));
}

TEST(CsvReader, CrlfInsideQuotesIsKeptAndCountedOnce) {
  auto recs = read_all("\"a\r\nb\",x\r\nnext,y\r\n");
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(recs[0].fields[0], "a\r\nb");
  EXPECT_EQ(recs[1].line, 3u);
}

TEST(CsvReader, EmptyFieldsAndTrailingComma) {
  auto recs = read_all("a,,\"\",\n");
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(recs[0].fields, (Fields{"a", "", "", ""}));
}

TEST(CsvReader, BlankLinesAreSkippedButCounted) {
  auto recs = read_all("h1,h2\n\n\r\nv1,v2\n\n");
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(recs[1].line, 4u);
  EXPECT_EQ(recs[1].fields, (Fields{"v1", "v2"}));
}

// The quote never closes: its record is its own line (reported there), and the rows after it are
// read as rows. (Until this reader resynchronised, the record ran to the end of the file.)
TEST(CsvReader, UnterminatedQuoteIsReportedOnItsLineAndReadingGoesOn) {
  auto recs = read_all("h1,h2\nok,1\nbad,\"never closed\nstill,inside\n");
  ASSERT_EQ(recs.size(), 4u);
  EXPECT_FALSE(recs[1].error);
  EXPECT_TRUE(recs[2].error);
  EXPECT_EQ(recs[2].line, 3u);
  EXPECT_NE(recs[2].error_message.find("line 3"), std::string::npos) << recs[2].error_message;
  EXPECT_EQ(recs[2].fields, (Fields{"bad", "\"never closed"}));
  EXPECT_EQ(recs[2].raw, "bad,\"never closed");
  EXPECT_FALSE(recs[3].error);
  EXPECT_EQ(recs[3].line, 4u);
  EXPECT_EQ(recs[3].fields, (Fields{"still", "inside"}));
}

TEST(CsvReader, StrayQuoteEarlyInALongFileCostsOnlyItsOwnLine) {
  std::string text = "key,text,n\nK0,\"stray quote,0\n";
  for (int i = 1; i <= 1000; ++i) text += "K" + std::to_string(i) + ",row " + std::to_string(i) + "," + std::to_string(i) + "\n";
  auto recs = read_all(text);
  ASSERT_EQ(recs.size(), 1002u);
  EXPECT_TRUE(recs[1].error);
  EXPECT_EQ(recs[1].line, 2u);
  EXPECT_EQ(recs[1].raw, "K0,\"stray quote,0");
  EXPECT_EQ(recs[1].fields.at(0), "K0");
  for (std::size_t i = 2; i < recs.size(); ++i) {
    ASSERT_FALSE(recs[i].error) << i;
    EXPECT_EQ(recs[i].line, i + 1);
    EXPECT_EQ(recs[i].fields.at(0), "K" + std::to_string(i - 1));
  }
}

// A later row's quoted cell closes the stray quote: caught because text is glued to the closing quote.
TEST(CsvReader, StrayQuoteClosedByALaterRowsQuoteIsCaught) {
  auto recs = read_all("k,t,n\nA,\"stray,1\nB,\"quoted\",2\nC,x,3\n");
  ASSERT_EQ(recs.size(), 4u);
  EXPECT_TRUE(recs[1].error);
  EXPECT_EQ(recs[1].line, 2u);
  EXPECT_EQ(recs[2].line, 3u);
  EXPECT_FALSE(recs[2].error);
  EXPECT_EQ(recs[2].fields, (Fields{"B", "quoted", "2"}));
  EXPECT_EQ(recs[3].fields, (Fields{"C", "x", "3"}));
}

// ... or because the record it makes has the wrong width, once the reader knows the header's.
TEST(CsvReader, StrayQuoteMakingAWrongWidthRecordIsCaughtWithExpectedFields) {
  const std::string_view text = "k,t,n\nA,\"stray,1\nB,2,\"x\"\nC,x,3\n";
  CsvReader reader(text);
  CsvRecord rec;
  ASSERT_TRUE(reader.next(rec));
  reader.expect_fields(rec.size());
  std::vector<CsvRecord> recs;
  while (reader.next(rec)) recs.push_back(rec);
  ASSERT_EQ(recs.size(), 3u);
  EXPECT_TRUE(recs[0].error);
  EXPECT_EQ(recs[0].line, 2u);
  EXPECT_EQ(recs[1].fields, (Fields{"B", "2", "x"}));
  EXPECT_EQ(recs[1].line, 3u);
  EXPECT_EQ(recs[2].line, 4u);
}

TEST(CsvReader, RealMultiLineCellsOfTheRightWidthStayOneRecord) {
  const std::string_view text = "k,t,n\nA,\"two\nlines\",1\nB,x,2\n";
  CsvReader reader(text);
  CsvRecord rec;
  ASSERT_TRUE(reader.next(rec));
  reader.expect_fields(rec.size());
  ASSERT_TRUE(reader.next(rec));
  EXPECT_FALSE(rec.error);
  EXPECT_EQ(rec.fields, (Fields{"A", "two\nlines", "1"}));
  ASSERT_TRUE(reader.next(rec));
  EXPECT_EQ(rec.line, 4u);
}

TEST(CsvReader, QuotedFieldLongerThanACellCanHoldIsAStrayQuote) {
  const std::string text = "k,t\nA,\"" + std::string(CsvReader::kMaxQuotedFieldBytes + 100, 'x') + "\nend\",1\nB,2\n";
  auto recs = read_all(text);
  ASSERT_EQ(recs.size(), 4u);
  EXPECT_TRUE(recs[1].error);
  EXPECT_EQ(recs[1].line, 2u);
  EXPECT_NE(recs[1].error_message.find("128 KiB"), std::string::npos) << recs[1].error_message;
  EXPECT_EQ(recs[2].line, 3u);
  EXPECT_EQ(recs[3].fields, (Fields{"B", "2"}));
  EXPECT_EQ(recs[3].line, 4u);
}

TEST(CsvReader, EmptyTextHasNoRecords) {
  EXPECT_TRUE(read_all("").empty());
  EXPECT_TRUE(read_all("\r\n\n").empty());
}

TEST(CsvReader, ReusedRecordDoesNotKeepStaleFields) {
  CsvReader reader("a,b,c,d\nx\n\"q\",\n");
  CsvRecord rec;
  ASSERT_TRUE(reader.next(rec));
  EXPECT_EQ(rec.size(), 4u);
  ASSERT_TRUE(reader.next(rec));
  EXPECT_EQ(rec.fields, (Fields{"x"}));
  ASSERT_TRUE(reader.next(rec));
  EXPECT_EQ(rec.fields, (Fields{"q", ""}));
  EXPECT_FALSE(reader.next(rec));
}

TEST(CsvReader, TextAfterClosingQuoteIsKeptLikeSpreadsheets) {
  auto recs = read_all("\"ab\"cd,e\n");
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(recs[0].fields, (Fields{"abcd", "e"}));
}

}  // namespace
}  // namespace gridhub::text
