// Named durable subscriptions end to end: a real hub routing the example county's work orders,
// `gridhubctl subscribe` as the department, `gridhubctl accept|resolve|…` as its reports back.
// GCC 12 reports a false -Wmaybe-uninitialized inside libstdc++'s std::regex (std::function in its
// NFA states) in the sanitizer build; placed before any include so it covers those headers.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#include <gtest/gtest.h>

#include <signal.h>

#include <ctime>
#include <fstream>
#include <random>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include <zmq.hpp>

#include "gridhub/sqlite/sqlite.hpp"
#include "gridhub/transport/frames.hpp"
#include "gridhub/v1/wire.pb.h"
#include "process.hpp"

namespace gridhub::testing {
namespace {

using namespace std::chrono_literals;

const std::string kWugong = source_path("examples/wugong");
const std::string kCsv1 = kWugong + "/hotline/export_20240506-20240516.csv";

std::string pipeline_toml() {
  return "[pipeline]\nchat_groups = \"" + kWugong + "/wechat/groups.csv\"\n"
         "[plugins.resolver_gazetteer]\nworld_dir = \"" + kWugong + "/world\"\n"
         "[plugins.classifier_ngram]\nmodel = \"" + kWugong + "/model/classifier.ngram\"\n"
         "[plugins.router_tiered]\ncategories = \"" + kWugong + "/world/categories.csv\"\n";
}

/// One delivered record as `gridhubctl subscribe --format jsonl` printed it.
struct Line {
  std::uint64_t seq = 0;
  bool redelivered = false;
  std::string kind, ticket_id, assignee, status, action;
};

std::string field(const std::string& line, const std::string& key) {
  std::smatch m;
  if (std::regex_search(line, m, std::regex("\"" + key + "\":(\"([^\"]*)\"|[0-9a-z]+)"))) return m[2].matched ? m[2].str() : m[1].str();
  return {};
}

Line parse(const std::string& line) {
  Line l;
  const auto seq = field(line, "seq");
  l.seq = seq.empty() ? 0 : std::stoull(seq);
  l.redelivered = field(line, "redelivered") == "true";
  l.kind = field(line, "kind");
  l.ticket_id = field(line, "ticket_id");
  l.assignee = field(line, "assignee");
  l.status = field(line, "status");
  l.action = field(line, "action");
  return l;
}

std::vector<Line> parse_all(const std::string& out) {
  std::vector<Line> v;
  std::istringstream in(out);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) v.push_back(parse(line));
  }
  return v;
}

class Subscriptions : public ::testing::Test {
 protected:
  void start_hub(const std::string& stream_extra = {}) {
    hub_.emplace(dir_.path(), std::string{}, stream_extra + pipeline_toml());
    hub_->start();
    hotline_cfg_ = write_hotline_config(dir_.path(), "hotline", hub_->ingest());
  }
  void import(const std::vector<std::string>& files) {
    std::vector<std::string> argv = {bin("gridhub-hotline"), "-c", hotline_cfg_.string()};
    argv.insert(argv.end(), files.begin(), files.end());
    auto [rc, out] = run(argv, dir_ / "hotline.stderr");
    ASSERT_EQ(rc, 0) << slurp(dir_ / "hotline.stderr");
  }
  std::vector<std::string> subscribe_argv(const std::string& name, std::vector<std::string> extra) {
    std::vector<std::string> argv = {bin("gridhubctl"), "subscribe", "--stream", hub_->stream(), "--as", name};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return argv;
  }
  std::vector<Line> subscribe(const std::string& name, std::vector<std::string> extra) {
    auto [rc, out] = run(subscribe_argv(name, std::move(extra)), dir_ / ("sub-" + name + ".stderr"));
    EXPECT_EQ(rc, 0) << slurp(dir_ / ("sub-" + name + ".stderr"));
    return parse_all(out);
  }
  sqlite::Database db() {
    auto d = sqlite::Database::open(hub_->db(), sqlite::OpenMode::kReadOnly);
    EXPECT_TRUE(d.ok());
    return std::move(d.value());
  }
  std::vector<std::uint64_t> seqs(const std::string& sql) {
    auto d = db();
    auto st = d.prepare(sql);
    EXPECT_TRUE(st.ok()) << sql;
    std::vector<std::uint64_t> v;
    while (st->step().value()) v.push_back(static_cast<std::uint64_t>(st->column_int(0)));
    return v;
  }
  /// Log records of the tickets ever assigned to `assignee` (the projection's history), in seq order.
  std::vector<std::uint64_t> records_for(const std::string& assignee) {
    return seqs("SELECT seq FROM log WHERE ticket_id IN (SELECT ticket_id FROM tickets WHERE assignee_code = '" + assignee +
                "') ORDER BY seq");
  }
  std::string busiest_assignee() {
    return db().query_text("SELECT assignee_code FROM tickets GROUP BY assignee_code ORDER BY count(*) DESC, assignee_code LIMIT 1")
        .value();
  }
  /// The hub stores a cursor after the Acknowledge, asynchronously: a test that resumes right after
  /// a subscriber exited waits for the stored cursor first (the final ack could otherwise race the
  /// next session's Subscribe, which takes the subscription over).
  void wait_cursor(const std::string& name, std::uint64_t seq) {
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    std::int64_t stored = -1;
    while (std::chrono::steady_clock::now() < deadline) {
      auto v = db().query_int("SELECT coalesce((SELECT acked_seq FROM subscriptions WHERE name = '" + name + "'), -1)");
      stored = v.ok() ? v.value() : -1;
      if (stored == static_cast<std::int64_t>(seq)) return;
      std::this_thread::sleep_for(20ms);   // polling the database with a deadline
    }
    FAIL() << "cursor of " << name << " is " << stored << ", not " << seq;
  }
  std::pair<int, std::string> ctl(std::vector<std::string> args) {
    std::vector<std::string> argv = {bin("gridhubctl")};
    argv.insert(argv.end(), args.begin(), args.end());
    return run(argv, dir_ / "ctl.stderr");
  }

  TempDir dir_;
  std::optional<HubProcess> hub_;
  std::filesystem::path hotline_cfg_;
};

TEST_F(Subscriptions, AnAssigneeFilterDeliversExactlyThatAssigneesTickets) {
  start_hub();
  import({kCsv1});
  const std::string dept = busiest_assignee();
  const auto expected = records_for(dept);
  ASSERT_GT(expected.size(), 3u);
  auto got = subscribe("dept", {"--assignee", dept, "--count", std::to_string(expected.size())});
  std::vector<std::uint64_t> got_seqs;
  std::set<std::string> got_tickets;
  for (const auto& l : got) {
    got_seqs.push_back(l.seq);
    got_tickets.insert(l.ticket_id);
    EXPECT_EQ(l.assignee, dept) << l.seq;
    EXPECT_FALSE(l.redelivered);
  }
  EXPECT_EQ(got_seqs, expected);
  std::set<std::string> projected;
  {
    auto d = db();
    auto st = d.prepare("SELECT ticket_id FROM tickets WHERE assignee_code = '" + dept + "'");
    while (st->step().value()) projected.insert(std::string(st->column_text(0)));
  }
  EXPECT_EQ(got_tickets, projected);
  wait_cursor("dept", expected.back());
  // The cursor is past all of them and nothing else matches: resuming prints nothing.
  auto again = subscribe("dept", {"--assignee", dept, "--idle-exit-ms", "1500"});
  EXPECT_TRUE(again.empty()) << again.front().seq;
}

TEST_F(Subscriptions, ASubscriberKilledAtRandomMomentsMissesNothing) {
  start_hub();
  import({kCsv1});
  const std::string dept = busiest_assignee();
  // More work orders arrive (one export per round, imported in the background) while the
  // subscriber is killed and restarted.
  const std::vector<std::string> more = {kWugong + "/hotline/export_20240517-20240526.csv",
                                         kWugong + "/hotline/export_20240527-20240605.csv",
                                         kWugong + "/hotline/export_20240606-20240616.xlsx"};
  std::mt19937 rng(20240506);
  std::vector<Line> all;
  std::size_t duplicates = 0;
  std::set<std::uint64_t> seen;
  auto take = [&](const std::string& line) {
    if (line.empty()) return;
    auto l = parse(line);
    if (!seen.insert(l.seq).second) ++duplicates;
    all.push_back(l);
  };
  for (std::size_t round = 0; round < 8; ++round) {
    std::optional<Process> importer;
    if (round < more.size()) {
      importer.emplace(Process::spawn({bin("gridhub-hotline"), "-c", hotline_cfg_.string(), more[round]}, dir_ / "importer.stderr"));
    }
    auto sub = Process::spawn(subscribe_argv("killed", {"--assignee", dept, "--credit", "4"}), dir_ / "killed.stderr");
    const int lines = static_cast<int>(rng() % 12) + 1;
    for (int i = 0; i < lines; ++i) {
      auto line = sub.read_line(5s);
      if (!line) break;
      take(*line);
    }
    sub.signal(SIGKILL);
    sub.wait();
    // What it wrote before it died is handled (and perhaps acknowledged): read it from the pipe.
    std::istringstream rest(sub.read_all());
    for (std::string line; std::getline(rest, line);) take(line);
    if (importer) {
      ASSERT_EQ(importer->wait(), 0) << slurp(dir_ / "importer.stderr");
    }
  }
  // The last run drains what is left.
  auto [rc, out] = run(subscribe_argv("killed", {"--assignee", dept, "--idle-exit-ms", "2000"}), dir_ / "killed.stderr");
  ASSERT_EQ(rc, 0);
  std::istringstream rest(out);
  for (std::string line; std::getline(rest, line);) take(line);
  const auto expected = records_for(dept);
  EXPECT_EQ(std::vector<std::uint64_t>(seen.begin(), seen.end()), expected) << "gaps or foreign records";
  std::printf("%zu records for %s, %zu printed, %zu duplicates\n", expected.size(), dept.c_str(), all.size(), duplicates);
}

TEST_F(Subscriptions, TheAckCursorSurvivesAHubCrash) {
  start_hub();
  import({kCsv1});
  auto first = subscribe("crash", {"--count", "5"});
  ASSERT_EQ(first.size(), 5u);
  const auto last = first.back().seq;
  wait_cursor("crash", last);   // acknowledged and stored before the crash
  hub_->kill9();
  hub_->start();
  auto resumed = subscribe("crash", {"--count", "1"});
  ASSERT_EQ(resumed.size(), 1u);
  EXPECT_EQ(resumed.front().seq, last + 1);
}

TEST_F(Subscriptions, ALiveSubscriberRidesThroughAHubRestart) {
  start_hub();
  import({kCsv1});
  const auto head = seqs("SELECT max(seq) FROM log").front();
  auto sub = Process::spawn(subscribe_argv("rider", {}), dir_ / "rider.stderr");
  std::set<std::uint64_t> seen;
  while (seen.size() < head) {
    auto line = sub.read_line(10s);
    ASSERT_TRUE(line) << slurp(dir_ / "rider.stderr");
    seen.insert(parse(*line).seq);
  }
  hub_->kill9();
  hub_->start();
  import({kWugong + "/hotline/export_20240517-20240526.csv"});
  const auto new_head = seqs("SELECT max(seq) FROM log").front();
  while (seen.size() < new_head) {
    auto line = sub.read_line(15s);
    ASSERT_TRUE(line) << "session_unknown was not answered by a resubscribe: " << slurp(dir_ / "rider.stderr");
    seen.insert(parse(*line).seq);
  }
  EXPECT_EQ(*seen.rbegin(), new_head);
  sub.signal(SIGTERM);
  EXPECT_EQ(sub.wait(), 0);
}

std::string rfc3339(std::int64_t micros) {
  std::time_t secs = static_cast<std::time_t>(micros / 1000000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%06lldZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                tm.tm_min, tm.tm_sec, static_cast<long long>(micros % 1000000));
  return buf;
}

TEST_F(Subscriptions, RewindBySeqAndTimeAndSkipToHead) {
  start_hub();
  import({kCsv1});
  auto all = subscribe("rw", {"--count", "20"});
  ASSERT_EQ(all.size(), 20u);
  // --from-seq: delivered again from there, and the cursor moved back.
  auto again = subscribe("rw", {"--from-seq", "7", "--count", "3"});
  ASSERT_EQ(again.size(), 3u);
  EXPECT_EQ(again[0].seq, 7u);
  wait_cursor("rw", 9);
  auto resumed = subscribe("rw", {"--count", "1"});
  ASSERT_EQ(resumed.size(), 1u);
  EXPECT_EQ(resumed[0].seq, 10u);
  // --since: the first record recorded at or after that time.
  const auto at = db().query_int("SELECT recorded_at FROM log WHERE seq = 15").value();
  const auto first_at = seqs("SELECT min(seq) FROM log WHERE recorded_at >= " + std::to_string(at)).front();
  auto since = subscribe("rw", {"--since", rfc3339(at), "--count", "1"});
  ASSERT_EQ(since.size(), 1u);
  EXPECT_EQ(since[0].seq, first_at);
  // --from-head: only what is appended after subscribing.
  const auto head = seqs("SELECT max(seq) FROM log").front();
  auto sub = Process::spawn(subscribe_argv("rw", {"--from-head", "--count", "1"}), dir_ / "head.stderr");
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (slurp(dir_ / "head.stderr").find("subscribed as") == std::string::npos) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "the subscriber never reported its session";
    std::this_thread::sleep_for(20ms);   // polling its stderr with a deadline
  }
  import({kWugong + "/hotline/export_20240517-20240526.csv"});
  auto line = sub.read_line(10s);
  ASSERT_TRUE(line);
  EXPECT_EQ(parse(*line).seq, head + 1);
  EXPECT_EQ(sub.wait(), 0);
}

TEST_F(Subscriptions, AnUpdateOnATicketsRowEditedOutsideTheHubIsRefusedAndVerifyNamesIt) {
  start_hub();
  import({kCsv1});
  const std::string stream = hub_->stream();
  const std::string t1 = db().query_text("SELECT ticket_id FROM tickets ORDER BY created_seq LIMIT 1").value();
  const auto head = seqs("SELECT max(seq) FROM log").front();
  auto [ok_rc, ok_out] = ctl({"note", t1, "--stream", stream, "--text", "on my way"});
  ASSERT_EQ(ok_rc, 0) << slurp(dir_ / "ctl.stderr");
  // An operator with sqlite3 moves the ticket to another assignee behind the hub's back.
  {
    auto d = sqlite::Database::open(hub_->db(), sqlite::OpenMode::kReadWrite);
    ASSERT_TRUE(d.ok());
    ASSERT_TRUE(d->exec("UPDATE tickets SET assignee_code = 'CTY_FORGED' WHERE ticket_id = '" + t1 + "'").ok());
  }
  auto [rc, out] = ctl({"note", t1, "--stream", stream, "--text", "anything"});
  EXPECT_EQ(rc, 3) << out;
  EXPECT_NE(slurp(dir_ / "ctl.stderr").find("UPDATE_ERROR_INCONSISTENT"), std::string::npos) << slurp(dir_ / "ctl.stderr");
  EXPECT_EQ(seqs("SELECT max(seq) FROM log").front(), head + 1) << "nothing chained on the edited row";
  EXPECT_NE(slurp(hub_->stderr_file()).find("changed outside the hub"), std::string::npos);
  ASSERT_EQ(hub_->terminate(), 0) << slurp(hub_->stderr_file());
  auto [vrc, vout] = ctl({"verify", "--db", hub_->db().string()});
  EXPECT_EQ(vrc, 1) << vout;
  EXPECT_NE(vout.find("projection_mismatch"), std::string::npos) << vout;
  EXPECT_NE(vout.find(t1), std::string::npos) << vout;
  auto [nrc, nout] = ctl({"verify", "--db", hub_->db().string(), "--no-projection"});
  EXPECT_EQ(nrc, 0) << nout;
  // Rebuilt from the log, the projection verifies again and updates go through.
  ASSERT_EQ(ctl({"rebuild-projection", "--db", hub_->db().string()}).first, 0) << slurp(dir_ / "ctl.stderr");
  EXPECT_EQ(ctl({"verify", "--db", hub_->db().string()}).first, 0);
}

TEST_F(Subscriptions, StateAsOfShowsUpdatesAsTheProjectionDoes) {
  start_hub();
  import({kCsv1});
  const std::string stream = hub_->stream();
  const std::string t1 = db().query_text("SELECT ticket_id FROM tickets ORDER BY created_seq LIMIT 1").value();
  ASSERT_EQ(ctl({"accept", t1, "--stream", stream}).first, 0) << slurp(dir_ / "ctl.stderr");
  ASSERT_EQ(ctl({"resolve", t1, "--stream", stream, "--text", "pipe repaired"}).first, 0) << slurp(dir_ / "ctl.stderr");
  ASSERT_EQ(hub_->terminate(), 0);
  const std::string db_file = hub_->db().string();
  auto [rc, state] = ctl({"state", "--db", db_file, "--as-of", "2100-01-01", t1});
  ASSERT_EQ(rc, 0) << slurp(dir_ / "ctl.stderr");
  EXPECT_NE(state.find("\"status\":\"TICKET_STATUS_RESOLVED\""), std::string::npos) << state;
  EXPECT_NE(state.find("\"resolution\":\"pipe repaired\""), std::string::npos) << state;
  const auto last = seqs("SELECT max(seq) FROM log").front();
  EXPECT_NE(state.find("\"last_seq\":" + std::to_string(last)), std::string::npos) << state;
  // Just before the resolve: accepted.
  const auto resolved_at = seqs("SELECT recorded_at FROM log WHERE seq = " + std::to_string(last)).front();
  const std::int64_t us = static_cast<std::int64_t>(resolved_at) - 1;
  const std::time_t secs = static_cast<std::time_t>(us / 1000000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char when[64];
  const std::size_t n = std::strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(when + n, sizeof when - n, ".%06lldZ", static_cast<long long>(us % 1000000));
  auto [brc, before] = ctl({"state", "--db", db_file, "--as-of", when, t1});
  ASSERT_EQ(brc, 0) << slurp(dir_ / "ctl.stderr");
  EXPECT_NE(before.find("\"status\":\"TICKET_STATUS_ACCEPTED\""), std::string::npos) << before;
}

TEST_F(Subscriptions, UpdatesFollowTheLifecycleAndAreIdempotent) {
  start_hub();
  import({kCsv1});
  const std::string stream = hub_->stream();
  auto d = db();
  const std::string t1 = d.query_text("SELECT ticket_id FROM tickets ORDER BY created_seq LIMIT 1").value();
  const std::string t2 = d.query_text("SELECT ticket_id FROM tickets ORDER BY created_seq LIMIT 1 OFFSET 1").value();
  const auto head = seqs("SELECT max(seq) FROM log").front();

  auto [a_rc, a_out] = ctl({"accept", t1, "--stream", stream});
  ASSERT_EQ(a_rc, 0) << slurp(dir_ / "ctl.stderr");
  EXPECT_NE(a_out.find("seq " + std::to_string(head + 1) + " ticket " + t1 + " status accepted"), std::string::npos) << a_out;
  auto [r_rc, r_out] = ctl({"resolve", t1, "--stream", stream, "--text", "pipe repaired", "--request-id", "fix-1"});
  ASSERT_EQ(r_rc, 0) << slurp(dir_ / "ctl.stderr");
  EXPECT_NE(r_out.find("status resolved"), std::string::npos) << r_out;
  // The same request again: the original seq, nothing new written.
  const auto before = seqs("SELECT max(seq) FROM log").front();
  auto [rr_rc, rr_out] = ctl({"resolve", t1, "--stream", stream, "--text", "pipe repaired", "--request-id", "fix-1"});
  EXPECT_EQ(rr_rc, 0);
  EXPECT_EQ(rr_out, r_out);
  EXPECT_EQ(seqs("SELECT max(seq) FROM log").front(), before);
  // A new request to resolve a resolved ticket is refused.
  auto [bad_rc, bad_out] = ctl({"resolve", t1, "--stream", stream, "--text", "again"});
  EXPECT_EQ(bad_rc, 3);
  EXPECT_NE(slurp(dir_ / "ctl.stderr").find("UPDATE_ERROR_BAD_TRANSITION"), std::string::npos);
  // Without an [sla] policy there is no tier map to climb: a return goes to the 12345 centre.
  auto [ret_rc, ret_out] = ctl({"return", t2, "--stream", stream, "--text", "not ours", "--suggest", "CTY_ZJJ"});
  ASSERT_EQ(ret_rc, 0) << slurp(dir_ / "ctl.stderr");
  EXPECT_NE(ret_out.find("status returned assignee CTR_12345 tier center"), std::string::npos) << ret_out;
  // Usage and reachability exit codes.
  EXPECT_EQ(ctl({"resolve", t1, "--stream", stream}).first, 2);   // --text missing
  EXPECT_EQ(ctl({"accept", t1, "--stream", "ipc://" + (dir_ / "nobody.sock").string(), "--timeout-ms", "500"}).first, 1);
  // A second subscriber sees the reports back as ticket_update records.
  auto seen = subscribe("watcher", {"--from-seq", std::to_string(head + 1), "--count", "3"});
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[0].kind, "ticket_update");
  EXPECT_EQ(seen[0].action, "accept");
  EXPECT_EQ(seen[1].action, "resolve");
  EXPECT_EQ(seen[2].action, "return");
  EXPECT_EQ(seen[2].assignee, "CTR_12345");
  EXPECT_EQ(db().query_int("SELECT status FROM tickets WHERE ticket_id = '" + t1 + "'").value(), 4);   // RESOLVED
}

TEST_F(Subscriptions, ThePythonExampleDepartmentStreamsAndAcceptsItsTickets) {
  const std::string python = GRIDHUB_PYTHON3;
  const std::string pythonpath = GRIDHUB_PYTHON_PATH;
  if (python.empty() || python.find("NOTFOUND") != std::string::npos || pythonpath.empty()) {
    GTEST_SKIP() << "no python3 or no protoc at configure time";
  }
  if (run({python, "-c", "import zmq, google.protobuf"}, dir_ / "py-check.stderr").first != 0) {
    GTEST_SKIP() << "python3 lacks zmq or protobuf (Debian: python3-zmq python3-protobuf): " << slurp(dir_ / "py-check.stderr");
  }
  start_hub();
  import({kCsv1});
  const std::string dept = busiest_assignee();
  std::set<std::string> projected;
  {
    auto d = db();
    auto st = d.prepare("SELECT ticket_id FROM tickets WHERE assignee_code = '" + dept + "'");
    while (st->step().value()) projected.insert(std::string(st->column_text(0)));
  }
  ASSERT_FALSE(projected.empty());
  auto [rc, out] = run({"/usr/bin/env", "PYTHONPATH=" + pythonpath, python, source_path("examples/python/department.py"), "--stream",
                        hub_->stream(), "--as", "py-dept", "--assignee", dept, "--accept-all", "--idle-exit-ms", "2000"},
                       dir_ / "py.stderr");
  ASSERT_EQ(rc, 0) << slurp(dir_ / "py.stderr");
  std::set<std::string> intake;
  std::size_t updates = 0;
  for (const auto& l : parse_all(out)) {
    EXPECT_EQ(l.assignee, dept) << l.seq;
    if (l.kind == "intake_accepted") intake.insert(l.ticket_id);
    if (l.kind == "ticket_update") ++updates;
  }
  EXPECT_EQ(intake, projected);
  EXPECT_EQ(updates, projected.size()) << "its own accepts come back on its stream";
  // The hub's projection shows every one of them accepted; nobody else's ticket was touched.
  auto d = db();
  EXPECT_EQ(d.query_int("SELECT count(*) FROM tickets WHERE status = 3 AND assignee_code = '" + dept + "'").value(),
            static_cast<std::int64_t>(projected.size()));
  EXPECT_EQ(d.query_int("SELECT count(*) FROM tickets WHERE status = 3").value(), static_cast<std::int64_t>(projected.size()));
}

TEST_F(Subscriptions, UnacknowledgedRecordsComeAgainMarkedRedelivered) {
  namespace v1 = gridhub::v1;
  start_hub("ack_timeout_ms = 300\n");
  import({kCsv1});
  zmq::context_t ctx(1);
  zmq::socket_t sub(ctx, zmq::socket_type::dealer);
  transport::apply_common_options(sub, 1 << 20);
  sub.set(zmq::sockopt::rcvtimeo, 10000);
  sub.connect(hub_->stream());
  v1::SubscriberToHub m;
  m.mutable_subscribe()->set_name("forgetful");
  m.mutable_subscribe()->set_credit(5);
  ASSERT_EQ(transport::send_dealer(sub, m, false), transport::SendStatus::kSent);
  v1::SubscriberToHub one;
  one.mutable_credit()->set_credit(1);
  // Never acknowledges: after ack_timeout_ms the hub starts again at seq 1, marked redelivered.
  std::vector<std::pair<std::uint64_t, bool>> got;
  while (got.size() < 1000) {   // the log holds ~100 records: a redelivery must come before this
    zmq::message_t msg;
    ASSERT_TRUE(sub.recv(msg)) << "nothing for 10 s after " << got.size() << " deliveries";
    v1::HubToSubscriber h;
    ASSERT_TRUE(h.ParseFromArray(msg.data(), static_cast<int>(msg.size())));
    if (!h.has_delivery()) continue;
    got.emplace_back(h.delivery().seq(), h.delivery().redelivered());
    if (h.delivery().redelivered()) break;
    ASSERT_EQ(transport::send_dealer(sub, one, false), transport::SendStatus::kSent);
  }
  ASSERT_TRUE(got.back().second) << "no redelivery within " << got.size() << " deliveries";
  EXPECT_EQ(got.back().first, 1u) << "redelivery starts after the cursor (0)";
  for (std::size_t i = 0; i + 1 < got.size(); ++i) {
    EXPECT_EQ(got[i].first, i + 1);
    EXPECT_FALSE(got[i].second);
  }
  // Acknowledged records do not come again.
  const std::uint64_t through = got.size() - 1;
  v1::SubscriberToHub ack;
  ack.mutable_acknowledge()->set_through_seq(through);
  ASSERT_EQ(transport::send_dealer(sub, ack, false), transport::SendStatus::kSent);
  wait_cursor("forgetful", through);
}

/// A raw named subscriber on its own DEALER socket: what an integrator writes from the docs.
class RawSubscriber {
 public:
  RawSubscriber(const std::string& endpoint, const std::string& name, std::uint32_t credit) : sock_(ctx_, zmq::socket_type::dealer) {
    transport::apply_common_options(sock_, 1 << 20);
    sock_.set(zmq::sockopt::rcvtimeo, 10000);
    sock_.connect(endpoint);
    gridhub::v1::SubscriberToHub m;
    m.mutable_subscribe()->set_name(name);
    m.mutable_subscribe()->set_credit(credit);
    send(m);
  }
  void send(const gridhub::v1::SubscriberToHub& m) {
    ASSERT_EQ(transport::send_dealer(sock_, m, false), transport::SendStatus::kSent);
  }
  void credit(std::uint32_t n) {
    gridhub::v1::SubscriberToHub m;
    m.mutable_credit()->set_credit(n);
    send(m);
  }
  void acknowledge(std::uint64_t through) {
    gridhub::v1::SubscriberToHub m;
    m.mutable_acknowledge()->set_through_seq(through);
    send(m);
  }
  /// The next delivery (other messages are skipped); nullopt after 10 s without one.
  std::optional<gridhub::v1::Delivery> next() {
    for (;;) {
      zmq::message_t msg;
      if (!sock_.recv(msg)) return std::nullopt;
      gridhub::v1::HubToSubscriber h;
      if (!h.ParseFromArray(msg.data(), static_cast<int>(msg.size()))) return std::nullopt;
      if (h.has_delivery()) return h.delivery();
    }
  }

 private:
  zmq::context_t ctx_{1};
  zmq::socket_t sock_;
};

/// Waits (polling with a deadline) until the hub's log holds `text`.
void wait_hub_log(const HubProcess& hub, const std::string& text) {
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (slurp(hub.stderr_file()).find(text) == std::string::npos) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "the hub never logged: " << text;
    std::this_thread::sleep_for(20ms);   // polling its log with a deadline
  }
}

TEST_F(Subscriptions, ALateAcknowledgementStopsTheResendAndTheNextCreditMovesOn) {
  start_hub("ack_timeout_ms = 300\n");
  import({kCsv1});
  RawSubscriber sub(hub_->stream(), "late", 5);
  for (std::uint64_t seq = 1; seq <= 5; ++seq) {
    auto d = sub.next();
    ASSERT_TRUE(d) << "no delivery " << seq;
    EXPECT_EQ(d->seq(), seq);
    EXPECT_FALSE(d->redelivered());
  }
  // The subscriber is slow: the hub gives up waiting and rewinds to the cursor (0).
  wait_hub_log(*hub_, "subscription 'late': seq 1 not acknowledged within 300 ms");
  // With credit, the resend starts (as documented: marked redelivered).
  sub.credit(2);
  for (std::uint64_t seq = 1; seq <= 2; ++seq) {
    auto d = sub.next();
    ASSERT_TRUE(d) << "no redelivery " << seq;
    EXPECT_EQ(d->seq(), seq);
    EXPECT_TRUE(d->redelivered());
  }
  // Now the acknowledgement of 1..5 arrives, late: none of them may come again; 6, 7, 8 are next.
  sub.acknowledge(5);
  sub.credit(3);
  for (std::uint64_t seq = 6; seq <= 8; ++seq) {
    auto d = sub.next();
    ASSERT_TRUE(d) << "no delivery " << seq;
    EXPECT_EQ(d->seq(), seq) << "an acknowledged record was sent again";
    EXPECT_FALSE(d->redelivered());
  }
  wait_cursor("late", 5);
}

TEST_F(Subscriptions, ASteadySlowSubscriberThatKeepsAcknowledgingGetsNoRepeats) {
  // Twenty records in flight take the subscriber 3 s, more than ack_timeout_ms; but it acknowledges
  // each as it goes (every 150 ms), so nothing is overdue and nothing comes twice. (A hub that timed
  // each record from its sending rewinds after about 2 s, and the records it sends again arrive
  // behind the twenty already queued: hence sixty records.)
  start_hub("ack_timeout_ms = 2000\n");
  import({kCsv1});
  constexpr std::uint64_t kRecords = 60;
  ASSERT_GE(seqs("SELECT max(seq) FROM log").front(), kRecords);
  RawSubscriber sub(hub_->stream(), "slow", 20);
  std::vector<std::pair<std::uint64_t, bool>> got;
  while (got.size() < kRecords) {
    auto d = sub.next();
    ASSERT_TRUE(d) << "nothing for 10 s after " << got.size() << " deliveries";
    got.emplace_back(d->seq(), d->redelivered());
    std::this_thread::sleep_for(150ms);   // handling the record: the subscriber's pace, not synchronization
    sub.acknowledge(d->seq());
    sub.credit(1);
  }
  for (std::size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].first, i + 1) << "delivery " << i;
    EXPECT_FALSE(got[i].second) << "seq " << got[i].first << " came again";
  }
  wait_cursor("slow", kRecords);
}

TEST_F(Subscriptions, AStartBeyondTheLogHeadIsRefusedAndNoCursorPassesTheHead) {
  start_hub();
  import({kCsv1});
  const auto head = seqs("SELECT max(seq) FROM log").front();
  auto first = subscribe("ahead", {"--count", "3"});
  ASSERT_EQ(first.size(), 3u);
  wait_cursor("ahead", 3);
  auto cursor = [&] { return db().query_int("SELECT acked_seq FROM subscriptions WHERE name = 'ahead'").value(); };
  const std::string beyond = std::to_string(head + 50);
  // A seq the log does not hold yet: refused with the reason; the cursor stays where it was.
  auto [rc, out] = run(subscribe_argv("ahead", {"--from-seq", beyond, "--idle-exit-ms", "1000"}), dir_ / "beyond.stderr");
  EXPECT_EQ(rc, 1) << out;
  EXPECT_NE(slurp(dir_ / "beyond.stderr").find("subscribe.from_seq: " + beyond + " is beyond the log head " + std::to_string(head)),
            std::string::npos)
      << slurp(dir_ / "beyond.stderr");
  EXPECT_TRUE(out.empty()) << out;
  EXPECT_EQ(cursor(), 3);
  // The same for a session without a name (gridhubctl tail).
  auto [tail_rc, tail_out] = ctl({"tail", "--hub", hub_->stream(), "--from-seq", beyond, "--idle-exit-ms", "1000"});
  EXPECT_EQ(tail_rc, 1) << tail_out;
  EXPECT_NE(slurp(dir_ / "ctl.stderr").find("beyond the log head"), std::string::npos) << slurp(dir_ / "ctl.stderr");
  // head + 1, the next record to be appended, is a valid start (as --from-head).
  auto at_head = subscribe("ahead", {"--from-seq", std::to_string(head + 1), "--idle-exit-ms", "500"});
  EXPECT_TRUE(at_head.empty());
  wait_cursor("ahead", head);
  // A cursor stored past the head (by an older hub, or in a log restored from a backup) is brought
  // back to the head when the subscription resumes: what is appended next reaches it.
  ASSERT_EQ(hub_->terminate(), 0);
  {
    auto d = sqlite::Database::open(hub_->db(), sqlite::OpenMode::kReadWrite);
    ASSERT_TRUE(d.ok());
    ASSERT_TRUE(d->exec("UPDATE subscriptions SET acked_seq = " + beyond + " WHERE name = 'ahead'").ok());
  }
  hub_->start();
  auto idle = subscribe("ahead", {"--idle-exit-ms", "500"});
  EXPECT_TRUE(idle.empty());
  wait_cursor("ahead", head);
  import({kWugong + "/hotline/export_20240517-20240526.csv"});
  ASSERT_GT(seqs("SELECT max(seq) FROM log").front(), head + 50);
  auto resumed = subscribe("ahead", {"--count", "1", "--idle-exit-ms", "3000"});
  ASSERT_EQ(resumed.size(), 1u) << slurp(dir_ / "sub-ahead.stderr");
  EXPECT_EQ(resumed[0].seq, head + 1);
}

/// A stand-in hub on loopback for one subscriber process (`argv`, to which `--stream EP` is added):
/// answers its Subscribe with three SessionUnknown in a row — what a restarted hub answers to the
/// credit, keepalive and ack a subscriber sent before it re-subscribed — then Subscribed and one
/// delivery. Returns how many Subscribe messages the subscriber sent before it acknowledged that
/// delivery (its messages arrive in order, so none can come later and still count).
int subscribes_before_first_ack(std::vector<std::string> argv, const std::filesystem::path& stderr_file) {
  namespace v1 = gridhub::v1;
  zmq::context_t ctx(1);
  zmq::socket_t router(ctx, zmq::socket_type::router);
  router.set(zmq::sockopt::rcvtimeo, 10000);
  router.bind("tcp://127.0.0.1:*");
  argv.push_back("--stream");
  argv.push_back(router.get(zmq::sockopt::last_endpoint));
  auto client = Process::spawn(argv, stderr_file);
  std::string peer;
  auto next = [&](v1::SubscriberToHub& m) {
    zmq::message_t id, body;
    if (!router.recv(id) || !router.recv(body)) return false;
    peer = id.to_string();
    return m.ParseFromArray(body.data(), static_cast<int>(body.size()));
  };
  auto send = [&](const v1::HubToSubscriber& h) {
    router.send(zmq::buffer(peer), zmq::send_flags::sndmore);
    router.send(zmq::buffer(h.SerializeAsString()), zmq::send_flags::none);
  };
  int subscribes = 0;
  v1::SubscriberToHub m;
  while (subscribes == 0) {
    if (!next(m)) {
      ADD_FAILURE() << "no Subscribe: " << slurp(stderr_file);
      return -1;
    }
    if (m.has_subscribe()) ++subscribes;
  }
  v1::HubToSubscriber unknown;
  unknown.mutable_session_unknown();
  for (int i = 0; i < 3; ++i) send(unknown);
  v1::HubToSubscriber ok;
  ok.mutable_subscribed()->set_identity("stand-in");
  ok.mutable_subscribed()->set_start_seq(1);
  ok.mutable_subscribed()->set_head_seq(1);
  send(ok);
  v1::HubToSubscriber one;
  one.mutable_delivery()->set_seq(1);
  send(one);
  for (;;) {
    if (!next(m)) {
      ADD_FAILURE() << "no Acknowledge: " << slurp(stderr_file);
      break;
    }
    if (m.has_subscribe()) ++subscribes;
    if (m.has_acknowledge()) {
      EXPECT_EQ(m.acknowledge().through_seq(), 1u);
      break;
    }
  }
  client.signal(SIGTERM);
  client.wait();
  return subscribes;
}

TEST_F(Subscriptions, GridhubctlResubscribesOncePerSessionUnknownEpisode) {
  EXPECT_EQ(subscribes_before_first_ack({bin("gridhubctl"), "subscribe", "--as", "once"}, dir_ / "ctl-once.stderr"), 1);
}

TEST_F(Subscriptions, ThePythonExampleResubscribesOncePerSessionUnknownEpisode) {
  const std::string python = GRIDHUB_PYTHON3;
  const std::string pythonpath = GRIDHUB_PYTHON_PATH;
  if (python.empty() || python.find("NOTFOUND") != std::string::npos || pythonpath.empty()) {
    GTEST_SKIP() << "no python3 or no protoc at configure time";
  }
  if (run({python, "-c", "import zmq, google.protobuf"}, dir_ / "py-check.stderr").first != 0) {
    GTEST_SKIP() << "python3 lacks zmq or protobuf (Debian: python3-zmq python3-protobuf)";
  }
  EXPECT_EQ(subscribes_before_first_ack({"/usr/bin/env", "PYTHONPATH=" + pythonpath, python,
                                         source_path("examples/python/department.py"), "--as", "once"},
                                        dir_ / "py-once.stderr"),
            1);
}

/// Every record a raw subscriber session receives from seq 1, as (seq, record bytes), until `total`
/// arrived; counts the messages they came in. Grants credit `credit` at a time, after using it up.
struct Received {
  std::vector<std::pair<std::uint64_t, std::string>> records;
  std::size_t messages = 0;
  std::size_t most_in_one = 0;
  bool over_credit = false;
};
Received receive_all(const std::string& endpoint, std::uint32_t max_batch, std::uint32_t credit, std::size_t total) {
  namespace v1 = gridhub::v1;
  zmq::context_t ctx(1);
  zmq::socket_t sub(ctx, zmq::socket_type::dealer);
  transport::apply_common_options(sub, 16 << 20);
  sub.set(zmq::sockopt::rcvtimeo, 10000);
  sub.connect(endpoint);
  v1::SubscriberToHub m;
  m.mutable_subscribe()->set_start(v1::START_POINT_SEQ);
  m.mutable_subscribe()->set_from_seq(1);
  m.mutable_subscribe()->set_credit(credit);
  m.mutable_subscribe()->set_max_batch(max_batch);
  EXPECT_EQ(transport::send_dealer(sub, m, false), transport::SendStatus::kSent);
  Received r;
  std::size_t used = 0;
  while (r.records.size() < total) {
    zmq::message_t msg;
    if (!sub.recv(msg)) {
      ADD_FAILURE() << "nothing for 10 s after " << r.records.size() << " records";
      break;
    }
    v1::HubToSubscriber h;
    EXPECT_TRUE(h.ParseFromArray(msg.data(), static_cast<int>(msg.size())));
    std::size_t n = 0;
    if (h.has_delivery()) {
      r.records.emplace_back(h.delivery().seq(), h.delivery().record());
      n = 1;
    }
    for (const auto& d : h.deliveries().deliveries()) {
      r.records.emplace_back(d.seq(), d.record());
      ++n;
    }
    if (n == 0) continue;
    ++r.messages;
    r.most_in_one = std::max(r.most_in_one, n);
    used += n;
    r.over_credit = r.over_credit || used > credit;
    if (used == credit) {
      v1::SubscriberToHub more;
      more.mutable_credit()->set_credit(credit);
      EXPECT_EQ(transport::send_dealer(sub, more, false), transport::SendStatus::kSent);
      used = 0;
    }
  }
  return r;
}

TEST_F(Subscriptions, ABatchingSubscriberGetsTheSameRecordsInFewerMessagesWithinItsCredit) {
  start_hub();
  import({kCsv1});
  const std::size_t total = seqs("SELECT seq FROM log ORDER BY seq").size();
  ASSERT_GT(total, 50u);
  const auto one_by_one = receive_all(hub_->stream(), 0, 25, total);
  const auto batched = receive_all(hub_->stream(), 16, 25, total);
  EXPECT_EQ(one_by_one.messages, total);
  EXPECT_EQ(one_by_one.most_in_one, 1u);
  EXPECT_EQ(batched.records, one_by_one.records) << "same records, same bytes, same order";
  EXPECT_LT(batched.messages, total / 4) << "records should travel in batches";
  EXPECT_LE(batched.most_in_one, 16u) << "the subscriber's max_batch is a cap";
  EXPECT_FALSE(batched.over_credit) << "a batch never exceeds the credit";
  for (std::size_t i = 0; i < batched.records.size(); ++i) ASSERT_EQ(batched.records[i].first, i + 1);
}

/// VmRSS of a process in KiB.
long rss_kib(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}

TEST_F(Subscriptions, AStalledSubscriberCostsACursorNotAQueueAndThenCatchesUp) {
  namespace v1 = gridhub::v1;
#if defined(__SANITIZE_ADDRESS__)
  constexpr std::uint64_t kEvents = 100'000;     // instrumented: the memory bound is not checked anyway
#else
  constexpr std::uint64_t kEvents = 1'000'000;   // as the issue asks: ~700 MB of records flow past it
#endif
  hub_.emplace(dir_.path());   // no pipeline: the stream, not routing, is under test
  hub_->start();
  zmq::context_t ctx(1);
  // The stalled subscriber: takes 10 records, then never grants credit again (but stays alive).
  zmq::socket_t sub(ctx, zmq::socket_type::dealer);
  transport::apply_common_options(sub, 1 << 20);
  sub.connect(hub_->stream());
  v1::SubscriberToHub hello;
  hello.mutable_subscribe()->set_name("stalled");
  hello.mutable_subscribe()->set_credit(10);
  ASSERT_EQ(transport::send_dealer(sub, hello, false), transport::SendStatus::kSent);
  v1::SubscriberToHub keepalive;
  keepalive.mutable_credit()->set_credit(0);

  zmq::socket_t in(ctx, zmq::socket_type::dealer);
  transport::apply_common_options(in, 1 << 20);
  in.set(zmq::sockopt::rcvtimeo, 30000);
  in.connect(hub_->ingest());
  const long before = rss_kib(hub_->process().pid());
  v1::AdapterToHub m;
  auto* ev = m.mutable_submit()->mutable_event();
  ev->set_channel(v1::CHANNEL_HOTLINE);
  ev->set_adapter_id("stall-test");
  ev->mutable_fields()->set_text(std::string(600, 'x'));
  std::uint64_t sent = 0, acked = 0;
  auto last_keepalive = std::chrono::steady_clock::now();
  while (acked < kEvents) {
    while (sent < kEvents && sent - acked < 1000) {
      m.mutable_submit()->set_correlation_id(++sent);
      ev->set_source_key("STALL-" + std::to_string(sent));
      ASSERT_EQ(transport::send_dealer(in, m, false), transport::SendStatus::kSent);
    }
    zmq::message_t reply;
    ASSERT_TRUE(in.recv(reply)) << "no ack within 30 s";
    v1::HubToAdapter r;
    ASSERT_TRUE(r.ParseFromArray(reply.data(), static_cast<int>(reply.size())));
    ASSERT_TRUE(r.has_ack()) << r.DebugString();
    ++acked;
    if (std::chrono::steady_clock::now() - last_keepalive > 1s) {
      (void)transport::send_dealer(sub, keepalive, false);
      last_keepalive = std::chrono::steady_clock::now();
    }
  }
  const long after = rss_kib(hub_->process().pid());
  std::printf("hub VmRSS %ld KiB before, %ld KiB after %llu events with a stalled subscriber\n", before, after,
              static_cast<unsigned long long>(kEvents));
  // Records of ~700 bytes: a hub queueing even the first 60k of them for the subscriber would exceed this.
#if defined(__SANITIZE_ADDRESS__)
  // ASan keeps freed memory in quarantine (256 MiB by default): RSS says nothing about queues there.
  std::printf("(memory bound not checked under AddressSanitizer)\n");
#else
  EXPECT_LT(after - before, 40 * 1024) << "hub memory grew with the backlog";
#endif
  // It took exactly its credit.
  std::size_t deliveries = 0;
  zmq::message_t msg;
  while (sub.recv(msg, zmq::recv_flags::dontwait)) {
    v1::HubToSubscriber h;
    if (h.ParseFromArray(msg.data(), static_cast<int>(msg.size())) && h.has_delivery()) ++deliveries;
  }
  EXPECT_LE(deliveries, 10u);
  // The subscriber comes back (a new process under the same name) and catches up completely.
  auto [rc, out] = run(subscribe_argv("stalled", {"--format", "text", "--credit", "1000", "--count", std::to_string(kEvents)}),
                       dir_ / "stalled.stderr");
  ASSERT_EQ(rc, 0) << slurp(dir_ / "stalled.stderr");
  std::istringstream lines(out);
  std::uint64_t expect = 1;
  for (std::string line; std::getline(lines, line); ++expect) {
    ASSERT_EQ(std::stoull(line), expect) << "gap or disorder at " << line;
  }
  EXPECT_EQ(expect, kEvents + 1);
}

}  // namespace
}  // namespace gridhub::testing
