// The hub's [admin] endpoint end to end: a real hub with /metrics on loopback, events sent through the
// real hotline adapter, a real subscriber, and the scrape read by a real Prometheus text parser
// (Debian python3-prometheus-client).
#include <chrono>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "gridhub/sqlite/sqlite.hpp"
#include "hotline_export.hpp"
#include "http_client.hpp"
#include "process.hpp"

namespace gridhub::testing {
namespace {

using namespace std::chrono_literals;

constexpr const char* kPython = "/usr/bin/python3";
const std::string kHotlineCsv = source_path("examples/wugong/hotline/export_20240506-20240516.csv");

/// Every sample of a scrape, keyed `name{k="v",...}` with labels in name order, as the parser read it.
using Samples = std::map<std::string, double>;

Samples parse_with_prometheus_client(const std::filesystem::path& dir, const std::string& text) {
  const auto in = dir / "scrape.txt";
  std::ofstream(in) << text;
  const auto script = dir / "parse.py";
  std::ofstream(script) << "import json, sys\n"
                           "from prometheus_client.parser import text_string_to_metric_families\n"
                           "out = []\n"
                           "for f in text_string_to_metric_families(open(sys.argv[1], encoding='utf-8').read()):\n"
                           "    for s in f.samples:\n"
                           "        out.append([s.name, sorted(s.labels.items()), s.value])\n"
                           "print(json.dumps(out))\n";
  auto [rc, out] = run({kPython, script.string(), in.string()}, dir / "parse.stderr");
  EXPECT_EQ(rc, 0) << slurp(dir / "parse.stderr");
  Samples samples;
  if (rc != 0) return samples;
  const boost::json::value parsed = boost::json::parse(out);
  for (const auto& s : parsed.as_array()) {
    const auto& a = s.as_array();
    std::string key = std::string(a[0].as_string()) + "{";
    bool first = true;
    for (const auto& l : a[1].as_array()) {
      key += (first ? "" : ",") + std::string(l.as_array()[0].as_string()) + "=\"" + std::string(l.as_array()[1].as_string()) + "\"";
      first = false;
    }
    key += "}";
    samples[key] = a[2].to_number<double>();
  }
  return samples;
}

double value(const Samples& s, const std::string& key) {
  auto it = s.find(key);
  if (it == s.end()) {
    ADD_FAILURE() << "no sample " << key;
    return -1;
  }
  return it->second;
}

/// The example export's header and first `rows` records, plus one record whose time cannot be read.
std::filesystem::path write_export(const std::filesystem::path& dir, int rows) {
  std::ifstream in(kHotlineCsv, std::ios::binary);
  std::string line;
  std::string csv;
  std::string a_record;
  for (int i = 0; i <= rows && std::getline(in, line); ++i) {
    csv += line + "\n";
    if (i == 1) a_record = line;
  }
  // Same shape, another work-order number, and a time that is not one.
  const auto second_comma = a_record.find(',', a_record.find(',') + 1);
  csv += "GD209912310001,not a time" + a_record.substr(second_comma) + "\n";
  const auto file = dir / "export.csv";
  std::ofstream(file, std::ios::binary) << csv;
  return file;
}

class AdminEndpoint : public ::testing::Test {
 protected:
  void SetUp() override {
    if (run({kPython, "-c", "import prometheus_client.parser"}, dir_ / "py-check.stderr").first != 0) {
      GTEST_SKIP() << "python3-prometheus-client is missing (scripts/setup.sh installs it)";
    }
  }
  std::pair<int, std::string> import(const std::filesystem::path& config, const std::filesystem::path& file) {
    return run({bin("gridhub-hotline"), "-c", config.string(), file.string()}, dir_ / "hotline.stderr");
  }
  Samples scrape() {
    HttpClient c(hub_->admin());
    auto r = c.request("GET", "/metrics");
    EXPECT_EQ(r.status, 200u) << r.body;
    EXPECT_EQ(r.header("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
    return parse_with_prometheus_client(dir_.path(), r.body);
  }
  std::int64_t query(const std::string& sql) {
    auto db = sqlite::Database::open(hub_->db(), sqlite::OpenMode::kReadOnly);
    EXPECT_TRUE(db.ok());
    auto v = db->query_int(sql);
    EXPECT_TRUE(v.ok()) << sql;
    return v.ok() ? v.value() : -1;
  }

  TempDir dir_;
  std::optional<HubProcess> hub_;
  std::filesystem::path hotline_cfg_;
};


TEST_F(AdminEndpoint, MetricsCountWhatAdaptersSentAndASubscriptionsLag) {
  hub_.emplace(dir_.path(), std::string{}, "[admin]\nlisten = \"127.0.0.1:0\"\n");
  hub_->start();
  ASSERT_FALSE(hub_->admin().empty());
  hotline_cfg_ = write_hotline_config(dir_.path(), "hotline", hub_->ingest());
  // A second adapter with its own outbox, so the same export reaches the hub again (not the outbox's dedup).
  const auto second_cfg = write_hotline_config(dir_.path(), "hotline-b", hub_->ingest());
  {
    HttpClient c(hub_->admin());
    EXPECT_EQ(c.request("GET", "/healthz").status, 200u);
    auto ready = c.request("GET", "/readyz");
    EXPECT_EQ(ready.status, 200u) << ready.body;
    EXPECT_EQ(ready.body, "ready\n");
  }

  const auto file = write_export(dir_.path(), 5);
  auto [rc, out] = import(hotline_cfg_, file);
  ASSERT_EQ(rc, 0) << slurp(dir_ / "hotline.stderr");
  std::tie(rc, out) = import(second_cfg, file);   // the same export again: the hub knows every record
  ASSERT_EQ(rc, 0) << slurp(dir_ / "hotline.stderr");
  ASSERT_EQ(query("SELECT count(*) FROM dead_letters"), 1) << "the unreadable record is not the one dead letter";
  const std::string reason = [&] {
    auto db = sqlite::Database::open(hub_->db(), sqlite::OpenMode::kReadOnly);
    return db->query_text("SELECT reason_code FROM dead_letters").value();
  }();

  // A department reads two records and acknowledges them.
  auto [src, sout] = run({bin("gridhubctl"), "subscribe", "--stream", hub_->stream(), "--as", "dept-a", "--count", "2"},
                         dir_ / "sub.stderr");
  ASSERT_EQ(src, 0) << slurp(dir_ / "sub.stderr");
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (query("SELECT coalesce((SELECT acked_seq FROM subscriptions WHERE name = 'dept-a'), 0)") == 0 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(20ms);   // the cursor is stored after the acknowledgement; poll with a deadline
  }
  const auto acked = query("SELECT acked_seq FROM subscriptions WHERE name = 'dept-a'");
  ASSERT_GT(acked, 0);
  const auto head = query("SELECT max(seq) FROM log");

  const Samples m = scrape();
  EXPECT_EQ(value(m, "gridhub_hub_ingest_received_total{channel=\"hotline\"}"), 12) << "both imports, resends included";
  EXPECT_EQ(value(m, "gridhub_hub_ingest_received_total{channel=\"unspecified\"}"), 0);
  EXPECT_EQ(value(m, "gridhub_hub_ingest_events_total{channel=\"hotline\",outcome=\"accepted\"}"), 5);
  EXPECT_EQ(value(m, "gridhub_hub_ingest_events_total{channel=\"hotline\",outcome=\"dead_lettered\"}"), 1);
  EXPECT_EQ(value(m, "gridhub_hub_ingest_events_total{channel=\"hotline\",outcome=\"duplicate\"}"), 6);
  EXPECT_EQ(value(m, "gridhub_hub_ingest_dead_letters_total{channel=\"hotline\",reason=\"" + reason + "\"}"), 1);
  // The counters gridhubctl status shows, under the same names.
  EXPECT_EQ(value(m, "gridhub_hub_ingest_accepted_total{}"), 5);
  EXPECT_EQ(value(m, "gridhub_hub_ingest_duplicates_total{}"), 5);
  EXPECT_EQ(value(m, "gridhub_hub_ingest_dead_lettered_total{}"), 1);
  EXPECT_GE(value(m, "gridhub_hub_stream_acks_total{}"), 1);
  EXPECT_GE(value(m, "gridhub_hub_stream_frames_encoded_total{}"), 1);
  EXPECT_EQ(value(m, "gridhub_hub_log_head_seq{}"), static_cast<double>(head));
  // The lag of the subscription, in records and seconds, and when it last acknowledged.
  EXPECT_EQ(value(m, "gridhub_hub_subscription_lag_records{subscription=\"dept-a\"}"), static_cast<double>(head - acked));
  EXPECT_GT(head - acked, 0);
  EXPECT_GT(value(m, "gridhub_hub_subscription_lag_seconds{subscription=\"dept-a\"}"), 0);
  EXPECT_GT(value(m, "gridhub_hub_subscription_last_ack_timestamp_seconds{subscription=\"dept-a\"}"), 1.7e9);
  // Every acknowledged event went through the ack latency histogram; every commit through the writer's.
  EXPECT_EQ(value(m, "gridhub_hub_ack_latency_seconds_count{}"), 12);
  EXPECT_EQ(value(m, "gridhub_hub_ack_latency_seconds_bucket{le=\"+Inf\"}"), 12);
  EXPECT_GE(value(m, "gridhub_hub_commit_batch_size_count{}"), 2);
  EXPECT_EQ(value(m, "gridhub_hub_commit_batch_size_count{}"), value(m, "gridhub_hub_commit_duration_seconds_count{}"));
  EXPECT_EQ(value(m, "gridhub_hub_writer_queue_depth{}"), 0);
  EXPECT_EQ(value(m, "gridhub_hub_open_tickets{assignee=\"\",tier=\"unspecified\"}"), 5);
  EXPECT_EQ(value(m, "gridhub_hub_ready{}"), 1);

  // Draining: no longer ready. The hub exits cleanly with the endpoint open.
  EXPECT_EQ(hub_->terminate(), 0) << slurp(hub_->stderr_file());
}

TEST_F(AdminEndpoint, PluginDecisionsAndReloadResultsAreCounted) {
  const std::string wugong = source_path("examples/wugong");
  hub_.emplace(dir_.path(), std::string{},
               "[admin]\nlisten = \"127.0.0.1:0\"\n"
               "[pipeline]\nchat_groups = \"" + wugong + "/wechat/groups.csv\"\n"
               "[plugins.resolver_gazetteer]\nworld_dir = \"" + wugong + "/world\"\n"
               "[plugins.classifier_ngram]\nmodel = \"" + wugong + "/model/classifier.ngram\"\n"
               "[plugins.router_tiered]\ncategories = \"" + wugong + "/world/categories.csv\"\n");
  hub_->start();
  hotline_cfg_ = write_hotline_config(dir_.path(), "hotline", hub_->ingest());
  auto [rc, out] = import(hotline_cfg_, write_export(dir_.path(), 5));
  ASSERT_EQ(rc, 0) << slurp(dir_ / "hotline.stderr");
  auto [rrc, rout] = run({bin("gridhubctl"), "reload", "--hub", hub_->ingest()}, dir_ / "reload.stderr");
  ASSERT_EQ(rrc, 0) << slurp(dir_ / "reload.stderr");

  const Samples m = scrape();
  // Each accepted record was classified and routed once; the decisions name their plugin and rule.
  double classified = 0;
  double routed = 0;
  for (const auto& [key, v] : m) {
    if (!key.starts_with("gridhub_hub_plugin_decisions_total{")) continue;
    if (key.find("stage=\"classifier\"") != std::string::npos) classified += v;
    if (key.find("stage=\"router\"") != std::string::npos) routed += v;
    EXPECT_NE(key.find("plugin=\""), std::string::npos) << key;
  }
  EXPECT_EQ(classified, 5);
  EXPECT_EQ(routed, 5);
  EXPECT_EQ(value(m, "gridhub_hub_pipeline_reloads_total{}"), 1);
  EXPECT_EQ(value(m, "gridhub_hub_pipeline_reload_failures_total{}"), 0);
  // Routed tickets are open at a tier, with an assignee.
  double open = 0;
  for (const auto& [key, v] : m) {
    if (key.starts_with("gridhub_hub_open_tickets{") && key.find("tier=\"unspecified\"") == std::string::npos) open += v;
  }
  EXPECT_EQ(open, 5);
}

TEST_F(AdminEndpoint, SlaClocksByTierAndHotspotsOpenedMatchTheHubsOwnFigures) {
  const std::string wugong = source_path("examples/wugong");
  hub_.emplace(dir_.path(), std::string{},
               "[admin]\nlisten = \"127.0.0.1:0\"\n"
               "[pipeline]\nchat_groups = \"" + wugong + "/wechat/groups.csv\"\n"
               "[plugins.resolver_gazetteer]\nworld_dir = \"" + wugong + "/world\"\n"
               "[plugins.classifier_ngram]\nmodel = \"" + wugong + "/model/classifier.ngram\"\n"
               "[plugins.router_tiered]\ncategories = \"" + wugong + "/world/categories.csv\"\n"
               "[sla]\ncalendar = \"" + wugong + "/calendar.toml\"\ncategories = \"" + wugong + "/world/categories.csv\"\n"
               "[hotspots]\ntickets = 3\nhours = 24\n");
  hub_->start();
  hotline_cfg_ = write_hotline_config(dir_.path(), "hotline", hub_->ingest());
  const auto csv = dir_ / "garbage.csv";
  write_garbage_reports(csv);
  auto [rc, out] = import(hotline_cfg_, csv);
  ASSERT_EQ(rc, 0) << slurp(dir_ / "hotline.stderr");

  const Samples m = scrape();
  EXPECT_EQ(value(m, "gridhub_hub_ingest_received_total{channel=\"hotline\"}"), 3);
  EXPECT_EQ(value(m, "gridhub_hub_hotspots_opened_total{}"), 1);
  EXPECT_EQ(value(m, "gridhub_hub_hotspots_joined_total{}"), 0);
  // Three grid tickets with the grid's clock, and the hotspot's incident one tier up with the community's.
  EXPECT_EQ(value(m, "gridhub_hub_sla_clocks{state=\"running\",tier=\"grid\"}"), 3);
  EXPECT_EQ(value(m, "gridhub_hub_sla_clocks{state=\"running\",tier=\"community\"}"), 1);
  EXPECT_EQ(value(m, "gridhub_hub_sla_clocks{state=\"breached\",tier=\"grid\"}"), 0);
  double running = 0;
  for (const auto& [key, v] : m) {
    if (key.starts_with("gridhub_hub_sla_clocks{") && key.find("state=\"running\"") != std::string::npos) running += v;
  }
  EXPECT_EQ(running, value(m, "gridhub_hub_sla_running_clocks{}")) << "by tier adds up to the status figure";
  EXPECT_EQ(running, query("SELECT count(*) FROM tickets WHERE status IN (2, 3, 5)"));
}

TEST_F(AdminEndpoint, ANonLoopbackListenIsRefusedUnlessAllowed) {
  hub_.emplace(dir_.path(), std::string{}, "[admin]\nlisten = \"0.0.0.0:0\"\n");
  auto [rc, out] = run({bin("gridhub"), "-c", hub_->config().string()}, dir_ / "refused.stderr");
  EXPECT_EQ(rc, 2);
  const auto err = slurp(dir_ / "refused.stderr");
  EXPECT_NE(err.find("admin.listen"), std::string::npos) << err;
  EXPECT_NE(err.find("allow_remote"), std::string::npos) << err;
}

}  // namespace
}  // namespace gridhub::testing
