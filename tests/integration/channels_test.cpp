// Every public sample of every channel through its adapter process into one routing hub.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "gridhub/sqlite/sqlite.hpp"
#include "process.hpp"

namespace gridhub::testing {
namespace {

const std::string kWugong = source_path("examples/wugong");

std::int64_t json_int(const std::string& json, const std::string& key) {
  const std::string needle = "\"" + key + "\":";
  auto pos = json.find(needle);
  return pos == std::string::npos ? -1 : std::strtoll(json.c_str() + pos + needle.size(), nullptr, 10);
}

struct Truth {
  std::map<std::string, int> records, malformed, not_tickets;   // by channel
  int tickets = 0;
  int incidents = 0;
};

Truth truth() {
  Truth t;
  std::ifstream in(kWugong + "/labels.csv");
  std::string line;
  std::getline(in, line);   // header: channel,file,record_key,is_ticket,malformed,...,incident_id(10),...
  std::set<std::string> incidents;
  while (std::getline(in, line)) {
    std::vector<std::string> f;
    std::stringstream ss(line);
    for (std::string x; std::getline(ss, x, ',');) f.push_back(x);
    ++t.records[f[0]];
    if (f[4] == "1") {
      ++t.malformed[f[0]];
    } else if (f[3] == "0") {
      ++t.not_tickets[f[0]];
    } else {
      ++t.tickets;
      incidents.insert(f[10]);
    }
  }
  t.incidents = static_cast<int>(incidents.size());
  return t;
}

std::filesystem::path adapter_config(const std::filesystem::path& dir, const std::string& name, const std::string& hub,
                                     const std::string& section) {
  auto file = dir / (name + ".toml");
  std::ofstream(file) << "[adapter]\nid = \"" << name << "\"\nhub = \"" << hub << "\"\noutbox = \"" << name
                      << "-outbox.db\"\n" << section;
  return file;
}

TEST(Channels, EveryPublicSampleReachesTheHubThroughItsAdapterAndIsRouted) {
  Truth want = truth();
  TempDir dir;
  HubProcess hub(dir.path(), {},
                 "[pipeline]\nchat_groups = \"" + kWugong + "/wechat/groups.csv\"\n"
                 "[plugins.resolver_gazetteer]\nworld_dir = \"" + kWugong + "/world\"\n"
                 "[plugins.classifier_ngram]\nmodel = \"" + kWugong + "/model/classifier.ngram\"\n"
                 "[plugins.router_tiered]\ncategories = \"" + kWugong + "/world/categories.csv\"\n");
  hub.start();

  std::vector<std::string> hotline = {bin("gridhub-hotline"), "-c", adapter_config(dir.path(), "hotline", hub.ingest(), "").string(),
                                      "--json-summary"};
  for (const char* f : {"export_20240506-20240516.csv", "export_20240517-20240526.csv", "export_20240527-20240605.csv",
                        "export_20240606-20240616.xlsx"}) {
    hotline.push_back(kWugong + "/hotline/" + f);
  }
  std::vector<std::string> wechat = {bin("gridhub-wechat"), "-c", adapter_config(dir.path(), "wechat", hub.ingest(), "").string(),
                                     "--json-summary", kWugong + "/wechat/owners_group_A_utf8.csv",
                                     kWugong + "/wechat/residents_group_B_utf8.csv", kWugong + "/wechat/grid_group_C.txt"};
  for (const auto& e : std::filesystem::directory_iterator(kWugong + "/wechat/oa")) wechat.push_back(e.path().string());
  std::vector<std::string> webform = {
      bin("gridhub-webform"), "-c",
      adapter_config(dir.path(), "webform", hub.ingest(), "[webform]\nfield_map = \"" + kWugong + "/webform/field_map.json\"\n").string(),
      "--json-summary", kWugong + "/webform/jinshuju_push.jsonl", kWugong + "/webform/h5_form_posts.txt"};

  for (auto& [channel, argv] : std::vector<std::pair<std::string, std::vector<std::string>>>{
           {"hotline", hotline}, {"wechat", wechat}, {"webform", webform}}) {
    auto [rc, out] = run(argv, dir / (channel + ".stderr"));
    ASSERT_EQ(rc, 0) << channel << ": " << out << slurp(dir / (channel + ".stderr"));
    EXPECT_EQ(json_int(out, "rows"), want.records.at(channel)) << channel << ": " << out;
    EXPECT_EQ(json_int(out, "dead_lettered"), want.malformed[channel]) << channel << ": " << out;
    EXPECT_EQ(json_int(out, "sent"), want.records.at(channel) - want.malformed[channel]) << channel << ": " << out;
  }

  auto db = sqlite::Database::open(hub.db(), sqlite::OpenMode::kReadOnly);
  ASSERT_TRUE(db.ok());
  int records = 0, malformed = 0, not_tickets = 0;
  for (const auto& [c, n] : want.records) records += n;
  for (const auto& [c, n] : want.malformed) malformed += n;
  for (const auto& [c, n] : want.not_tickets) not_tickets += n;
  EXPECT_EQ(db->query_int("SELECT count(*) FROM log").value(), records - malformed);
  EXPECT_EQ(db->query_int("SELECT count(*) FROM dead_letters").value(), malformed);
  // Chit-chat, test orders and location pings are kept in the log but create no ticket.
  EXPECT_EQ(db->query_int("SELECT count(*) FROM log WHERE ticket_id IS NULL").value(), not_tickets);
  // Reports of one incident from several channels join one ticket.
  const auto tickets = db->query_int("SELECT count(*) FROM tickets").value();
  const int merges_wanted = want.tickets - want.incidents;
  const auto merged = (records - malformed - not_tickets) - tickets;
  std::printf("channels: %d records, %d dead letters, %d not tickets, %lld tickets (%lld reports merged; labels say %d)\n",
              records, malformed, not_tickets, static_cast<long long>(tickets), static_cast<long long>(merged), merges_wanted);
  EXPECT_GE(merged, merges_wanted * 8 / 10);
  EXPECT_LE(merged, merges_wanted * 12 / 10);
  EXPECT_EQ(db->query_int("SELECT count(*) FROM tickets WHERE assignee_code IS NULL OR assignee_code = ''").value(), 0);
  EXPECT_EQ(hub.terminate(), 0);
}

// A PyWxDump page, then a later re-export of the same chat that starts three messages further on
// under another file name, from a second adapter with a fresh outbox: the hub stores each message
// once because the key is the chat's MsgSvrID, not the file or the row.
TEST(Channels, PyWxDumpReExportsStoreEachMessageOnce) {
  TempDir dir;
  HubProcess hub(dir.path());
  hub.start();
  const std::string page = kWugong + "/wechat/25867612345@chatroom_0_5000.csv";
  std::string bytes = slurp(page);
  std::size_t cut = bytes.find('\n') + 1;
  const std::string header = bytes.substr(0, cut);
  for (int i = 0; i < 3; ++i) cut = bytes.find("\r\n", cut) + 2;
  const auto later = dir.path() / "25867612345@chatroom_3_5003.csv";
  std::ofstream(later, std::ios::binary) << header << bytes.substr(cut);

  auto [rc1, out1] = run({bin("gridhub-wechat"), "-c", adapter_config(dir.path(), "wechat", hub.ingest(), "").string(),
                          "--json-summary", page},
                         dir.path() / "wechat.stderr");
  ASSERT_EQ(rc1, 0) << out1 << slurp(dir.path() / "wechat.stderr");
  EXPECT_EQ(json_int(out1, "rows"), 12) << out1;
  EXPECT_EQ(json_int(out1, "sent"), 12) << out1;
  auto [rc2, out2] = run({bin("gridhub-wechat"), "-c", adapter_config(dir.path(), "wechat-b", hub.ingest(), "").string(),
                          "--json-summary", later.string()},
                         dir.path() / "wechat-b.stderr");
  ASSERT_EQ(rc2, 0) << out2 << slurp(dir.path() / "wechat-b.stderr");
  EXPECT_EQ(json_int(out2, "rows"), 9) << out2;
  EXPECT_EQ(json_int(out2, "sent"), 0) << out2;
  EXPECT_EQ(json_int(out2, "already_known"), 9) << out2;
  auto db = sqlite::Database::open(hub.db(), sqlite::OpenMode::kReadOnly);
  ASSERT_TRUE(db.ok());
  EXPECT_EQ(db->query_int("SELECT count(*) FROM log").value(), 12);
  EXPECT_EQ(hub.terminate(), 0);
}

}  // namespace
}  // namespace gridhub::testing
