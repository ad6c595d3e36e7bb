// The auditor's views against a real hub: the example pipeline routes the county's hotline exports,
// then gridhubctl state, reroute (same and changed configuration) and report (CSV, and HTML rendered
// in headless Chromium).
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "gridhub/sqlite/sqlite.hpp"
#include "process.hpp"

namespace gridhub::testing {
namespace {

const std::string kWugong = source_path("examples/wugong");
const char* kChromium = "/usr/bin/chromium";

std::string pipeline_toml(const std::string& categories) {
  return "[pipeline]\nchat_groups = \"" + kWugong + "/wechat/groups.csv\"\n"
         "[plugins.resolver_gazetteer]\nworld_dir = \"" + kWugong + "/world\"\n"
         "[plugins.classifier_ngram]\nmodel = \"" + kWugong + "/model/classifier.ngram\"\n"
         "[plugins.router_tiered]\ncategories = \"" + categories + "\"\n";
}

std::size_t count_lines(const std::string& s) {
  std::size_t n = 0;
  std::istringstream in(s);
  for (std::string l; std::getline(in, l);) ++n;
  return n;
}

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (auto p = s.find(from); p != std::string::npos; p = s.find(from, p + to.size())) s.replace(p, from.size(), to);
  return s;
}

/// One hub run over the three hotline CSV exports, shared by the tests below (a full import is slow).
class AuditorViews : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir;
    HubProcess hub(dir_->path(), {}, pipeline_toml(kWugong + "/world/categories.csv"));
    hub.start();
    auto cfg = write_hotline_config(dir_->path(), "hotline", hub.ingest());
    std::vector<std::string> argv = {bin("gridhub-hotline"), "-c", cfg.string()};
    for (const char* f : {"export_20240506-20240516.csv", "export_20240517-20240526.csv", "export_20240527-20240605.csv"}) {
      argv.push_back(kWugong + "/hotline/" + f);
    }
    auto [rc, out] = run(argv, *dir_ / "hotline.stderr");
    ASSERT_EQ(rc, 0) << out << slurp(*dir_ / "hotline.stderr");
    ASSERT_EQ(hub.terminate(), 0) << slurp(hub.stderr_file());
    db_ = new std::string(hub.db().string());
    config_ = new std::string(hub.config().string());
  }
  static void TearDownTestSuite() {
    delete db_;
    delete config_;
    delete dir_;
  }

  static std::int64_t query(const std::string& sql) {
    auto db = sqlite::Database::open(*db_, sqlite::OpenMode::kReadOnly);
    EXPECT_TRUE(db.ok());
    auto v = db->query_int(sql);
    EXPECT_TRUE(v.ok()) << sql;
    return v.ok() ? v.value() : -1;
  }

  static TempDir* dir_;
  static std::string* db_;
  static std::string* config_;
};

TempDir* AuditorViews::dir_ = nullptr;
std::string* AuditorViews::db_ = nullptr;
std::string* AuditorViews::config_ = nullptr;

TEST_F(AuditorViews, StateAsOfShowsTicketsThatExistedThenWithPiiMasked) {
  const auto tickets = query("SELECT count(*) FROM tickets");
  ASSERT_GT(tickets, 0);
  auto [rc, out] = run({bin("gridhubctl"), "state", "--db", *db_, "--as-of", "2100-01-01"}, *dir_ / "state.stderr");
  ASSERT_EQ(rc, 0) << slurp(*dir_ / "state.stderr");
  EXPECT_EQ(count_lines(out), static_cast<std::size_t>(tickets));   // the log alone gives the projection's tickets
  // T00000001 is 蔡 at 173…0674 in the export: masked unless --show-pii.
  EXPECT_NE(out.find("\"reporter\":{\"name\":\"蔡**\",\"phone\":\"173****0674\"}"), std::string::npos) << out.substr(0, 600);
  auto [brc, before] = run({bin("gridhubctl"), "state", "--db", *db_, "--as-of", "2000-01-01", "T00000001"}, *dir_ / "state.stderr");
  ASSERT_EQ(brc, 0);
  EXPECT_NE(before.find("\"ticket_id\":\"T00000001\",\"as_of\":\"2000-01-01T00:00:00.000000Z\",\"last_seq\":0,\"ticket\":null"),
            std::string::npos)
      << before;
}

TEST_F(AuditorViews, RerouteWithTheConfigurationInForceChangesNothing) {
  auto [rc, out] = run({bin("gridhubctl"), "reroute", "--db", *db_, "-c", *config_}, *dir_ / "reroute.stderr");
  ASSERT_EQ(rc, 0) << slurp(*dir_ / "reroute.stderr");
  const auto records = query("SELECT count(*) FROM log");
  EXPECT_EQ(out, "reroute: " + std::to_string(records) +
                     " records replayed, 0 would change: is_ticket 0, category_code 0, community_code 0, grid_code 0, tier 0, "
                     "assignee_code 0, incident 0\n");
}

TEST_F(AuditorViews, RerouteWithWaterOutagesMovedListsExactlyTheirTickets) {
  std::string table = slurp(kWugong + "/world/categories.csv");
  const auto row = table.find("\n1801,");
  ASSERT_NE(row, std::string::npos);
  table.replace(table.find("CTY_SWJ", row), 7, "CTY_ZJJ");
  std::filesystem::create_directories(*dir_ / "candidate");
  std::ofstream(*dir_ / "candidate/categories.csv", std::ios::binary) << table;
  std::ofstream(*dir_ / "candidate/hub.toml", std::ios::binary)
      << replace_all(slurp(*config_), kWugong + "/world/categories.csv", (*dir_ / "candidate/categories.csv").string());

  auto [rc, out] = run({bin("gridhubctl"), "reroute", "--db", *db_, "-c", (*dir_ / "candidate/hub.toml").string(), "--format", "jsonl"},
                       *dir_ / "reroute.stderr");
  ASSERT_EQ(rc, 0) << slurp(*dir_ / "reroute.stderr");
  // Every record whose ticket is a water outage at the water bureau, and nothing else.
  const auto expected = query("SELECT count(*) FROM log l JOIN tickets t ON t.ticket_id = l.ticket_id "
                              "WHERE t.category_code = '1801' AND t.assignee_code = 'CTY_SWJ'");
  ASSERT_GT(expected, 0);
  std::istringstream lines(out);
  std::int64_t changes = 0;
  std::string line, summary;
  while (std::getline(lines, line)) {
    if (line.rfind("{\"records\"", 0) == 0) {
      summary = line;
      continue;
    }
    ++changes;
    EXPECT_NE(line.find("\"field\":\"assignee_code\",\"logged\":\"CTY_SWJ\",\"candidate\":\"CTY_ZJJ\"}"), std::string::npos) << line;
  }
  EXPECT_EQ(changes, expected);
  EXPECT_NE(summary.find("\"changed_records\":" + std::to_string(expected) + ","), std::string::npos) << summary;
  EXPECT_NE(summary.find("\"assignee_code\":" + std::to_string(expected) + ","), std::string::npos) << summary;
}

TEST_F(AuditorViews, CsvReportCountsTheLoggedTickets) {
  auto [rc, out] = run({bin("gridhubctl"), "report", "--db", *db_, "--categories", kWugong + "/world/categories.csv"},
                       *dir_ / "report.stderr");
  ASSERT_EQ(rc, 0) << slurp(*dir_ / "report.stderr");
  const auto water = query("SELECT count(*) FROM tickets WHERE category_code = '1801'");
  EXPECT_NE(out.find("\n1801,供水故障," + std::to_string(water) + ","), std::string::npos) << out;
  const auto tickets = query("SELECT count(*) FROM tickets");
  const auto records = query("SELECT count(*) FROM log");
  EXPECT_NE(out.find(",," + std::to_string(records) + "," + std::to_string(tickets) + ","), std::string::npos) << out;
  EXPECT_NE(out.find("\n# sla_compliance\n"), std::string::npos) << out;
  EXPECT_NE(out.find("\n# time_to_resolve\ntier,resolved,median_hours,p90_hours\nall,"), std::string::npos) << out;
}

TEST_F(AuditorViews, HtmlReportRendersInHeadlessChromiumWithoutFetchingAnything) {
  ASSERT_TRUE(std::filesystem::exists(kChromium)) << kChromium << " is not installed (scripts/setup.sh installs it)";
  const auto html_file = *dir_ / "report.html";
  auto [rc, out] = run({bin("gridhubctl"), "report", "--db", *db_, "--format", "html", "--out", html_file.string(),
                        "--categories", kWugong + "/world/categories.csv"},
                       *dir_ / "report.stderr");
  ASSERT_EQ(rc, 0) << slurp(*dir_ / "report.stderr");
  const std::string html = slurp(html_file);
  for (const char* external : {"http://", "https://", "<script", "<link", "<img", "url(", "@import"}) {
    EXPECT_EQ(html.find(external), std::string::npos) << external;
  }

  auto chromium = [&](const std::string& profile, std::vector<std::string> extra) {
    std::vector<std::string> argv = {kChromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                                     "--no-first-run", "--disable-background-networking", "--disable-component-update",
                                     "--disable-sync", "--user-data-dir=" + (*dir_ / profile).string(),
                                     "--window-size=1200,1600"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    argv.push_back("file://" + html_file.string());
    return run(argv, *dir_ / (profile + ".stderr"));
  };
  const auto png = *dir_ / "report.png";
  auto [src, sout] = chromium("profile-shot", {"--screenshot=" + png.string()});
  ASSERT_EQ(src, 0) << slurp(*dir_ / "profile-shot.stderr");
  ASSERT_TRUE(std::filesystem::exists(png)) << slurp(*dir_ / "profile-shot.stderr");
  const std::string bytes = slurp(png);
  EXPECT_EQ(bytes.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
  EXPECT_GT(bytes.size(), 20'000u) << "a 1200x1600 page of tables and charts";

  auto [drc, dom] = chromium("profile-dom", {"--dump-dom"});
  ASSERT_EQ(drc, 0) << slurp(*dir_ / "profile-dom.stderr");
  const auto water = query("SELECT count(*) FROM tickets WHERE category_code = '1801'");
  EXPECT_NE(dom.find("<tr><td>供水故障</td><td>1801</td><td class=\"n\">" + std::to_string(water) + "</td>"), std::string::npos)
      << dom.substr(0, 4000);
  EXPECT_NE(dom.find("<svg"), std::string::npos);
  EXPECT_NE(dom.find("按类别"), std::string::npos);
  for (const char* section : {"按时办结率", "各部门退回与升级", "办理时长"}) EXPECT_NE(dom.find(section), std::string::npos) << section;
}

}  // namespace
}  // namespace gridhub::testing
