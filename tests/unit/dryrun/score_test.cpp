#include "gridhub/dryrun/score.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "../../testing/temp_dir.hpp"

namespace gridhub::dryrun {
namespace {

constexpr const char* kHeader =
    "channel,file,record_key,is_ticket,malformed,category_code,community_code,grid_code,tier,assignee_code,"
    "incident_id,out_of_area,address_form\n";

RouteRow row(const std::string& key, bool ticket, const std::string& incident) {
  RouteRow r;
  r.channel = "wechat";
  r.file = "/data/wechat/a.csv";
  r.record_key = key;
  r.is_ticket = ticket;
  r.incident_id = incident;
  return r;
}

TEST(MergeScore, PairsOverEveryLabelledReportCountTheLocationATicketTookAndTheReportsItMissed) {
  gridhub::testing::TempDir dir;
  const auto labels = dir.path() / "labels.csv";
  // Incident P1: a text, the location its sender sent first, and a web form; P2: two texts.
  std::ofstream(labels) << kHeader << "wechat,wechat/a.csv,1,1,0,1801,C1,G1,grid,G1,P1,0,name\n"
                        << "wechat,wechat/a.csv,2,0,0,,C1,G1,,,P1,0,location_merged\n"
                        << "wechat,wechat/a.csv,3,1,0,1801,C1,G1,grid,G1,P1,0,full\n"
                        << "wechat,wechat/a.csv,4,1,0,0102,C1,G1,grid,G1,P2,0,full\n"
                        << "wechat,wechat/a.csv,5,1,0,0102,C1,G1,grid,G1,P2,0,full\n";
  // The output: 1 and 3 one ticket, the location took 1's incident; 4 was not taken for a ticket.
  const std::vector<RouteRow> rows = {row("1", true, "T1"), row("2", false, "T1"), row("3", true, "T1"),
                                      row("4", false, ""), row("5", true, "T5")};
  auto s = score(rows, labels);
  ASSERT_TRUE(s) << s.error().detail;
  // Over tickets in both: (1,3) right, (3,5)/(1,5) apart as they should be -> P 1, R 1.
  EXPECT_DOUBLE_EQ(s->merge_precision, 1.0);
  EXPECT_DOUBLE_EQ(s->merge_recall, 1.0);
  // Over every labelled report: P1 has 3 pairs, all found; P2's one pair (4,5) is missed.
  EXPECT_EQ(s->pairs_tp, 3u);
  EXPECT_EQ(s->pairs_fp, 0u);
  EXPECT_EQ(s->pairs_fn, 1u);
  EXPECT_DOUBLE_EQ(s->pairs_recall(), 0.75);
  EXPECT_NE(report(s.value()).find("merge pairs     P 1.000 R 0.750 F1 0.857"), std::string::npos) << report(s.value());
}

TEST(MergeScore, ReportsOfDifferentRunsNeverFormAPair) {
  gridhub::testing::TempDir dir;
  const auto labels = dir.path() / "labels.csv";
  std::ofstream(labels) << kHeader << "wechat,wechat/a.csv,1,1,0,1801,C1,G1,grid,G1,P1,0,name\n"
                        << "wechat,wechat/a.csv,2,1,0,1801,C1,G1,grid,G1,P1,0,name\n";
  auto a = row("1", true, "T1");
  auto b = row("2", true, "T9");
  b.run = 1;   // held out in another split: its ticket ids are another run's
  auto s = score({a, b}, labels);
  ASSERT_TRUE(s) << s.error().detail;
  EXPECT_EQ(s->pairs_fn, 0u);
  EXPECT_DOUBLE_EQ(s->merge_recall, 1.0);
}

}  // namespace
}  // namespace gridhub::dryrun
