// SLA escalation end to end with driven time: a gridhub::core::Hub in this process on a fake Clock,
// the example county's pipeline routing real hotline exports (imported by the real adapter), a
// calendar where every minute is working time and 1-hour / 2-hour clocks. Moving the clock past a due
// time escalates grid -> community with a new due on the calendar; a resolved ticket does not; a new
// Hub on the same log keeps the clocks and escalates community -> county exactly once.
#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <atomic>
#include <fstream>
#include <future>
#include <map>
#include <sstream>
#include <thread>

#include "gridhub/core/hub.hpp"
#include "gridhub/core/hub_config.hpp"
#include "gridhub/sqlite/sqlite.hpp"
#include "gridhub/v1/log.pb.h"
#include "gridhub/v1/ticket.pb.h"
#include "process.hpp"

namespace gridhub::testing {
namespace {

namespace v1 = gridhub::v1;
using namespace std::chrono_literals;

const std::string kWugong = source_path("examples/wugong");
constexpr std::int64_t kHour = 3600LL * 1000 * 1000;
constexpr std::int64_t kT0 = 1795000000LL * 1000 * 1000;   // 2026-11-18, any instant works on this calendar

/// Read by the hub's io thread, moved by the test thread.
class FakeClock final : public Clock {
 public:
  std::int64_t now_micros() const override { return now_.load(); }
  void advance(std::int64_t us) { now_ += us; }

 private:
  std::atomic<std::int64_t> now_{kT0};
};

/// A Hub on its own io thread; stops cleanly at destruction.
class InProcessHub {
 public:
  InProcessHub(const std::filesystem::path& config, const Clock& clock) {
    auto cfg = core::load_hub_config(config);
    hub_ = std::make_unique<core::Hub>(io_, cfg, clock);
    hub_->start();
    thread_ = std::thread([this] { io_.run(); });
  }
  ~InProcessHub() {
    std::promise<void> stopped;
    boost::asio::post(io_, [&] { hub_->stop([&] { stopped.set_value(); }); });
    stopped.get_future().wait_for(30s);
    guard_.reset();
    io_.stop();
    thread_.join();
    hub_.reset();
  }
  /// The test hook, on the io thread; returns when it ran.
  void check_sla_now() {
    std::promise<void> ran;
    boost::asio::post(io_, [&] {
      hub_->check_sla_now();
      ran.set_value();
    });
    ran.get_future().wait();
  }

 private:
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard_{io_.get_executor()};
  std::unique_ptr<core::Hub> hub_;
  std::thread thread_;
};

struct Row {
  std::string id, assignee, community, category;
  int tier = 0, status = 0;
  std::int64_t due = 0;
};

class Escalation : public ::testing::Test {
 protected:
  void SetUp() override {
    std::ofstream(dir_ / "calendar.toml") << "utc_offset = \"+08:00\"\nperiods = [\"00:00-24:00\"]\nweekend = []\n";
    // The example's categories with 1 working hour at grid, 2 at community and no county clock.
    std::ifstream in(kWugong + "/world/categories.csv");
    std::ofstream out(dir_ / "categories.csv");
    std::string line;
    std::getline(in, line);
    out << line << "\n";
    while (std::getline(in, line)) {
      if (line.empty()) continue;
      auto cut = line.size();
      for (int i = 0; i < 3; ++i) cut = line.rfind(',', cut - 1);
      out << line.substr(0, cut) << ",1,2,\n";
    }
    out.close();
    std::ofstream cfg(dir_ / "hub.toml");
    cfg << "[hub]\nlog_db = \"" << (dir_ / "gridhub.db").string() << "\"\n"
        << "[ingest]\nendpoints = [\"ipc://" << (dir_ / "ingest.sock").string() << "\"]\n"
        << "[stream]\nendpoints = [\"ipc://" << (dir_ / "stream.sock").string() << "\"]\n"
        << "[pipeline]\nchat_groups = \"" << kWugong << "/wechat/groups.csv\"\n"
        << "[plugins.resolver_gazetteer]\nworld_dir = \"" << kWugong << "/world\"\n"
        << "[plugins.classifier_ngram]\nmodel = \"" << kWugong << "/model/classifier.ngram\"\n"
        << "[plugins.router_tiered]\ncategories = \"" << kWugong << "/world/categories.csv\"\n"
        << "[sla]\ncalendar = \"" << (dir_ / "calendar.toml").string() << "\"\ncategories = \""
        << (dir_ / "categories.csv").string() << "\"\n";
  }

  std::string ingest() const { return "ipc://" + (dir_ / "ingest.sock").string(); }
  std::string stream() const { return "ipc://" + (dir_ / "stream.sock").string(); }

  std::map<std::string, Row> tickets() {
    auto d = sqlite::Database::open(dir_ / "gridhub.db", sqlite::OpenMode::kReadOnly);
    EXPECT_TRUE(d.ok());
    std::map<std::string, Row> rows;
    auto st = d->prepare("SELECT ticket_id, body FROM tickets");
    EXPECT_TRUE(st.ok());
    while (st->step().value()) {
      v1::Ticket t;
      auto body = st->column_blob(1);
      EXPECT_TRUE(t.ParseFromArray(body.data(), static_cast<int>(body.size())));
      Row r{t.ticket_id(), t.assignee_code(), t.community_code(), t.category_code(), t.tier(), t.status(),
            t.has_sla_due() ? t.sla_due().unix_micros() : 0};
      rows[std::string(st->column_text(0))] = r;
    }
    return rows;
  }
  /// Every escalation record in the log, in seq order.
  std::vector<v1::LogRecord> escalations() {
    auto d = sqlite::Database::open(dir_ / "gridhub.db", sqlite::OpenMode::kReadOnly);
    EXPECT_TRUE(d.ok());
    std::vector<v1::LogRecord> v;
    auto st = d->prepare("SELECT body FROM log WHERE kind = 'escalation' ORDER BY seq");
    EXPECT_TRUE(st.ok());
    while (st->step().value()) {
      v1::LogRecord rec;
      auto body = st->column_blob(0);
      EXPECT_TRUE(rec.ParseFromArray(body.data(), static_cast<int>(body.size())));
      v.push_back(rec);
    }
    return v;
  }
  /// Polls the log (with a deadline) until it holds `n` escalations.
  std::vector<v1::LogRecord> wait_escalations(std::size_t n) {
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    std::vector<v1::LogRecord> v;
    while (std::chrono::steady_clock::now() < deadline) {
      v = escalations();
      if (v.size() >= n) return v;
      std::this_thread::sleep_for(20ms);   // polling the database with a deadline
    }
    ADD_FAILURE() << v.size() << " escalations, expected " << n;
    return v;
  }
  std::pair<int, std::string> ctl(std::vector<std::string> args) {
    std::vector<std::string> argv = {bin("gridhubctl")};
    argv.insert(argv.end(), args.begin(), args.end());
    return run(argv, dir_ / "ctl.stderr");
  }
  /// Open tickets whose clock has run out by `now` (read from the projection).
  std::size_t due_by(std::int64_t now) {
    std::size_t n = 0;
    for (const auto& [id, r] : tickets()) {
      const bool open = r.status != v1::TICKET_STATUS_RESOLVED && r.status != v1::TICKET_STATUS_CLOSED;
      if (open && r.due != 0 && r.due <= now) ++n;
    }
    return n;
  }

  TempDir dir_;
  FakeClock clock_;
};

TEST_F(Escalation, BreachesClimbGridCommunityCountyAcrossARestart) {
  std::string grid_ticket, resolved_ticket, county_dept;
  std::map<std::string, std::string> dept_of;   // category -> county department (the example's table)
  {
    std::ifstream in(kWugong + "/world/categories.csv");
    std::string line;
    std::getline(in, line);
    while (std::getline(in, line)) {
      std::vector<std::string> f;
      std::stringstream ss(line);
      for (std::string x; std::getline(ss, x, ',');) f.push_back(x);
      if (f.size() >= 5) dept_of[f[0]] = f[4];
    }
  }
  std::size_t first_wave = 0;
  {
    InProcessHub hub(dir_ / "hub.toml", clock_);
    auto cfg = write_hotline_config(dir_.path(), "hotline", ingest());
    auto [rc, out] = run({bin("gridhub-hotline"), "-c", cfg.string(), kWugong + "/hotline/export_20240506-20240516.csv"},
                         dir_ / "hotline.stderr");
    ASSERT_EQ(rc, 0) << slurp(dir_ / "hotline.stderr");
    auto rows = tickets();
    for (const auto& [id, r] : rows) {
      if (r.tier != v1::TIER_GRID || r.community.empty() || r.due == 0) continue;
      EXPECT_EQ(r.due, kT0 + kHour) << id << ": 1 working hour on an always-working calendar";
      if (resolved_ticket.empty()) {
        resolved_ticket = id;
      } else if (grid_ticket.empty()) {
        grid_ticket = id;
      }
    }
    ASSERT_FALSE(grid_ticket.empty()) << "the example routes tickets to grids";
    ASSERT_FALSE(resolved_ticket.empty());
    // Resolved before its due: its clock stops.
    ASSERT_EQ(ctl({"accept", resolved_ticket, "--stream", stream()}).first, 0) << slurp(dir_ / "ctl.stderr");
    ASSERT_EQ(ctl({"resolve", resolved_ticket, "--stream", stream(), "--text", "fixed in time"}).first, 0)
        << slurp(dir_ / "ctl.stderr");
    first_wave = due_by(kT0 + kHour);
    ASSERT_GT(first_wave, 0u);

    // Just before the due: nothing.
    clock_.advance(kHour - 1);
    hub.check_sla_now();
    EXPECT_TRUE(escalations().empty());
    // Past it: every open grid ticket escalates once.
    clock_.advance(2);
    hub.check_sla_now();
    auto esc = wait_escalations(first_wave);
    EXPECT_EQ(esc.size(), first_wave);
    std::map<std::string, int> per_ticket;
    for (const auto& e : esc) {
      ++per_ticket[e.ticket_id()];
      EXPECT_EQ(e.escalation().reason(), "sla_breach") << e.ticket_id();
      EXPECT_EQ(e.escalation().from_tier(), v1::TIER_GRID) << e.ticket_id();
      EXPECT_EQ(e.escalation().due().unix_micros(), kT0 + kHour) << e.ticket_id();
    }
    EXPECT_EQ(per_ticket.count(resolved_ticket), 0u) << "a ticket resolved before its due escalated";
    EXPECT_EQ(per_ticket[grid_ticket], 1);
    const auto g = tickets()[grid_ticket];
    EXPECT_EQ(g.tier, v1::TIER_COMMUNITY);
    EXPECT_EQ(g.assignee, g.community) << "grid -> the ticket's community office";
    // The community's 2 hours run from the escalation's own time (the watcher's check at T0 + 1 h + 1 us).
    for (const auto& e : esc) {
      if (e.ticket_id() == grid_ticket) {
        EXPECT_EQ(e.recorded_at().unix_micros(), kT0 + kHour + 1);
      }
    }
    EXPECT_EQ(g.due, kT0 + kHour + 1 + 2 * kHour) << "2 community hours from the breach";
    county_dept = dept_of[g.category];
    ASSERT_FALSE(county_dept.empty()) << g.category;
    // A second check at the same time writes nothing more.
    hub.check_sla_now();
    EXPECT_EQ(escalations().size(), first_wave);
  }

  // A new Hub on the same log: the clocks come back from the projection. 10 us before the escalated
  // ticket's community due; tickets routed straight to a community (due T0 + 2 h) fire at start.
  clock_.advance(2 * kHour - 10);
  const std::size_t second_wave = due_by(clock_.now_micros() + 20);
  const std::size_t early = due_by(clock_.now_micros());
  ASSERT_GT(second_wave, early) << "the escalated tickets' community clocks run to T0 + 3 h";
  InProcessHub hub(dir_ / "hub.toml", clock_);
  hub.check_sla_now();
  wait_escalations(first_wave + early);
  EXPECT_EQ(tickets()[grid_ticket].tier, v1::TIER_COMMUNITY) << "fired before its community due";
  clock_.advance(20);
  hub.check_sla_now();
  auto esc = wait_escalations(first_wave + second_wave);
  EXPECT_EQ(esc.size(), first_wave + second_wave);
  int community_breaches = 0;
  for (const auto& e : esc) {
    if (e.ticket_id() != grid_ticket || e.escalation().from_tier() != v1::TIER_COMMUNITY) continue;
    ++community_breaches;
    EXPECT_EQ(e.escalation().reason(), "sla_breach");
    EXPECT_EQ(e.escalation().ticket().assignee_code(), county_dept);
  }
  EXPECT_EQ(community_breaches, 1);
  const auto g = tickets()[grid_ticket];
  EXPECT_EQ(g.tier, v1::TIER_COUNTY);
  EXPECT_EQ(g.assignee, county_dept);
  EXPECT_EQ(g.due, 0) << "no county clock in this categories file";
  // Much later, checked again: exactly once.
  clock_.advance(100 * kHour);
  const std::size_t third_wave = due_by(clock_.now_micros());
  hub.check_sla_now();
  hub.check_sla_now();
  wait_escalations(first_wave + second_wave + third_wave);
  EXPECT_EQ(escalations().size(), first_wave + second_wave + third_wave);
  int grid_ticket_escalations = 0;
  for (const auto& e : escalations()) grid_ticket_escalations += e.ticket_id() == grid_ticket ? 1 : 0;
  EXPECT_EQ(grid_ticket_escalations, 2) << "grid -> community -> county, each once";
}

}  // namespace
}  // namespace gridhub::testing
