// gridhub-hotline --watch with real processes: files dropped into a folder reach the hub once, then
// move to done/ or failed/ with a report; files still being written are left alone.
#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>
#include <set>
#include <thread>

#include "gridhub/sqlite/sqlite.hpp"
#include "process.hpp"

namespace gridhub::testing {
namespace {

using namespace std::chrono_literals;

const std::string kHeader = "工单编号,来电时间,来电人,联系电话,受理渠道,诉求类型,问题分类,诉求内容,事发地址,备注\n";

std::string row(const std::string& key, int i, const std::string& when = "2024-05-17 09:10:33") {
  return key + "," + when + ",王女士,138 0000 " + std::to_string(1000 + i) + ",电话,投诉,,\"来电称：锦绣花园" +
         std::to_string(i % 20 + 1) + "号楼楼道灯不亮。\",普集街道迎宾路" + std::to_string(i + 1) + "号,\n";
}

std::int64_t query(const std::filesystem::path& db, const std::string& sql) {
  auto d = sqlite::Database::open(db, sqlite::OpenMode::kReadOnly);
  EXPECT_TRUE(d.ok());
  auto v = d->query_int(sql);
  EXPECT_TRUE(v.ok()) << (v.ok() ? "" : v.error().message());
  return v.ok() ? v.value() : -1;
}

class DropFolderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    hub_.start();
    cfg_ = write_hotline_config(dir_.path(), "watcher", hub_.ingest(),
                                "[hotline]\nwatch_scan_ms = 50\nwatch_settle_ms = 1500\n");
    incoming_ = dir_ / "incoming";
  }

  Process start_watcher() {
    auto p = Process::spawn({bin("gridhub-hotline"), "-c", cfg_.string(), "--watch", incoming_.string()},
                            dir_ / "watcher.stderr");
    auto line = p.read_line(30s);
    EXPECT_TRUE(line && line->rfind("WATCHING ", 0) == 0) << (line ? *line : "no line") << slurp(dir_ / "watcher.stderr");
    return p;
  }

  /// The watcher's verdict lines ("DONE x.csv", "FAILED y.xlsx") until `n` arrived.
  std::set<std::string> verdicts(Process& p, std::size_t n) {
    std::set<std::string> out;
    while (out.size() < n) {
      auto line = p.read_line(60s);
      if (!line) {
        ADD_FAILURE() << "watcher said nothing more after " << out.size() << slurp(dir_ / "watcher.stderr");
        break;
      }
      out.insert(*line);
    }
    return out;
  }

  TempDir dir_;
  HubProcess hub_{dir_.path()};
  std::filesystem::path cfg_;
  std::filesystem::path incoming_;
};

TEST_F(DropFolderTest, DroppedFilesAreImportedOnceMovedAndReported) {
  std::filesystem::create_directories(incoming_);
  // A file the writer never finished renaming stays untouched.
  { std::ofstream(incoming_ / "never.csv.part") << kHeader << row("GD-never-1", 1); }
  auto watcher = start_watcher();

  // Good: written as .part, then renamed. One row has an impossible date.
  {
    std::ofstream out(incoming_ / "good.csv.part");
    out << kHeader;
    for (int i = 0; i < 30; ++i) out << row("GD-good-" + std::to_string(i), i);
    out << row("GD-good-bad", 99, "2024-13-45 09:10:33");
  }
  std::filesystem::rename(incoming_ / "good.csv.part", incoming_ / "good.csv");
  // Broken: not a workbook at all.
  { std::ofstream(incoming_ / "broken.xlsx") << "this is not a zip file"; }

  EXPECT_EQ(verdicts(watcher, 2), (std::set<std::string>{"DONE good.csv", "FAILED broken.xlsx"}));
  EXPECT_FALSE(std::filesystem::exists(incoming_ / "good.csv"));
  EXPECT_TRUE(std::filesystem::exists(incoming_ / "done" / "good.csv"));
  EXPECT_TRUE(std::filesystem::exists(incoming_ / "failed" / "broken.xlsx"));
  const auto good_report = slurp(incoming_ / "done" / "good.csv.report.txt");
  EXPECT_NE(good_report.find("records read: 31\n"), std::string::npos) << good_report;
  EXPECT_NE(good_report.find("hub accepted: 30\n"), std::string::npos) << good_report;
  EXPECT_NE(good_report.find("good.csv:32: bad_date in '来电时间'"), std::string::npos) << good_report;
  const auto broken_report = slurp(incoming_ / "failed" / "broken.xlsx.report.txt");
  EXPECT_NE(broken_report.find("outcome: failed\nerror: "), std::string::npos) << broken_report;
  EXPECT_NE(broken_report.find("broken.xlsx"), std::string::npos) << broken_report;
  EXPECT_EQ(query(hub_.db(), "SELECT count(*) FROM tickets"), 30);
  EXPECT_EQ(query(hub_.db(), "SELECT count(*) FROM dead_letters WHERE source_key = 'GD-good-bad'"), 1);

  // Slow: the writer appends a row every 25 ms for longer than the settle period, holding the file open.
  {
    std::ofstream out(incoming_ / "slow.csv");
    out << kHeader << std::flush;
    for (int i = 0; i < 100; ++i) {
      out << row("GD-slow-" + std::to_string(i), i) << std::flush;
      std::this_thread::sleep_for(25ms);   // the slow writer being simulated, not a synchronisation
    }
  }
  EXPECT_EQ(verdicts(watcher, 1), (std::set<std::string>{"DONE slow.csv"}));
  const auto slow_report = slurp(incoming_ / "done" / "slow.csv.report.txt");
  EXPECT_NE(slow_report.find("records read: 100\n"), std::string::npos) << slow_report;   // all of it, once
  EXPECT_EQ(query(hub_.db(), "SELECT count(*) FROM tickets"), 130);

  // Stopped: a file dropped meanwhile, and a second copy of one already imported, go through on restart.
  watcher.signal(SIGTERM);
  EXPECT_EQ(watcher.wait(), 0) << slurp(dir_ / "watcher.stderr");
  std::filesystem::copy_file(incoming_ / "done" / "good.csv", incoming_ / "good-again.csv");
  { std::ofstream(incoming_ / "later.csv") << kHeader << row("GD-later-1", 1); }
  auto again = start_watcher();
  EXPECT_EQ(verdicts(again, 2), (std::set<std::string>{"DONE good-again.csv", "DONE later.csv"}));
  const auto again_report = slurp(incoming_ / "done" / "good-again.csv.report.txt");
  EXPECT_NE(again_report.find("already known to the outbox: 31\n"), std::string::npos) << again_report;
  EXPECT_EQ(query(hub_.db(), "SELECT count(*) FROM tickets"), 131);   // nothing stored twice
  EXPECT_TRUE(std::filesystem::exists(incoming_ / "never.csv.part"));
  EXPECT_FALSE(std::filesystem::exists(incoming_ / "done" / "never.csv.part"));
  again.signal(SIGTERM);
  EXPECT_EQ(again.wait(), 0);
}

}  // namespace
}  // namespace gridhub::testing
