// Hotspots end to end with real processes: the hub on the example county's pipeline and SLA tables
// with [hotspots] on, the hotline adapter importing three garbage reports from one grid. One hotspot
// record opens an incident one tier up (the grid's community), which that community's subscription
// receives; verify passes, replay and state show it; after a restart a fourth report joins it.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "gridhub/sqlite/sqlite.hpp"
#include "gridhub/v1/log.pb.h"
#include "hotline_export.hpp"
#include "process.hpp"

namespace gridhub::testing {
namespace {

const std::string kWugong = source_path("examples/wugong");
constexpr const char* kGrid = "610431001004002";        // 书院社区, 清河新城 and 银杏园
constexpr const char* kCommunity = "610431001004";

std::string hub_toml() {
  return "[pipeline]\nchat_groups = \"" + kWugong + "/wechat/groups.csv\"\n"
         "[plugins.resolver_gazetteer]\nworld_dir = \"" + kWugong + "/world\"\n"
         "[plugins.classifier_ngram]\nmodel = \"" + kWugong + "/model/classifier.ngram\"\n"
         "[plugins.router_tiered]\ncategories = \"" + kWugong + "/world/categories.csv\"\n"
         "[sla]\ncalendar = \"" + kWugong + "/calendar.toml\"\ncategories = \"" + kWugong + "/world/categories.csv\"\n"
         "[hotspots]\ntickets = 3\nhours = 24\n";
}

constexpr const char* kHeader = "工单编号,来电时间,来电人,联系电话,受理渠道,诉求类型,问题分类,诉求内容,事发地址,备注\n";

std::vector<std::string> lines_of(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) out.push_back(line);
  }
  return out;
}

/// The hotspot records in the log, in seq order.
std::vector<gridhub::v1::LogRecord> hotspot_records(const std::filesystem::path& db_file) {
  std::vector<gridhub::v1::LogRecord> out;
  auto db = sqlite::Database::open(db_file, sqlite::OpenMode::kReadOnly);
  EXPECT_TRUE(db.ok());
  auto st = db->prepare("SELECT body FROM log WHERE kind = 'hotspot' ORDER BY seq");
  EXPECT_TRUE(st.ok());
  while (st->step().value()) {
    auto body = st->column_blob(0);
    EXPECT_TRUE(out.emplace_back().ParseFromArray(body.data(), static_cast<int>(body.size())));
  }
  return out;
}

TEST(Hotspot, ThreeGarbageReportsInOneGridOpenOneIncidentForItsCommunityThatAFourthJoinsAfterARestart) {
  TempDir dir;
  HubProcess hub(dir.path(), {}, hub_toml());
  hub.start();
  // Three reports of rubbish left lying (0102, handled at grid tier) on different days and
  // buildings of one grid: three incidents, not one (the merger keeps them apart).
  const auto csv = dir / "three.csv";
  write_garbage_reports(csv);
  auto cfg = write_hotline_config(dir.path(), "hotline", hub.ingest());
  auto [rc, out] = run({bin("gridhub-hotline"), "-c", cfg.string(), csv.string()}, dir / "hotline.stderr");
  ASSERT_EQ(rc, 0) << slurp(dir / "hotline.stderr");

  auto records = hotspot_records(hub.db());
  ASSERT_EQ(records.size(), 1u) << "three tickets of one category in one grid make one hotspot";
  const gridhub::v1::Hotspot opened = records[0].hotspot();   // a copy: `records` is read again below
  EXPECT_EQ(opened.action(), gridhub::v1::HOTSPOT_ACTION_OPENED);
  EXPECT_EQ(opened.category_code(), "0102");
  EXPECT_EQ(opened.place_kind(), "grid");
  EXPECT_EQ(opened.place_code(), kGrid);
  ASSERT_EQ(opened.linked_ticket_ids_size(), 3);
  const std::string incident = records[0].ticket_id();
  EXPECT_EQ(opened.ticket().tier(), gridhub::v1::TIER_COMMUNITY) << "one tier up from the grid";
  EXPECT_EQ(opened.ticket().assignee_code(), kCommunity);
  EXPECT_TRUE(opened.ticket().has_sla_due()) << "the community's clock for 0102 runs";
  EXPECT_EQ(opened.decisions(0).rule(), "hotspot.default_threshold");
  EXPECT_EQ(opened.decisions(1).rule(), "hotspot.grid_to_community");

  // The community's subscription receives the incident as a record of its own kind.
  auto [src, community] = run({bin("gridhubctl"), "subscribe", "--stream", hub.stream(), "--as", "shuyuan", "--assignee",
                               kCommunity, "--count", "1"},
                              dir / "community.stderr");
  ASSERT_EQ(src, 0) << slurp(dir / "community.stderr");
  ASSERT_EQ(lines_of(community).size(), 1u) << community;
  const std::string line = lines_of(community)[0];
  EXPECT_NE(line.find("\"kind\":\"hotspot\""), std::string::npos) << line;
  EXPECT_NE(line.find("\"action\":\"opened\""), std::string::npos) << line;
  EXPECT_NE(line.find("\"ticket_id\":\"" + incident + "\""), std::string::npos) << line;
  EXPECT_NE(line.find("\"linked\":[\"" + opened.linked_ticket_ids(0) + "\""), std::string::npos) << line;

  // The hotspot counter is on the status.
  auto [stc, status] = run({bin("gridhubctl"), "status", "--hub", hub.ingest()}, dir / "status.stderr");
  ASSERT_EQ(stc, 0) << slurp(dir / "status.stderr");
  EXPECT_NE(status.find("hotspots_opened_total"), std::string::npos) << status;

  // A restart recalls the open hotspot from the log: a fourth report the next day joins it.
  ASSERT_EQ(hub.terminate(), 0);
  hub.start();
  const auto more = dir / "fourth.csv";
  std::ofstream(more) << kHeader
                      << "GD-H4,2024-05-09 11:00:00,刘先生,13800000004,电话,投诉,,来电反映：小区路边的生活垃圾又堆起来了，"
                         "好几天没人清理。,武功县普集街道书院社区清河新城15幢,\n";
  auto [rc4, out4] = run({bin("gridhub-hotline"), "-c", cfg.string(), more.string()}, dir / "hotline4.stderr");
  ASSERT_EQ(rc4, 0) << slurp(dir / "hotline4.stderr");
  records = hotspot_records(hub.db());
  ASSERT_EQ(records.size(), 2u) << "the fourth joins; no second hotspot";
  EXPECT_EQ(records[1].hotspot().action(), gridhub::v1::HOTSPOT_ACTION_JOINED);
  EXPECT_EQ(records[1].ticket_id(), incident);
  EXPECT_EQ(records[1].hotspot().ticket().linked_ticket_ids_size(), 4);
  ASSERT_EQ(hub.terminate(), 0);

  // The log verifies, and replay and state show the incident as the hub decided it.
  auto [vrc, verify] = run({bin("gridhubctl"), "verify", "--db", hub.db().string()}, dir / "verify.stderr");
  EXPECT_EQ(vrc, 0) << verify << slurp(dir / "verify.stderr");
  auto [rrc, replay] = run({bin("gridhubctl"), "replay", "--db", hub.db().string()}, dir / "replay.stderr");
  ASSERT_EQ(rrc, 0) << slurp(dir / "replay.stderr");
  std::vector<std::string> hotspot_lines;
  for (const auto& l : lines_of(replay)) {
    if (l.find("\"kind\":\"hotspot\"") != std::string::npos) hotspot_lines.push_back(l);
  }
  ASSERT_EQ(hotspot_lines.size(), 2u) << replay;
  // Opened: the rule, its threshold, the linked tickets and who one tier up got it; joined: who joined.
  EXPECT_NE(hotspot_lines[0].find("\"rule\":\"hotspot.default_threshold\""), std::string::npos) << hotspot_lines[0];
  EXPECT_NE(hotspot_lines[0].find("\"threshold_tickets\":3"), std::string::npos) << hotspot_lines[0];
  EXPECT_NE(hotspot_lines[0].find("\"rule\":\"hotspot.grid_to_community\""), std::string::npos) << hotspot_lines[0];
  EXPECT_NE(hotspot_lines[0].find(opened.linked_ticket_ids(2)), std::string::npos) << hotspot_lines[0];
  EXPECT_NE(hotspot_lines[1].find("\"rule\":\"hotspot.join\""), std::string::npos) << hotspot_lines[1];
  auto [sarc, state] = run({bin("gridhubctl"), "state", "--db", hub.db().string(), "--as-of", "2100-01-01", incident},
                           dir / "state.stderr");
  ASSERT_EQ(sarc, 0) << slurp(dir / "state.stderr");
  EXPECT_NE(state.find(records[1].hotspot().ticket().linked_ticket_ids(3)), std::string::npos) << state;
  EXPECT_NE(state.find(kCommunity), std::string::npos) << state;
}

}  // namespace
}  // namespace gridhub::testing
