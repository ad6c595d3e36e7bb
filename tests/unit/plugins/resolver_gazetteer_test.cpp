#include "gridhub/plugins/resolver_gazetteer.hpp"

#include <gtest/gtest.h>
#include <opencc/opencc.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "gridhub/hotline/hotline_mapping.hpp"
#include "gridhub/text/csv_reader.hpp"
#include "../../testing/temp_dir.hpp"

namespace gridhub::plugins {
namespace {

namespace fs = std::filesystem;

const fs::path kWugong = fs::path(GRIDHUB_SOURCE_DIR) / "examples/wugong";
const fs::path kWorld = kWugong / "world";

const Gazetteer& wugong() {
  static const Gazetteer g = [] {
    auto loaded = Gazetteer::load(kWorld);
    if (!loaded) {
      ADD_FAILURE() << loaded.error().message();
      std::abort();
    }
    return std::move(loaded).value();
  }();
  return g;
}

plugin::Resolution resolve(std::string_view text, std::string_view address = {}) {
  plugin::Record r;
  r.channel = "hotline";
  r.text = text;
  r.address_text = address;
  return wugong().resolve(r);
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// --- Compounds -------------------------------------------------------------------------------

TEST(Gazetteer, SplitCompoundResolvesByBuildingRange) {
  // 福源嘉园: buildings 1-10 in 610431001001001, 11-19 in 610431001001004.
  auto a = resolve("福源嘉园3号楼门口垃圾没人清");
  EXPECT_EQ(a.grid_code, "610431001001001");
  EXPECT_EQ(a.why.rule, "compound+building");
  EXPECT_EQ(a.compound, "福源嘉园");
  EXPECT_EQ(a.building, "3");
  auto b = resolve("福源小区13栋楼道灯坏了");   // alias
  EXPECT_EQ(b.grid_code, "610431001001004");
  EXPECT_EQ(b.community_code, "610431001001");
}

TEST(Gazetteer, SplitCompoundWithoutBuildingGivesCommunityOnly) {
  auto r = resolve("清河新城南门水果摊占道");
  EXPECT_EQ(r.community_code, "610431001004");
  EXPECT_EQ(r.grid_code, "");
  EXPECT_EQ(r.why.rule, "compound_split");
  // 锦华小区 crosses a community boundary: without a building nothing is certain.
  auto x = resolve("锦华小区门口有人摆摊");
  EXPECT_EQ(x.community_code, "");
  EXPECT_EQ(x.grid_code, "");
  EXPECT_EQ(x.compound, "锦华小区");
  // ... unless the text names the community, which leaves one row.
  auto y = resolve("瑞丰社区锦华小区门口有人摆摊");
  EXPECT_EQ(y.grid_code, "610431001006001");
}

TEST(Gazetteer, SingleRowCompoundWithoutBuildingGivesItsGrid) {
  auto r = resolve("", "百合小区里面");
  EXPECT_EQ(r.grid_code, "610431001008002");
  EXPECT_EQ(r.why.rule, "compound");
}

TEST(Gazetteer, ChineseNumeralsAndBuildingMarkers) {
  EXPECT_EQ(resolve("桂香花园三号楼水压太低").grid_code, "610431001003002");
  EXPECT_EQ(resolve("嘉禾小区五号楼三单元").grid_code, "610431001001004");   // 嘉禾苑 1-5
  EXPECT_EQ(resolve("嘉禾苑十二栋").grid_code, "610431001004001");            // 嘉禾苑 6-12
  EXPECT_EQ(resolve("祥和府二十七号楼一单元").building, "27");
  EXPECT_EQ(resolve("锦华小区9幢").grid_code, "610431001006001");
  EXPECT_EQ(resolve("锦华小区7#楼").grid_code, "610431001003003");
  EXPECT_EQ(resolve("玉兰家园 10 座").grid_code, "610431001003004");
  EXPECT_EQ(resolve("福源嘉园第12栋").grid_code, "610431001001004");
  EXPECT_EQ(resolve("福源嘉园北区12号楼").grid_code, "610431001001004");
  // "3楼" is a floor, not a building: the split compound stays community-only.
  EXPECT_EQ(resolve("玉兰家园3楼漏水").grid_code, "");
}

TEST(Gazetteer, BuildingUnitRoomShorthand) {
  auto r = resolve("", "静怡苑16-1-802");
  EXPECT_EQ(r.grid_code, "610431001006002");
  EXPECT_EQ(r.why.rule, "bucr");
  EXPECT_EQ(r.building, "16");
  EXPECT_EQ(resolve("星河花园12-2-101楼上漏水").grid_code, "610431001008004");
  EXPECT_EQ(resolve("星河花园3-2-101楼上漏水").grid_code, "610431001008005");
}

TEST(Gazetteer, FullAddress) {
  auto r = resolve("", "陕西省咸阳市武功县普集街道书院社区农行家属院1号楼2单元");
  EXPECT_EQ(r.community_code, "610431001004");
  EXPECT_EQ(r.grid_code, "610431001004002");
  EXPECT_FALSE(r.out_of_area);
  EXPECT_FALSE(r.other_town);
}

TEST(Gazetteer, BuildingOutsideEveryRangeKeepsOnlyTheCommunity) {
  auto r = resolve("福源嘉园35号楼");
  EXPECT_EQ(r.community_code, "610431001001");
  EXPECT_EQ(r.grid_code, "");
  EXPECT_EQ(r.why.rule, "compound_building_unknown");
}

// --- Roads -----------------------------------------------------------------------------------

TEST(Gazetteer, BoundaryRoadSplitsOddAndEvenSides) {
  // 迎宾路 runs between tile rows 0 and 1: odd numbers north, even south.
  auto odd = resolve("迎宾路17号门口井盖丢了");
  EXPECT_EQ(odd.grid_code, "610431001001001");
  EXPECT_EQ(odd.why.rule, "road_parity");
  auto even = resolve("迎宾路18号门口井盖丢了");
  EXPECT_EQ(even.grid_code, "610431001001004");
  // The range edges of a segment.
  EXPECT_EQ(resolve("迎宾路39号").grid_code, "610431001001001");
  EXPECT_EQ(resolve("迎宾路41号").grid_code, "610431001001002");
  EXPECT_EQ(resolve("县城稷丰路一百零五号附近").grid_code, "610431001005001");
  EXPECT_EQ(resolve("稷丰路105号").why.rule, "road_number");
  EXPECT_EQ(resolve("康乐路311号楼上半夜都在蹦跳").grid_code, "610431001006005");   // 号 then 楼上 (upstairs)
  EXPECT_EQ(resolve("迎宾路18-1号").grid_code, "610431001001004");
}

TEST(Gazetteer, RoadWithoutNumberOrOutOfRangeResolvesNothing) {
  EXPECT_EQ(resolve("迎宾路上路灯坏了").community_code, "");
  EXPECT_EQ(resolve("迎宾路999号").grid_code, "");
}

// --- Community, hint, context ----------------------------------------------------------------

TEST(Gazetteer, CommunityNameAloneIsCommunityOnly) {
  auto r = resolve("麦香社区这边的垃圾站好几天没清理了");
  EXPECT_EQ(r.community_code, "610431001001");
  EXPECT_EQ(r.grid_code, "");
  EXPECT_EQ(r.why.rule, "community_name");
  auto g = resolve("麦香社区第三网格的网格员在吗");
  EXPECT_EQ(g.grid_code, "610431001001003");
  EXPECT_EQ(g.why.rule, "grid_name");
  EXPECT_EQ(resolve("麦香社区第九网格").grid_code, "");   // no such grid: community only
}

TEST(Gazetteer, FormCommunityHintIsUsedWhenTheTextNamesNothing) {
  plugin::Record r;
  r.text = "楼道灯坏了";
  r.community_hint = "杏林社区";
  EXPECT_EQ(wugong().resolve(r).community_code, "610431001007");
  EXPECT_EQ(wugong().resolve(r).why.rule, "community_hint");
  r.community_hint = "不清楚";
  EXPECT_EQ(wugong().resolve(r).community_code, "");
  r.community_hint = "杏林社区";
  r.text = "迎宾路17号楼道灯坏了";   // explicit text wins over the form answer
  EXPECT_EQ(wugong().resolve(r).grid_code, "610431001001001");
}

plugin::Record chat(std::string_view text, std::string_view kind) {
  plugin::Record r;
  r.channel = "wechat";
  r.text = text;
  r.ctx_kind = kind;
  if (kind == "compound") {
    r.ctx_community_code = "610431001004";
    r.ctx_compound = "清河新城";
  } else if (kind == "community") {
    r.ctx_community_code = "610431001007";
  } else {
    r.ctx_community_code = "610431001006";
    r.ctx_grid_code = "610431001006002";
  }
  return r;
}

TEST(Gazetteer, CompoundChatContext) {
  auto b = wugong().resolve(chat("咱们小区5栋的老人高龄补贴怎么申请？", "compound"));
  EXPECT_EQ(b.grid_code, "610431001004001");
  EXPECT_EQ(b.why.rule, "ctx_compound+building");
  EXPECT_EQ(wugong().resolve(chat("咱们小区十四号楼楼门的锁坏了", "compound")).grid_code, "610431001004002");
  EXPECT_EQ(wugong().resolve(chat("10-2有户人家每天中午唱歌", "compound")).grid_code, "610431001004002");
  EXPECT_EQ(wugong().resolve(chat("12-3-1001楼上漏水", "compound")).grid_code, "610431001004002");
  auto c = wugong().resolve(chat("咱们小区停电了", "compound"));   // split compound, no building
  EXPECT_EQ(c.community_code, "610431001004");
  EXPECT_EQ(c.grid_code, "");
  // "三天" is not a building.
  EXPECT_EQ(wugong().resolve(chat("咱小区两三天没水了", "compound")).grid_code, "");
  // Explicit text wins over the group.
  EXPECT_EQ(wugong().resolve(chat("迎宾路17号井盖丢了", "compound")).grid_code, "610431001001001");
}

TEST(Gazetteer, CommunityAndGridChatContext) {
  auto c = wugong().resolve(chat("咱们社区物业不作为", "community"));
  EXPECT_EQ(c.community_code, "610431001007");
  EXPECT_EQ(c.grid_code, "");
  EXPECT_EQ(c.why.rule, "ctx_community");
  auto g = wugong().resolve(chat("咱们这片路灯不亮", "grid"));
  EXPECT_EQ(g.grid_code, "610431001006002");
  EXPECT_EQ(g.community_code, "610431001006");
  EXPECT_EQ(g.why.rule, "ctx_grid");
  EXPECT_EQ(wugong().resolve(chat("麦香社区这边路灯不亮", "grid")).community_code, "610431001001");
}

// --- Coordinates -----------------------------------------------------------------------------

/// Independent copy of the public WGS-84 -> GCJ-02 formulas, to build a WeChat-style point.
plugin::GeoPoint to_gcj02(double lat, double lon) {
  constexpr double kPi = 3.14159265358979324, kA = 6378245.0, kEe = 0.00669342162296594323;
  const double x = lon - 105.0, y = lat - 35.0;
  double d_lat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * std::sqrt(std::abs(x));
  d_lat += (20.0 * std::sin(6.0 * x * kPi) + 20.0 * std::sin(2.0 * x * kPi)) * 2.0 / 3.0;
  d_lat += (20.0 * std::sin(y * kPi) + 40.0 * std::sin(y / 3.0 * kPi)) * 2.0 / 3.0;
  d_lat += (160.0 * std::sin(y / 12.0 * kPi) + 320 * std::sin(y * kPi / 30.0)) * 2.0 / 3.0;
  double d_lon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * std::sqrt(std::abs(x));
  d_lon += (20.0 * std::sin(6.0 * x * kPi) + 20.0 * std::sin(2.0 * x * kPi)) * 2.0 / 3.0;
  d_lon += (20.0 * std::sin(x * kPi) + 40.0 * std::sin(x / 3.0 * kPi)) * 2.0 / 3.0;
  d_lon += (150.0 * std::sin(x / 12.0 * kPi) + 300.0 * std::sin(x / 30.0 * kPi)) * 2.0 / 3.0;
  const double rad = lat / 180.0 * kPi;
  double magic = std::sin(rad);
  magic = 1 - kEe * magic * magic;
  const double sq = std::sqrt(magic);
  d_lat = (d_lat * 180.0) / ((kA * (1 - kEe)) / (magic * sq) * kPi);
  d_lon = (d_lon * 180.0) / (kA / sq * std::cos(rad) * kPi);
  return {lat + d_lat, lon + d_lon, plugin::Datum::kGcj02};
}

TEST(Gazetteer, Gcj02PointNearAGridEdgeIsConvertedBeforeLookup) {
  // 麦香社区第二网格: lon 108.198479..108.202337, lat 34.265408..34.268112. 40 m inside its west edge.
  const double lat = (34.265408 + 34.268112) / 2;
  const double lon = 108.198479 + 40.0 / (111320.0 * std::cos(lat * 3.14159265358979324 / 180.0));
  plugin::Record r;
  r.channel = "wechat";
  r.message_kind = "location";
  r.has_point = true;
  r.point = to_gcj02(lat, lon);
  auto res = wugong().resolve(r);
  EXPECT_EQ(res.grid_code, "610431001001002") << res.why.detail;
  EXPECT_EQ(res.why.rule, "gps");
  // The same numbers read as WGS-84 land hundreds of metres away, in another grid or none.
  r.point.datum = plugin::Datum::kWgs84;
  EXPECT_NE(wugong().resolve(r).grid_code, "610431001001002");
  // The WGS-84 point itself.
  r.point = {lat, lon, plugin::Datum::kWgs84};
  EXPECT_EQ(wugong().resolve(r).grid_code, "610431001001002");
}

TEST(Gazetteer, PointOutsideEveryGridIsNotResolvable) {
  plugin::Record r;
  r.has_point = true;
  r.point = {34.30, 108.25, plugin::Datum::kWgs84};   // in the county, north-east of the town
  auto res = wugong().resolve(r);
  EXPECT_EQ(res.community_code, "");
  EXPECT_EQ(res.grid_code, "");
}

TEST(Gazetteer, PointRefinesASplitCompoundAndTextWinsOverAConflictingPoint) {
  plugin::Record r;
  r.address_text = "清河新城南门";   // 610431001004 split between 001 and 002
  r.has_point = true;
  // Centre of 610431001004002 (lon 108.198479..108.202337, lat 34.259978..34.262749 per grids.csv).
  r.point = {34.2613, 108.2004, plugin::Datum::kWgs84};
  auto res = wugong().resolve(r);
  EXPECT_EQ(res.grid_code, "610431001004002") << res.why.detail;
  EXPECT_EQ(res.why.rule, "compound_split+gps");
  r.address_text = "迎宾路17号";
  EXPECT_EQ(wugong().resolve(r).grid_code, "610431001001001");
}

// --- Outside the street ----------------------------------------------------------------------

TEST(Gazetteer, AnotherTownOfTheCounty) {
  auto r = resolve("武功县游凤镇南街广场舞音响开得太大");
  EXPECT_TRUE(r.other_town);
  EXPECT_FALSE(r.out_of_area);
  EXPECT_EQ(r.community_code, "");
  EXPECT_EQ(r.why.rule, "other_town");
  EXPECT_TRUE(resolve("", "贞元镇迎宾路17号").other_town);   // a local road name in another town
}

TEST(Gazetteer, OutsideTheCountyEvenWithReusedLocalNames) {
  for (const char* addr : {"扶风县城关街道人民路213号", "咸阳市渭城区锦绣花园3号楼", "咸阳市渭城区迎宾路266号",
                           "兴平市文化街123号", "杨凌示范区人民路建工家属院3号楼", "扶风县城关街道福源嘉园3号楼"}) {
    auto r = resolve("该处路灯坏了", addr);
    EXPECT_TRUE(r.out_of_area) << addr;
    EXPECT_EQ(r.community_code, "") << addr;
    EXPECT_EQ(r.grid_code, "") << addr;
    EXPECT_EQ(r.why.rule, "out_of_area") << addr;
  }
  // Recognised by shape, not by the configured list.
  EXPECT_TRUE(resolve("投诉蓝田县华胥镇迎宾路17号噪音扰民").out_of_area);
  // Local phrasing that must not look like another unit.
  EXPECT_FALSE(resolve("我在县城康乐路20号附近的超市买东西").out_of_area);
  EXPECT_EQ(resolve("我在县城康乐路20号附近的超市买东西").grid_code, "610431001007001");
  EXPECT_FALSE(resolve("市民来电反映，小区门口菜市场占道").out_of_area);
}

TEST(Gazetteer, ANeighbouringTownOrAShortCountyNameFromTheWorldsOutsideListIsOutOfArea) {
  // world/outside.csv: towns and short names of the neighbours, which neither the configured list nor
  // the "X县/X市/X区" shape knows.
  for (const char* text : {"绛帐镇东街的路灯坏了好几天", "扶风那边有人占道摆摊", "五泉镇中心街垃圾没人清运",
                           "兴平马嵬街道文化路停水了"}) {
    auto r = resolve(text);
    EXPECT_TRUE(r.out_of_area) << text << ": " << r.why.rule << " " << r.why.detail;
    EXPECT_EQ(r.community_code, "") << text;
    EXPECT_EQ(r.why.rule, "out_of_area") << text;
  }
}

TEST(Gazetteer, AnInAreaReportThatMentionsAPlaceOutsideInPassingStaysInTheStreet) {
  for (const char* text : {"我在兴平上班，家住迎宾路17号，楼下路灯坏了", "刚从绛帐镇回来，发现春晖名居门口垃圾堆成山"}) {
    auto r = resolve(text);
    EXPECT_FALSE(r.out_of_area) << text;
    EXPECT_NE(r.community_code, "") << text << ": " << r.why.rule << " " << r.why.detail;
  }
}

// --- Loading and configuration ---------------------------------------------------------------

class BadWorld : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = tmp_.path();   // mkdtemp: concurrent runs of the suite never share files
    for (const char* f : {"communities.csv", "grids.csv", "compounds.csv", "roads.csv", "outside.csv"}) {
      fs::copy_file(kWorld / f, dir_ / f);
    }
  }

  void rewrite(const char* file, const std::string& from, const std::string& to) {
    std::string s = read_file(dir_ / file);
    const auto pos = s.find(from);
    ASSERT_NE(pos, std::string::npos);
    s.replace(pos, from.size(), to);
    std::ofstream(dir_ / file, std::ios::binary | std::ios::trunc) << s;
  }

  gridhub::testing::TempDir tmp_;
  fs::path dir_;
};

TEST_F(BadWorld, MissingColumnNamesFileAndColumn) {
  rewrite("roads.csv", "parity", "side");
  auto g = Gazetteer::load(dir_);
  ASSERT_FALSE(g.ok());
  EXPECT_NE(g.error().detail.find("roads.csv:1"), std::string::npos) << g.error().detail;
  EXPECT_NE(g.error().detail.find("'parity'"), std::string::npos) << g.error().detail;
}

TEST_F(BadWorld, UnknownGridCodeInCompoundsNamesFileAndLine) {
  rewrite("compounds.csv", "610431001001002,1,2,迎宾路,73", "610431001001099,1,2,迎宾路,73");   // line 4
  auto g = Gazetteer::load(dir_);
  ASSERT_FALSE(g.ok());
  EXPECT_NE(g.error().detail.find("compounds.csv:4"), std::string::npos) << g.error().detail;
  EXPECT_NE(g.error().detail.find("610431001001099"), std::string::npos) << g.error().detail;
}

TEST_F(BadWorld, VersionFollowsTheBytes) {
  auto before = Gazetteer::load(dir_);
  ASSERT_TRUE(before.ok());
  EXPECT_EQ(before->version(), wugong().version());
  rewrite("roads.csv", "迎宾路,1,39,odd", "迎宾路,1,37,odd");
  auto after = Gazetteer::load(dir_);
  ASSERT_TRUE(after.ok()) << after.error().message();
  EXPECT_NE(after->version(), before->version());
}

TEST_F(BadWorld, TheOutsideListIsPartOfTheVersionAndMayNotReuseAPlaceOfTheStreet) {
  auto before = Gazetteer::load(dir_);
  ASSERT_TRUE(before.ok());
  rewrite("outside.csv", "绛帐镇,town,扶风县", "绛帐镇,town,扶风县\n召公街道,town,扶风县");
  auto more = Gazetteer::load(dir_);
  ASSERT_TRUE(more.ok()) << more.error().message();
  EXPECT_NE(more->version(), before->version());
  rewrite("outside.csv", "召公街道,town,扶风县", "春晖名居,town,扶风县");
  auto clash = Gazetteer::load(dir_);
  ASSERT_FALSE(clash.ok());
  EXPECT_NE(clash.error().message().find("outside.csv:"), std::string::npos) << clash.error().message();
  EXPECT_NE(clash.error().message().find("春晖名居"), std::string::npos) << clash.error().message();
  rewrite("outside.csv", "春晖名居,town,扶风县", ",town,扶风县");   // a row without its name
  auto unnamed = Gazetteer::load(dir_);
  ASSERT_FALSE(unnamed.ok());
  EXPECT_NE(unnamed.error().message().find("outside.csv:"), std::string::npos) << unnamed.error().message();
  EXPECT_NE(unnamed.error().message().find("empty name"), std::string::npos) << unnamed.error().message();
  fs::remove(dir_ / "outside.csv");   // optional: a world without it loads
  EXPECT_TRUE(Gazetteer::load(dir_).ok());
}

TEST(GazetteerPlugin, DescriptorCreatesAResolver) {
  const plugin::Descriptor* d = resolver_gazetteer_descriptor();
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->abi_version, plugin::kAbiVersion);
  EXPECT_EQ(d->struct_size, sizeof(plugin::Descriptor));
  EXPECT_EQ(d->kind, plugin::Kind::kResolver);
  char err[512] = {};
  const std::string base = (kWugong).string();
  plugin::Stage* stage = d->create("world_dir = \"world\"\n", base.c_str(), err, sizeof err);
  ASSERT_NE(stage, nullptr) << err;
  EXPECT_EQ(stage->data_version(), wugong().version());
  plugin::Record r;
  r.text = "迎宾路18号";
  EXPECT_EQ(static_cast<plugin::Resolver*>(stage)->resolve(r).grid_code, "610431001001004");
  d->destroy(stage);
}

TEST(GazetteerPlugin, UnknownConfigKeyIsNamed) {
  const plugin::Descriptor* d = resolver_gazetteer_descriptor();
  char err[512] = {};
  plugin::Stage* stage = d->create("world_dir = \"world\"\nworld_dri = \"x\"\n", kWugong.c_str(), err, sizeof err);
  EXPECT_EQ(stage, nullptr);
  EXPECT_NE(std::string(err).find("world_dri"), std::string::npos) << err;
}

TEST(GazetteerPlugin, MissingWorldDirIsNamed) {
  const plugin::Descriptor* d = resolver_gazetteer_descriptor();
  char err[512] = {};
  EXPECT_EQ(d->create("world_dir = \"no_such_world\"\n", kWugong.c_str(), err, sizeof err), nullptr);
  EXPECT_NE(std::string(err).find("communities.csv"), std::string::npos) << err;
  EXPECT_EQ(d->create("county = 3\n", kWugong.c_str(), err, sizeof err), nullptr);
  EXPECT_NE(std::string(err).find("county"), std::string::npos) << err;
}

// --- Labelled check over the public hotline exports ------------------------------------------

struct Label {
  std::string community;
  std::string grid;
  bool out_of_area = false;
  bool ticket = false;
  bool malformed = false;
  std::string form;
};

std::map<std::pair<std::string, std::string>, Label> read_labels() {
  std::map<std::pair<std::string, std::string>, Label> out;
  const std::string text = read_file(kWugong / "labels.csv");
  text::CsvReader reader(text);
  text::CsvRecord rec;
  reader.next(rec);   // header
  while (reader.next(rec)) {
    if (rec.size() < 13) continue;
    Label l{rec.fields[6], rec.fields[7], rec.fields[11] == "1", rec.fields[3] == "1", rec.fields[4] == "1",
            rec.fields[12]};
    out.emplace(std::make_pair(rec.fields[1], rec.fields[2]), std::move(l));
  }
  return out;
}

TEST(GazetteerLabelled, HotlineExports) {
  const auto labels = read_labels();
  opencc::SimpleConverter t2s("t2s.json");
  int n = 0, community_ok = 0, with_grid = 0, grid_ok = 0, wrong_grid = 0, out_total = 0, out_found = 0,
      out_false = 0;
  std::vector<std::string> misses;
  std::vector<double> times_us;
  for (const char* file : {"hotline/export_20240506-20240516.csv", "hotline/export_20240517-20240526.csv",
                           "hotline/export_20240527-20240605.csv"}) {
    const std::string bytes = read_file(kWugong / file);
    auto parsed = hotline::parse_export(bytes, file, hotline::ParseOptions{});
    ASSERT_TRUE(parsed.ok()) << parsed.error().message();
    for (const auto& e : parsed->events) {
      const auto it = labels.find({file, e.source_key()});
      if (it == labels.end() || !it->second.ticket || it->second.malformed) continue;
      const Label& l = it->second;
      // The host converts Traditional to Simplified before any stage sees the text.
      const std::string text = t2s.Convert(e.fields().text());
      const std::string address = t2s.Convert(e.fields().address_text());
      plugin::Record r;
      r.channel = "hotline";
      r.source_key = e.source_key();
      r.text = text;
      r.address_text = address;
      const auto t0 = std::chrono::steady_clock::now();
      const plugin::Resolution res = wugong().resolve(r);
      times_us.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
      ++n;
      const bool c_ok = res.community_code == l.community;
      community_ok += c_ok;
      if (!l.grid.empty()) {
        ++with_grid;
        grid_ok += res.grid_code == l.grid;
      }
      if (!res.grid_code.empty() && res.grid_code != l.grid) ++wrong_grid;
      out_total += l.out_of_area;
      out_found += l.out_of_area && res.out_of_area;
      out_false += !l.out_of_area && res.out_of_area;
      if (!c_ok || res.grid_code != l.grid || res.out_of_area != l.out_of_area) {
        misses.push_back(e.source_key() + " [" + l.form + "] want " + l.community + "/" + l.grid + " got " +
                         res.community_code + "/" + res.grid_code + " (" + res.why.rule + ": " + res.why.detail +
                         ") | " + address + " | " + text);
      }
    }
  }
  ASSERT_GT(n, 200);
  const double community_acc = static_cast<double>(community_ok) / n;
  const double grid_acc = static_cast<double>(grid_ok) / with_grid;
  const double out_recall = out_total == 0 ? 1.0 : static_cast<double>(out_found) / out_total;
  std::sort(times_us.begin(), times_us.end());
  std::printf("[gazetteer] %d hotline tickets: community %.4f, grid %.4f (%d/%d), wrong grids %d, "
              "out_of_area recall %.3f (%d/%d), false out_of_area %d; resolve median %.2f us, p99 %.2f us\n",
              n, community_acc, grid_acc, grid_ok, with_grid, wrong_grid, out_recall, out_found, out_total, out_false,
              times_us[times_us.size() / 2], times_us[times_us.size() * 99 / 100]);
  for (const auto& m : misses) std::printf("  miss: %s\n", m.c_str());
  EXPECT_GE(community_acc, 0.97);
  EXPECT_GE(grid_acc, 0.95);
  EXPECT_GE(out_recall, 0.95);
  EXPECT_EQ(out_false, 0);
}

// Information only (timed assertions belong in bench/): the median over typical texts.
TEST(GazetteerTiming, MedianResolveTimeIsPrinted) {
  const std::vector<std::pair<std::string, std::string>> samples = {
      {"来电人反映：普集街道迎宾路77号的井盖丢了，太危险了，请赶紧派人来！", "武功县"},
      {"市民来电反映，此处整栋楼都没电了，麻烦抓紧时间。", "陕西省咸阳市武功县普集街道书院社区农行家属院1号楼2单元"},
      {"来电称：祥和府12-2-1001楼上漏水到我家，协商不成，麻烦社区来调解。", ""},
      {"来电人反映：该处的那排路灯一闪一闪的，太影响大家生活了！", "咸阳市渭城区文化街滨江壹号17号楼"},
      {"这边的那排路灯不亮了，三天了，麻烦尽快派人来看看。来电人要求尽快处理。", ""},
  };
  std::vector<double> us;
  for (int round = 0; round < 2000; ++round) {
    for (const auto& [text, addr] : samples) {
      const auto t0 = std::chrono::steady_clock::now();
      const auto r = resolve(text, addr);
      us.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
      if (r.why.rule.empty()) ADD_FAILURE() << "every resolution names its rule";
    }
  }
  std::sort(us.begin(), us.end());
  std::printf("[gazetteer] resolve median %.2f us, p99 %.2f us over %zu calls\n", us[us.size() / 2],
              us[us.size() * 99 / 100], us.size());
  SUCCEED();
}

}  // namespace
}  // namespace gridhub::plugins
