#include "gridhub/adapter/drop_folder.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>

#include "../../testing/temp_dir.hpp"

namespace gridhub::adapter {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

const std::vector<std::string> kExt = {".csv", ".xlsx"};

TEST(DropFolder, OnlyFinishedExportNamesAreCandidates) {
  EXPECT_TRUE(is_drop_candidate("export.csv", kExt));
  EXPECT_TRUE(is_drop_candidate("EXPORT.XLSX", kExt));
  EXPECT_FALSE(is_drop_candidate("export.csv.part", kExt));
  EXPECT_FALSE(is_drop_candidate("export.csv.tmp", kExt));
  EXPECT_FALSE(is_drop_candidate(".export.csv", kExt));        // rsync and many tools write dotfiles first
  EXPECT_FALSE(is_drop_candidate("~$export.xlsx", kExt));      // an Excel lock file
  EXPECT_FALSE(is_drop_candidate("export.csv.report.txt", kExt));
  EXPECT_FALSE(is_drop_candidate("notes.docx", kExt));
}

TEST(DropFolder, AFileIsReadyOnlyAfterItsSizeAndTimeHoldStillForTheSettlePeriod) {
  testing::TempDir dir;
  DropFolderScanner scanner({dir.path(), kExt, std::chrono::milliseconds(100), std::chrono::milliseconds(1000)});
  const auto f = dir.write("a.csv", "header\n");
  dir.write("b.csv.part", "header\n");
  EXPECT_THAT(scanner.scan(0), IsEmpty());       // first sight starts the settle period
  EXPECT_THAT(scanner.scan(999), IsEmpty());
  {
    std::ofstream out(f, std::ios::app);         // the writer appends: the period starts again
    out << "row 1\n";
  }
  EXPECT_THAT(scanner.scan(1000), IsEmpty());
  EXPECT_THAT(scanner.scan(1999), IsEmpty());
  EXPECT_THAT(scanner.scan(2000), ElementsAre(f));
  // A failed attempt waits a full settle period again; .part files are never ready.
  scanner.forget(f);
  EXPECT_THAT(scanner.scan(2000), IsEmpty());
  EXPECT_THAT(scanner.scan(3000), ElementsAre(f));
  // A file that could not be moved away is held until it changes.
  scanner.hold(f);
  EXPECT_THAT(scanner.scan(9000), IsEmpty());
  {
    std::ofstream out(f, std::ios::app);
    out << "row 2\n";
  }
  EXPECT_THAT(scanner.scan(9001), IsEmpty());
  EXPECT_THAT(scanner.scan(10001), ElementsAre(f));
}

TEST(DropFolder, MovesNeverOverwriteAndReportsNameRecordsAndFields) {
  testing::TempDir dir;
  const auto done = dir.path() / "done";
  std::filesystem::create_directories(done);
  auto first = move_into(dir.write("x.csv", "1"), done);
  auto second = move_into(dir.write("x.csv", "2"), done);
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(first.value(), done / "x.csv");
  EXPECT_EQ(second.value(), done / "x-2.csv");

  FileOutcome o;
  o.file = "/in/x.csv";
  o.records = 3;
  o.queued = 3;
  o.rejected.push_back({"x.csv:4", "bad_date", "来电时间", "'2024-13-01' is not a date"});
  EXPECT_FALSE(o.failed());
  const auto r = format_report(o, "done", 2, 0, 1);
  EXPECT_THAT(r, HasSubstr("records read: 3\n"));
  EXPECT_THAT(r, HasSubstr("records rejected: 1\n"));
  EXPECT_THAT(r, HasSubstr("hub accepted: 2\n"));
  EXPECT_THAT(r, HasSubstr("rejected x.csv:4: bad_date in '来电时间'"));
  o.rejected.resize(3, o.rejected[0]);
  EXPECT_TRUE(o.failed());   // nothing importable
}

}  // namespace
}  // namespace gridhub::adapter
