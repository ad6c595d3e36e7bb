// gridhub-ops' picture of open tickets, its summary, the admin figures it reads, and the world it draws.
#include "gridhub/ops/picture.hpp"

#include <filesystem>
#include <fstream>

#include <unistd.h>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "gridhub/ops/page.hpp"
#include "gridhub/ops/service.hpp"
#include "gridhub/ops/world.hpp"
#include "gridhub/v1/log.pb.h"

namespace gridhub::ops {
namespace {

namespace v1 = gridhub::v1;

World small_world() {
  World w;
  w.communities = {{"C1", "麦香社区"}};
  w.departments = {{"CTY_CGJ", "县城市管理执法局"}};
  w.categories = {{"0102", "暴露垃圾"}};
  w.grids.push_back({"G1", "麦香社区第一网格", "C1", {{108.0, 34.0}, {108.1, 34.0}, {108.1, 34.1}, {108.0, 34.1}, {108.0, 34.0}}});
  w.grids.push_back({"G2", "麦香社区第二网格", "C1", {{108.1, 34.0}, {108.2, 34.0}, {108.2, 34.1}, {108.1, 34.1}, {108.1, 34.0}}});
  return w;
}

v1::Ticket ticket(const std::string& id, v1::TicketStatus status, const std::string& grid, std::int64_t due_us) {
  v1::Ticket t;
  t.set_ticket_id(id);
  t.set_status(status);
  t.set_grid_code(grid);
  t.set_community_code("C1");
  t.set_assignee_code("CTY_CGJ");
  t.set_category_code("0102");
  t.set_tier(v1::TIER_COUNTY);
  t.mutable_reporter()->set_name("王女士");
  t.mutable_reporter()->set_phone("13800000009");
  if (due_us != 0) t.mutable_sla_due()->set_unix_micros(due_us);
  return t;
}

std::string intake(const v1::Ticket& t) {
  v1::LogRecord r;
  r.set_ticket_id(t.ticket_id());
  *r.mutable_intake_accepted()->mutable_ticket() = t;
  r.mutable_intake_accepted()->set_disposition(v1::DISPOSITION_NEW_TICKET);
  return r.SerializeAsString();
}

std::string update(const v1::Ticket& t) {
  v1::LogRecord r;
  r.set_ticket_id(t.ticket_id());
  r.mutable_ticket_update()->set_action(v1::UPDATE_ACTION_RESOLVE);
  *r.mutable_ticket_update()->mutable_ticket() = t;
  return r.SerializeAsString();
}

TEST(OpsPicture, CountsOpenTicketsByGridCommunityAndAssigneeAndDropsResolvedOnes) {
  const World w = small_world();
  Picture p(w);
  const std::int64_t now = 1'000'000'000;
  p.apply(1, intake(ticket("T1", v1::TICKET_STATUS_ASSIGNED, "G1", now - 1)));   // breached
  p.apply(2, intake(ticket("T2", v1::TICKET_STATUS_ASSIGNED, "G1", now + 60'000'000)));
  p.apply(3, intake(ticket("T3", v1::TICKET_STATUS_NEW, "G2", now + 30'000'000)));
  p.apply(4, update(ticket("T3", v1::TICKET_STATUS_RESOLVED, "G2", 0)));
  p.note_head(9);
  EXPECT_EQ(p.open_tickets(), 2u);
  const std::string text = p.summary_json(now);
  const auto s = boost::json::parse(text).as_object();
  EXPECT_EQ(s.at("open").as_int64(), 2);
  EXPECT_EQ(s.at("breached").as_int64(), 1);
  EXPECT_EQ(s.at("seq").to_number<std::int64_t>(), 4);
  EXPECT_EQ(s.at("lag").to_number<std::int64_t>(), 5);
  EXPECT_TRUE(s.at("dead_letters").is_null());
  EXPECT_EQ(boost::json::serialize(s.at("grids")), R"({"G1":[2,1]})");
  const auto& a = s.at("assignees").as_array().at(0).as_object();
  EXPECT_EQ(a.at("name").as_string(), "县城市管理执法局");
  EXPECT_EQ(a.at("open").as_int64(), 2);
  EXPECT_EQ(s.at("communities").as_array().at(0).as_object().at("name").as_string(), "麦香社区");
  // Nearest deadline: the one not yet breached, named, never with personal data.
  ASSERT_EQ(s.at("nearest").as_array().size(), 1u);
  EXPECT_EQ(s.at("nearest").as_array().at(0).as_object().at("id").as_string(), "T2");
  EXPECT_EQ(s.at("nearest").as_array().at(0).as_object().at("category").as_string(), "暴露垃圾");
  EXPECT_EQ(text.find("王女士"), std::string::npos);
  EXPECT_EQ(text.find("13800000009"), std::string::npos);
}

TEST(OpsPicture, ListsHotspotsAndRecordsOfKindsItDoesNotKnowAndCountsUnreadableOnes) {
  const World w = small_world();
  Picture p(w);
  p.apply(1, intake(ticket("T1", v1::TICKET_STATUS_ASSIGNED, "G1", 0)));
  // A hotspot: listed, and its incident ticket counted as open.
  v1::LogRecord h;
  h.set_seq(2);
  h.set_ticket_id("T9");
  h.mutable_hotspot()->set_action(v1::HOTSPOT_ACTION_OPENED);
  *h.mutable_hotspot()->mutable_ticket() = ticket("T9", v1::TICKET_STATUS_ASSIGNED, "G1", 0);
  p.apply(2, h.SerializeAsString());
  // A record of a later kind: LogRecord body field 20 (length-delimited), unknown to this build.
  v1::LogRecord r;
  r.set_seq(3);
  r.set_ticket_id("T1");
  std::string bytes = r.SerializeAsString();
  bytes += std::string("\xa2\x01\x03\x0a\x01x", 6);   // field 20, wire type 2, 3 bytes: a nested field 1 = "x"
  p.apply(3, bytes);
  p.apply(4, std::string("\xff\xff\xff", 3));
  const auto s = boost::json::parse(p.summary_json(0)).as_object();
  const auto& listed = s.at("hotspots").as_array();
  ASSERT_EQ(listed.size(), 2u);   // newest first
  EXPECT_EQ(listed.at(0).as_object().at("kind").as_string(), "unknown");
  EXPECT_EQ(listed.at(0).as_object().at("ticket_id").as_string(), "T1");
  EXPECT_EQ(listed.at(0).as_object().at("grid").as_string(), "麦香社区第一网格");
  EXPECT_EQ(listed.at(1).as_object().at("kind").as_string(), "hotspot");
  EXPECT_EQ(listed.at(1).as_object().at("ticket_id").as_string(), "T9");
  EXPECT_EQ(s.at("unreadable").to_number<std::int64_t>(), 1);
  EXPECT_EQ(s.at("open").as_int64(), 2);
  EXPECT_EQ(s.at("seq").to_number<std::int64_t>(), 4);
}

TEST(OpsPicture, ASavedPictureRestoresToTheSameSummary) {
  const World w = small_world();
  Picture p(w);
  p.apply(1, intake(ticket("T1", v1::TICKET_STATUS_ASSIGNED, "G1", 5)));
  p.apply(2, intake(ticket("T2", v1::TICKET_STATUS_NEW, "G2", 50)));
  p.apply(3, std::string("\xff", 1));
  Picture q(w);
  ASSERT_TRUE(q.restore_state(p.save_state()).ok());
  EXPECT_EQ(q.last_seq(), 3u);
  EXPECT_EQ(q.summary_json(10), p.summary_json(10));
  // Applying on top of it behaves as on the original.
  p.apply(4, update(ticket("T1", v1::TICKET_STATUS_RESOLVED, "G1", 0)));
  q.apply(4, update(ticket("T1", v1::TICKET_STATUS_RESOLVED, "G1", 0)));
  EXPECT_EQ(q.summary_json(10), p.summary_json(10));
  // A damaged file is refused and leaves nothing half-restored.
  const auto bad = q.restore_state(R"({"format":"gridhub-ops state 1","seq":9,"tickets":[["T9"]]})");
  EXPECT_FALSE(bad.ok());
  EXPECT_EQ(q.open_tickets(), 0u);
  EXPECT_EQ(q.last_seq(), 0u);
}

TEST(OpsPage, DrawsOneShapePerGridAndEscapesNames) {
  World w = small_world();
  w.grids[1].name = "<b>第二</b>";
  const std::string page = render_page(w, "运行总览");
  std::size_t paths = 0;
  for (std::size_t at = 0; (at = page.find("<path class=\"grid\"", at)) != std::string::npos; ++at) ++paths;
  EXPECT_EQ(paths, 2u);
  EXPECT_NE(page.find("data-grid=\"G2\""), std::string::npos);
  EXPECT_EQ(page.find("<b>第二</b>"), std::string::npos);
  EXPECT_NE(page.find("&lt;b&gt;第二&lt;/b&gt;"), std::string::npos);
}

TEST(OpsAdminFigures, ReadsTheHeadAndSumsDeadLetters) {
  const auto f = parse_admin_metrics(
      "# TYPE gridhub_hub_log_head_seq gauge\ngridhub_hub_log_head_seq 42\n"
      "gridhub_hub_ingest_dead_letters_total{channel=\"hotline\",reason=\"bad_value\"} 3\n"
      "gridhub_hub_ingest_dead_letters_total{channel=\"wechat\",reason=\"too_large\"} 2\n");
  EXPECT_EQ(f.head_seq, 42u);
  EXPECT_EQ(f.dead_letters, 5u);
  EXPECT_EQ(parse_admin_metrics("gridhub_hub_log_head_seq 7\n").dead_letters, 0u) << "none stored yet";
  EXPECT_FALSE(parse_admin_metrics("not metrics").head_seq.has_value());
}

TEST(OpsWorld, RefusesAGridWithoutAClosedPolygonNamingFileAndLine) {
  const auto dir = std::filesystem::temp_directory_path() / ("ops-world-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "communities.csv") << "community_code,community_name\nC1,麦香社区\n";
  std::ofstream(dir / "departments.csv") << "dept_code,dept_name\nCTY_CGJ,县城市管理执法局\n";
  std::ofstream(dir / "categories.csv")
      << "category_code,category_name,initial_tier,county_dept_code,sla_hours_grid,sla_hours_community,sla_hours_county\n"
         "0102,暴露垃圾,grid,CTY_CGJ,24,24,48\n";
  std::ofstream(dir / "grids.csv") << "grid_code,grid_name,community_code,polygon_wkt\n"
                                      "G1,一,C1,\"POLYGON((1 1, 2 1, 2 2, 1 1))\"\n"
                                      "G2,二,C1,\"POLYGON((1 1, 2 1, 2 2))\"\n";
  auto w = load_world(dir);
  ASSERT_FALSE(w.ok());
  EXPECT_EQ(w.error().detail, (dir / "grids.csv").string() + ":3: polygon_wkt is not a closed POLYGON((lon lat, ...)) of 4 or more points");
  std::ofstream(dir / "grids.csv") << "grid_code,grid_name,community_code,polygon_wkt\nG1,一,C9,\"POLYGON((1 1, 2 1, 2 2, 1 1))\"\n";
  w = load_world(dir);
  ASSERT_FALSE(w.ok());
  EXPECT_EQ(w.error().detail, (dir / "grids.csv").string() + ":2: community_code C9 is not in communities.csv");
  std::ofstream(dir / "grids.csv") << "grid_code,grid_name,community_code,polygon_wkt\nG1,一,C1,\"POLYGON((1 1, 2 1, 2 2, 1 1))\"\n";
  w = load_world(dir);
  ASSERT_TRUE(w.ok()) << w.error().message();
  EXPECT_EQ(w.value().grids.size(), 1u);
  EXPECT_EQ(w.value().assignee_name("CTY_CGJ"), "县城市管理执法局");
  EXPECT_EQ(w.value().assignee_name("G1"), "一");
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace gridhub::ops
