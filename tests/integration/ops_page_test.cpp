// gridhub-ops end to end: a real hub (with its [admin] endpoint and the Wugong pipeline), the real
// hotline adapter, gridhub-ops subscribed to the hub's stream, and the page in headless Chromium —
// the grid map, the counters against the hub's own figures, a new ticket arriving over SSE.
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <thread>

#include <boost/beast/core/detail/base64.hpp>
#include <boost/json.hpp>

#include "devtools.hpp"
#include "http_client.hpp"
#include "process.hpp"

namespace gridhub::testing {
namespace {

using namespace std::chrono_literals;

const std::string kWugong = source_path("examples/wugong");
const std::string kHotlineCsv = kWugong + "/hotline/export_20240506-20240516.csv";

/// The example export's header and its data rows [from, to).
std::filesystem::path export_rows(const std::filesystem::path& file, int from, int to) {
  std::ifstream in(kHotlineCsv, std::ios::binary);
  std::string line;
  std::string csv;
  for (int i = 0; std::getline(in, line); ++i) {
    if (i == 0 || (i > from && i <= to)) csv += line + "\n";
  }
  std::ofstream(file, std::ios::binary) << csv;
  return file;
}

/// The value of an unlabelled sample, or of every `name{...}` sample keyed by one label's value.
std::map<std::string, double> samples(const std::string& page, const std::string& name, const std::string& label) {
  std::map<std::string, double> out;
  std::size_t at = 0;
  while ((at = page.find("\n" + name, at)) != std::string::npos) {
    ++at;
    const std::size_t eol = page.find('\n', at);
    const std::string line = page.substr(at, eol - at);
    const std::size_t sp = line.rfind(' ');
    const std::string head = line.substr(0, sp);
    if (head != name && !head.starts_with(name + "{")) continue;
    std::string key;
    if (const std::size_t l = head.find(label + "=\""); l != std::string::npos) {
      key = head.substr(l + label.size() + 2, head.find('"', l + label.size() + 2) - (l + label.size() + 2));
    }
    out[key] += std::stod(line.substr(sp + 1));
  }
  return out;
}

std::set<std::string> grid_codes() {
  std::ifstream in(kWugong + "/world/grids.csv");
  std::string line;
  std::set<std::string> codes;
  std::getline(in, line);
  while (std::getline(in, line)) {
    if (!line.empty()) codes.insert(line.substr(0, line.find(',')));
  }
  return codes;
}

class OpsPage : public ::testing::Test {
 protected:
  void start_hub() {
    hub_.emplace(dir_.path(), std::string{},
                 "[admin]\nlisten = \"127.0.0.1:0\"\n"
                 "[pipeline]\nresolver = \"resolver_gazetteer\"\nclassifier = \"classifier_ngram\"\nrouter = \"router_tiered\"\n"
                 "[sla]\ncalendar = \"" + kWugong + "/calendar.toml\"\ncategories = \"" + kWugong + "/world/categories.csv\"\n"
                 "[plugins.resolver_gazetteer]\nworld_dir = \"" + kWugong + "/world\"\n"
                 "[plugins.classifier_ngram]\nmodel = \"" + kWugong + "/model/classifier.ngram\"\n"
                 "[plugins.router_tiered]\ncategories = \"" + kWugong + "/world/categories.csv\"\n");
    hub_->start();
    ASSERT_FALSE(hub_->admin().empty());
    hotline_ = write_hotline_config(dir_.path(), "hotline", hub_->ingest());
  }

  void import(int from, int to) {
    const auto file = export_rows(dir_ / ("export-" + std::to_string(from) + ".csv"), from, to);
    auto [rc, out] = run({bin("gridhub-hotline"), "-c", hotline_.string(), file.string()}, dir_ / "hotline.stderr");
    ASSERT_EQ(rc, 0) << slurp(dir_ / "hotline.stderr");
  }

  std::string metrics() { return http_request(hub_->admin(), "GET", "/metrics").body; }

  /// Starts gridhub-ops on the hub; returns its page's host:port.
  std::string start_ops(const std::string& extra = {}) {
    const auto cfg = dir_ / "ops.toml";
    std::ofstream(cfg) << "[ops]\nstream = \"" << hub_->stream() << "\"\nworld_dir = \"" << kWugong << "/world\"\n"
                       << "listen = \"127.0.0.1:0\"\nhub_admin = \"" << hub_->admin() << "\"\npush_interval_ms = 100\n" << extra;
    ops_.emplace(Process::spawn({bin("gridhub-ops"), "-c", cfg.string()}, dir_ / "ops.stderr"));
    auto line = ops_->read_line(30s);
    if (!line || !line->starts_with("READY http=")) {
      ADD_FAILURE() << "no READY line: " << line.value_or("(none)") << "\n" << slurp(dir_ / "ops.stderr");
      return {};
    }
    return line->substr(std::string("READY http=").size());
  }

  TempDir dir_;
  std::optional<HubProcess> hub_;
  std::filesystem::path hotline_;
  std::optional<Process> ops_;
};

TEST_F(OpsPage, ShowsTheCountysGridsAndTheHubsFiguresAndUpdatesLiveInChromium) {
  if (!HeadlessChromium::installed()) GTEST_SKIP() << HeadlessChromium::kBinary << " is not installed (scripts/setup.sh installs chromium)";
  start_hub();
  import(0, 40);
  const std::string address = start_ops();
  ASSERT_FALSE(address.empty());

  // The page as served: one document, nothing from anywhere else, Chinese labels.
  const auto served = http_request(address, "GET", "/");
  ASSERT_EQ(served.status, 200u);
  EXPECT_EQ(served.header("Content-Type"), "text/html; charset=utf-8");
  for (const char* external : {"http://", "https://", "<link", "src=", "@import", "url("}) {
    EXPECT_EQ(served.body.find(external), std::string::npos) << external;
  }

  HeadlessChromium chromium(dir_.path(), "1600,1000");
  ASSERT_TRUE(chromium.ready()) << chromium.stderr_text();
  DevTools& dt = chromium.page();
  boost::json::object nav;
  nav["url"] = "http://" + address + "/";
  dt.call("Page.navigate", nav);

  // Caught up with the log's head (the hub's own figure), over the event stream.
  const auto head = samples(metrics(), "gridhub_hub_log_head_seq", "");
  ASSERT_EQ(head.size(), 1u);
  const std::string head_seq = std::to_string(static_cast<long long>(head.at("")));
  EXPECT_EQ(dt.wait_eval("document.body.dataset.seq", [&](const std::string& v) { return v == head_seq; }), head_seq)
      << slurp(dir_ / "ops.stderr");
  EXPECT_EQ(dt.eval("document.body.dataset.connected"), "true");
  EXPECT_EQ(dt.eval("performance.getEntriesByType('resource').map(e => e.name)"
                    ".filter(n => !n.startsWith(location.origin + '/')).join(' ')"),
            "");

  // One shape per grid of the county, each named by its code.
  const auto codes = grid_codes();
  ASSERT_GT(codes.size(), 10u);
  const auto drawn = boost::json::parse(dt.eval("JSON.stringify([...document.querySelectorAll('svg path.grid')].map(p => p.dataset.grid))"));
  std::set<std::string> drawn_codes;
  for (const auto& c : drawn.as_array()) drawn_codes.insert(std::string(c.as_string()));
  EXPECT_EQ(drawn.as_array().size(), codes.size());
  EXPECT_EQ(drawn_codes, codes);

  // The counters are the hub's: open tickets per assignee and in all (gridhub_hub_open_tickets).
  auto page_assignees = [&] {
    const auto v = boost::json::parse(dt.eval(
        "JSON.stringify(Object.fromEntries([...document.querySelectorAll('#assignees tr[data-code]')]"
        ".map(r => [r.dataset.code, +r.querySelector('.open').textContent])))"));
    std::map<std::string, double> out;
    for (const auto& [k, n] : v.as_object()) out[std::string(k)] = n.to_number<double>();
    return out;
  };
  const auto hub_open = samples(metrics(), "gridhub_hub_open_tickets", "assignee");
  double total = 0;
  for (const auto& [a, n] : hub_open) total += n;
  ASSERT_GT(total, 5) << "the pipeline made tickets";
  EXPECT_EQ(page_assignees(), hub_open);
  EXPECT_EQ(dt.eval("document.getElementById('open').textContent"), std::to_string(static_cast<long long>(total)));
  EXPECT_EQ(dt.eval("String([...document.querySelectorAll('path.grid')].reduce((s, p) => s + +p.dataset.open, 0) > 0)"), "true");
  // Dead letters: what the hub's /metrics counts (read from its admin endpoint every 2 s).
  double dead = 0;
  for (const auto& [k, n] : samples(metrics(), "gridhub_hub_ingest_dead_letters_total", "reason")) dead += n;
  const std::string dead_text = std::to_string(static_cast<long long>(dead));
  EXPECT_EQ(dt.wait_eval("document.getElementById('dead').textContent", [&](const std::string& v) { return v == dead_text; }),
            dead_text);
  const std::string text = dt.eval("document.body.innerText");
  for (const char* label : {"在办工单", "已超时限", "数据流滞后", "死信", "网格地图", "各社区积压", "各部门积压", "临近时限工单", "热点"}) {
    EXPECT_NE(text.find(label), std::string::npos) << label;
  }
  // Masked as for the auditor: no reporter's name or phone from the export reaches the page.
  for (const char* personal : {"173 3924 0674", "17339240674", "135-3395-3116"}) {
    EXPECT_EQ(text.find(personal), std::string::npos) << personal;
  }

  // The screenshot, kept in the build tree.
  const std::string png64(dt.call("Page.captureScreenshot").as_object().at("result").as_object().at("data").as_string());
  std::string png(boost::beast::detail::base64::decoded_size(png64.size()), '\0');
  png.resize(boost::beast::detail::base64::decode(png.data(), png64.data(), png64.size()).first);
  EXPECT_TRUE(png.starts_with("\x89PNG"));
  std::filesystem::create_directories(GRIDHUB_ARTIFACT_DIR);
  std::ofstream(std::filesystem::path(GRIDHUB_ARTIFACT_DIR) / "ops-page.png", std::ios::binary) << png;

  // A new ticket through the adapter: once the hub acknowledged it, the open page shows it within
  // 2 s — the event stream delivers it, nobody reloads.
  const std::string before = dt.eval("document.body.dataset.seq");
  import(40, 41);
  const auto after = samples(metrics(), "gridhub_hub_log_head_seq", "");
  const std::string new_seq = std::to_string(static_cast<long long>(after.at("")));
  ASSERT_NE(new_seq, before);
  EXPECT_EQ(dt.wait_eval("document.body.dataset.seq", [&](const std::string& v) { return v == new_seq; }, 2s), new_seq);
  const auto hub_open_after = samples(metrics(), "gridhub_hub_open_tickets", "assignee");
  EXPECT_EQ(page_assignees(), hub_open_after);
  EXPECT_EQ(dt.eval("String(performance.getEntriesByType('navigation').length)"), "1") << "no reload";

  ops_->signal(SIGTERM);
  EXPECT_EQ(ops_->wait(), 0) << slurp(dir_ / "ops.stderr");
}

/// Polls the page's /summary until its seq is `seq` (30 s deadline); returns the last summary.
boost::json::object summary_at(const std::string& address, std::uint64_t seq) {
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  boost::json::object s;
  while (std::chrono::steady_clock::now() < deadline) {
    s = boost::json::parse(http_request(address, "GET", "/summary").body).as_object();
    if (s.at("seq").to_number<std::uint64_t>() == seq) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));   // polling with a deadline
  }
  return s;
}

TEST_F(OpsPage, ARestartResumesAfterTheSavedPictureAndMatchesTheHubAgain) {
  start_hub();
  import(0, 15);
  const std::string state = "state_file = \"" + (dir_ / "ops-state.json").string() + "\"\n";
  std::string address = start_ops(state);
  ASSERT_FALSE(address.empty());
  const auto head1 = static_cast<std::uint64_t>(samples(metrics(), "gridhub_hub_log_head_seq", "").at(""));
  EXPECT_EQ(summary_at(address, head1).at("seq").to_number<std::uint64_t>(), head1);
  ops_->signal(SIGTERM);
  ASSERT_EQ(ops_->wait(), 0) << slurp(dir_ / "ops.stderr");
  ASSERT_TRUE(std::filesystem::exists(dir_ / "ops-state.json"));

  // More tickets while it is down; it starts again from its saved picture, not from seq 1.
  import(15, 30);
  address = start_ops(state);
  ASSERT_FALSE(address.empty());
  const auto head2 = static_cast<std::uint64_t>(samples(metrics(), "gridhub_hub_log_head_seq", "").at(""));
  ASSERT_GT(head2, head1);
  const auto s = summary_at(address, head2);
  EXPECT_EQ(s.at("seq").to_number<std::uint64_t>(), head2);
  EXPECT_NE(slurp(dir_ / "ops.stderr").find("resumed from " + (dir_ / "ops-state.json").string() + " at seq " + std::to_string(head1)),
            std::string::npos)
      << slurp(dir_ / "ops.stderr");
  EXPECT_NE(slurp(dir_ / "ops.stderr").find("from seq " + std::to_string(head1 + 1) + ","), std::string::npos)
      << "the hub streams from after the saved seq: " << slurp(dir_ / "ops.stderr");
  double total = 0;
  for (const auto& [a, n] : samples(metrics(), "gridhub_hub_open_tickets", "assignee")) total += n;
  EXPECT_EQ(s.at("open").to_number<double>(), total);
  ops_->signal(SIGTERM);
  EXPECT_EQ(ops_->wait(), 0) << slurp(dir_ / "ops.stderr");
}

TEST_F(OpsPage, RefusesAWorldFileItCannotReadNamingFileAndLine) {
  const auto world = dir_ / "world";
  std::filesystem::copy(kWugong + "/world", world);
  {
    // Line 3 of grids.csv loses the end of its polygon.
    std::ifstream in(world / "grids.csv");
    std::string text, line;
    for (int n = 1; std::getline(in, line); ++n) {
      if (n == 3) line = line.substr(0, line.find("POLYGON")) + "POLYGON((108.19 34.26, 108.20\"";
      text += line + "\n";
    }
    std::ofstream(world / "grids.csv") << text;
  }
  const auto cfg = dir_ / "ops.toml";
  std::ofstream(cfg) << "[ops]\nstream = \"ipc://" << (dir_ / "none.sock").string() << "\"\nworld_dir = \"" << world.string()
                     << "\"\nlisten = \"127.0.0.1:0\"\n";
  auto [rc, out] = run({bin("gridhub-ops"), "-c", cfg.string()}, dir_ / "ops.stderr");
  EXPECT_EQ(rc, 2);
  const std::string err = slurp(dir_ / "ops.stderr");
  EXPECT_NE(err.find((world / "grids.csv").string() + ":3: polygon_wkt"), std::string::npos) << err;

  // A page that would listen beyond loopback without saying so is refused too, naming the key.
  std::ofstream(cfg) << "[ops]\nstream = \"tcp://127.0.0.1:5571\"\nworld_dir = \"" << (kWugong + "/world")
                     << "\"\nlisten = \"0.0.0.0:8090\"\n";
  auto [rc2, out2] = run({bin("gridhub-ops"), "-c", cfg.string()}, dir_ / "ops2.stderr");
  EXPECT_EQ(rc2, 2);
  EXPECT_NE(slurp(dir_ / "ops2.stderr").find("ops.listen"), std::string::npos) << slurp(dir_ / "ops2.stderr");
}

}  // namespace
}  // namespace gridhub::testing
