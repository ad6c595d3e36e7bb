// An adversarial department key against a real hub in [security] mode "curve" routing the example
// county's work orders: whatever filter, endpoint or command it tries, it gets its own tickets (now or
// before assigned to its code) and nothing else; unknown keys get nothing and are counted; personal
// data reaches only the roles entitled to it, never as ciphertext.

// GCC 12 reports a false -Wmaybe-uninitialized inside libstdc++'s std::regex (std::function in its
// NFA states) in the sanitizer build; placed before any include so it covers those headers.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include <zmq.hpp>

#include "gridhub/transport/curve.hpp"
#include "gridhub/sqlite/sqlite.hpp"
#include "gridhub/transport/frames.hpp"
#include "gridhub/v1/wire.pb.h"
#include "process.hpp"

namespace gridhub::testing {
namespace {

namespace v1 = gridhub::v1;
using namespace std::chrono_literals;

const std::string kWugong = source_path("examples/wugong");

std::string pipeline_toml() {
  return "[pipeline]\nchat_groups = \"" + kWugong + "/wechat/groups.csv\"\n"
         "[plugins.resolver_gazetteer]\nworld_dir = \"" + kWugong + "/world\"\n"
         "[plugins.classifier_ngram]\nmodel = \"" + kWugong + "/model/classifier.ngram\"\n"
         "[plugins.router_tiered]\ncategories = \"" + kWugong + "/world/categories.csv\"\n";
}

const std::string kSecurity =
    "[security]\nmode = \"curve\"\nsecret_key_file = \"hub.key\"\nidentities = \"identities.toml\"\n";

std::int64_t counter(const std::string& status, const std::string& name) {
  auto pos = status.find("\n" + name + " ");
  if (pos == std::string::npos) return -1;
  return std::strtoll(status.c_str() + pos + name.size() + 2, nullptr, 10);
}

std::string str_field(const std::string& json, const std::string& key) {
  std::smatch m;
  if (std::regex_search(json, m, std::regex("\"" + key + "\":\"([^\"]*)\""))) return m[1].str();
  return {};
}

/// One ticket of the projection as `gridhubctl tickets --json` printed it.
struct Projected {
  std::string assignee;
  std::set<std::string> history;   // assignee_history plus the current assignee
};

class Entitlement : public ::testing::Test {
 protected:
  /// `gridhubctl keygen --curve`: the public key it prints.
  std::string keygen(const std::string& name) {
    auto [rc, out] = run({bin("gridhubctl"), "keygen", "--curve", "--out", (dir_ / name).string()}, dir_ / "keygen.stderr");
    EXPECT_EQ(rc, 0) << slurp(dir_ / "keygen.stderr");
    return out.substr(0, out.find('\n'));
  }
  void write_identities() {
    std::ofstream ids(dir_ / "identities.toml");
    auto one = [&](const std::string& name, const std::string& role, const std::string& code) {
      ids << "[[identity]]\nname = \"" << name << "\"\nrole = \"" << role << "\"\n";
      if (!code.empty()) ids << "codes = [\"" << code << "\"]\n";
      ids << "public_key = \"" << pub_[name] << "\"\n\n";
    };
    one("hotline", "adapter", "");
    one("ops", "operator", "");
    one("auditor", "auditor", "");
    one("dept-a", "department", code_a_);
    one("dept-b", "department", code_b_);
    one("community", "community", community_);
    one("grid", "grid_worker", grid_);
  }
  void SetUp() override {
    hub_key_ = keygen("hub");
    for (const char* n : {"hotline", "ops", "auditor", "dept-a", "dept-b", "community", "grid", "stranger"}) pub_[n] = keygen(n);
    // Codes nobody has yet: the routed codes are known only after the import, then the hub restarts
    // with the departments' real codes.
    code_a_ = "CTY_NONE_A";
    code_b_ = "CTY_NONE_B";
    community_ = "NONE_C";
    grid_ = "NONE_G";
    write_identities();
    hub_.start();
    auto cfg = write_hotline_config(dir_.path(), "hotline", hub_.ingest(),
                                    "server_public_key = \"" + hub_key_ + "\"\nsecret_key_file = \"hotline.key\"\n");
    for (const char* f : {"/hotline/export_20240506-20240516.csv", "/hotline/export_20240517-20240526.csv"}) {
      auto [rc, out] = run({bin("gridhub-hotline"), "-c", cfg.string(), kWugong + f}, dir_ / "hotline.stderr");
      ASSERT_EQ(rc, 0) << slurp(dir_ / "hotline.stderr");
    }
    load_projection();
    // The two county departments with the most tickets, the busiest community and grid.
    std::map<std::string, int> n;
    for (const auto& [id, p] : projection_) {
      for (const auto& c : p.history) ++n[c];
    }
    std::vector<std::pair<int, std::string>> depts, communities, grids;
    for (const auto& [code, count] : n) {
      if (code.rfind("CTY_", 0) == 0) depts.emplace_back(-count, code);
    }
    std::sort(depts.begin(), depts.end());
    ASSERT_GE(depts.size(), 2u) << "the example routes to at least two county departments";
    code_a_ = depts[0].second;
    code_b_ = depts[1].second;
    auto d = sqlite::Database::open(hub_.db(), sqlite::OpenMode::kReadOnly);
    ASSERT_TRUE(d.ok());
    community_ = d->query_text("SELECT community_code FROM tickets WHERE community_code != '' GROUP BY community_code "
                               "ORDER BY count(*) DESC LIMIT 1").value();
    grid_ = d->query_text("SELECT grid_code FROM tickets WHERE grid_code != '' GROUP BY grid_code ORDER BY count(*) DESC LIMIT 1")
                .value();
    write_identities();
    ASSERT_EQ(hub_.terminate(), 0);
    hub_.start();
  }

  void load_projection() {
    auto [rc, out] = run({bin("gridhubctl"), "tickets", "--db", hub_.db().string(), "--json"}, dir_ / "tickets.stderr");
    ASSERT_EQ(rc, 0) << slurp(dir_ / "tickets.stderr");
    projection_.clear();
    std::istringstream in(out);
    for (std::string line; std::getline(in, line);) {
      if (line.empty()) continue;
      Projected p;
      p.assignee = str_field(line, "assignee_code");
      if (!p.assignee.empty()) p.history.insert(p.assignee);
      std::smatch m;
      if (std::regex_search(line, m, std::regex("\"assignee_history\":\\[([^\\]]*)\\]"))) {
        const std::string list = m[1].str();
        static const std::regex quoted("\"([^\"]*)\"");
        for (std::sregex_iterator it(list.begin(), list.end(), quoted), end; it != end; ++it) {
          p.history.insert((*it)[1].str());
        }
      }
      projection_[str_field(line, "ticket_id")] = p;
    }
    ASSERT_GT(projection_.size(), 20u);
  }
  std::set<std::string> tickets_of(const std::string& code) {
    std::set<std::string> s;
    for (const auto& [id, p] : projection_) {
      if (p.history.count(code) != 0) s.insert(id);
    }
    return s;
  }
  std::vector<std::string> curve_args(const std::string& key) {
    return {"--server-key", hub_key_, "--key", (dir_ / (key + ".key")).string()};
  }
  /// gridhubctl with `args` then the curve options for `key`: {exit code, stdout, stderr}.
  std::tuple<int, std::string, std::string> ctl(std::vector<std::string> args, const std::string& key) {
    std::vector<std::string> argv = {bin("gridhubctl")};
    argv.insert(argv.end(), args.begin(), args.end());
    for (auto& a : curve_args(key)) argv.push_back(a);
    std::filesystem::remove(dir_ / "ctl.stderr");
    auto [rc, out] = run(argv, dir_ / "ctl.stderr");
    return {rc, out, slurp(dir_ / "ctl.stderr")};
  }
  /// `gridhubctl subscribe` as `key` until idle: the ticket ids of every delivered record.
  std::pair<std::set<std::string>, std::size_t> subscribe(const std::string& key, const std::string& name,
                                                          std::vector<std::string> extra) {
    std::vector<std::string> args = {"subscribe", "--stream", hub_.stream(), "--as", name, "--idle-exit-ms", "2000"};
    args.insert(args.end(), extra.begin(), extra.end());
    auto [rc, out, err] = ctl(args, key);
    EXPECT_EQ(rc, 0) << err;
    std::set<std::string> ids;
    std::size_t lines = 0;
    std::istringstream in(out);
    for (std::string line; std::getline(in, line);) {
      if (line.empty()) continue;
      ++lines;
      ids.insert(str_field(line, "ticket_id"));
    }
    return {ids, lines};
  }

  TempDir dir_;
  HubProcess hub_{dir_.path(), {}, pipeline_toml() + kSecurity};
  std::string hub_key_;
  std::map<std::string, std::string> pub_;
  std::string code_a_, code_b_, community_, grid_;
  std::map<std::string, Projected> projection_;
};

TEST_F(Entitlement, AnEmptyFilterGetsExactlyTheDepartmentsOwnTickets) {
  const auto own = tickets_of(code_a_);
  const auto theirs = tickets_of(code_b_);
  ASSERT_FALSE(own.empty());
  ASSERT_FALSE(theirs.empty());
  auto [got, lines] = subscribe("dept-a", "a-all", {});
  EXPECT_GE(lines, own.size());
  EXPECT_EQ(got, own) << "A (" << code_a_ << ") gets every ticket ever assigned to it and nothing else";
  for (const auto& id : got) {
    if (own.count(id) == 0) ADD_FAILURE() << "A got " << id << " assigned to " << projection_[id].assignee;
  }
  // B's view is disjoint from A's except for tickets both ever had.
  for (const auto& id : theirs) {
    if (own.count(id) == 0) {
      EXPECT_EQ(got.count(id), 0u) << id;
    }
  }
}

TEST_F(Entitlement, AFilterNamingAnotherDepartmentGetsNothingOfIt) {
  auto [got, lines] = subscribe("dept-a", "a-snoop", {"--assignee", code_b_});
  const auto own = tickets_of(code_a_);
  for (const auto& id : got) {
    EXPECT_EQ(own.count(id), 1u) << "A's filter on " << code_b_ << " delivered " << id << " (never A's)";
  }
  // Also the other ways to widen a view: B's community, no tickets beyond A's own either.
  auto [tiers, n] = subscribe("dept-a", "a-tiers", {"--tier", "grid", "--tier", "community", "--non-tickets"});
  for (const auto& id : tiers) EXPECT_EQ(own.count(id), 1u) << id;
  for (const auto& id : tiers) EXPECT_FALSE(id.empty()) << "a department got an intake record that made no ticket";
  (void)n;
}

TEST_F(Entitlement, ADepartmentKeyOnTheIngestEndpointIsRefused) {
  zmq::context_t ctx(1);
  zmq::socket_t sock(ctx, zmq::socket_type::dealer);
  sock.set(zmq::sockopt::linger, 0);
  auto a = transport::load_curve_secret_key(dir_ / "dept-a.key");
  ASSERT_TRUE(a.ok()) << a.error().message();
  transport::apply_curve_client(sock, hub_key_, a.value());
  sock.connect(hub_.ingest());
  v1::AdapterToHub req;
  req.mutable_submit()->set_correlation_id(11);
  ASSERT_EQ(transport::send_dealer(sock, req, false), transport::SendStatus::kSent);
  zmq::pollitem_t items[] = {{sock.handle(), 0, ZMQ_POLLIN, 0}};
  zmq::poll(items, 1, 10s);
  zmq::message_t msg;
  ASSERT_TRUE(sock.recv(msg, zmq::recv_flags::dontwait).has_value()) << "no answer within 10 s";
  v1::HubToAdapter rep;
  ASSERT_TRUE(rep.ParseFromArray(msg.data(), static_cast<int>(msg.size())));
  ASSERT_TRUE(rep.has_nack());
  EXPECT_EQ(rep.nack().code(), v1::NACK_CODE_FORBIDDEN);
  EXPECT_EQ(rep.nack().correlation_id(), 11u);
  EXPECT_NE(rep.nack().reason().find("submit requires role adapter"), std::string::npos) << rep.nack().reason();

  auto [rc, out, err] = ctl({"status", "--hub", hub_.ingest(), "--timeout-ms", "5000"}, "dept-a");
  EXPECT_NE(rc, 0) << out;
  EXPECT_NE(err.find("requires role operator"), std::string::npos) << err;
  auto [src, sout, serr] = ctl({"status", "--hub", hub_.ingest(), "--timeout-ms", "5000"}, "ops");
  ASSERT_EQ(src, 0) << serr;
  EXPECT_EQ(counter(sout, "ingest_denied_submit_total"), 1) << sout;
  EXPECT_EQ(counter(sout, "ingest_denied_control_total"), 1) << sout;
}

TEST_F(Entitlement, ReportingBackOnAnotherDepartmentsTicketIsNotEntitled) {
  std::string theirs, own;
  for (const auto& [id, p] : projection_) {
    if (theirs.empty() && p.history.count(code_b_) != 0 && p.history.count(code_a_) == 0) theirs = id;
    if (own.empty() && p.assignee == code_a_) own = id;
  }
  ASSERT_FALSE(theirs.empty());
  ASSERT_FALSE(own.empty());
  auto [rc, out, err] = ctl({"resolve", theirs, "--stream", hub_.stream(), "--text", "not mine to close"}, "dept-a");
  EXPECT_EQ(rc, 3) << out << err;
  EXPECT_NE(err.find("NOT_ENTITLED"), std::string::npos) << err;
  auto d = sqlite::Database::open(hub_.db(), sqlite::OpenMode::kReadOnly);
  ASSERT_TRUE(d.ok());
  EXPECT_NE(d->query_int("SELECT status FROM tickets WHERE ticket_id = '" + theirs + "'").value(), 4) << "B's ticket untouched";

  auto [arc, aout, aerr] = ctl({"accept", own, "--stream", hub_.stream()}, "dept-a");
  ASSERT_EQ(arc, 0) << aerr;
  auto [orc, oout, oerr] = ctl({"resolve", own, "--stream", hub_.stream(), "--text", "done"}, "dept-a");
  ASSERT_EQ(orc, 0) << oerr;
  EXPECT_NE(oout.find("ticket " + own + " status resolved"), std::string::npos) << oout;
}

TEST_F(Entitlement, AnUnknownKeyGetsNothingAndIsCounted) {
  auto [brc, before, berr] = ctl({"status", "--hub", hub_.ingest(), "--timeout-ms", "5000"}, "ops");
  ASSERT_EQ(brc, 0) << berr;
  const auto rejected_before = counter(before, "auth_rejected_unknown_key_total");
  ASSERT_GE(rejected_before, 0) << before;
  // "stranger" has a well-formed key pair that the identities file does not list.
  std::vector<std::string> argv = {bin("gridhubctl"), "subscribe", "--stream", hub_.stream(), "--as", "stranger"};
  for (auto& a : curve_args("stranger")) argv.push_back(a);
  auto sub = Process::spawn(argv, dir_ / "stranger.stderr");
  std::int64_t rejected = rejected_before;
  for (int i = 0; i < 100 && rejected <= rejected_before; ++i) {
    auto [rc, out, err] = ctl({"status", "--hub", hub_.ingest(), "--timeout-ms", "5000"}, "ops");
    ASSERT_EQ(rc, 0) << err;
    rejected = counter(out, "auth_rejected_unknown_key_total");
    if (rejected <= rejected_before) std::this_thread::sleep_for(50ms);   // polling a counter with a deadline
  }
  EXPECT_GT(rejected, rejected_before);
  EXPECT_FALSE(sub.read_line(1500ms).has_value()) << "an unknown key got a record";
}

TEST_F(Entitlement, PersonalDataByRoleNeverCiphertext) {
  const std::regex full_phone("\"phone\":\"1[3-9][0-9]{9}\"");
  const std::regex masked_phone("\"phone\":\"1[3-9][0-9]\\*{4}[0-9]{4}\"");
  auto tail = [&](const std::string& key) {
    auto [rc, out, err] = ctl({"tail", "--hub", hub_.stream(), "--idle-exit-ms", "2000", "--show-pii"}, key);
    EXPECT_EQ(rc, 0) << err;
    return out;
  };
  const std::string dept = tail("dept-a");
  const std::string auditor = tail("auditor");
  ASSERT_FALSE(dept.empty());
  ASSERT_FALSE(auditor.empty());
  EXPECT_TRUE(std::regex_search(dept, full_phone)) << "the department sees its reporters' numbers: " << dept.substr(0, 2000);
  EXPECT_FALSE(std::regex_search(dept, masked_phone)) << dept.substr(0, 2000);
  EXPECT_TRUE(std::regex_search(auditor, masked_phone)) << "the auditor sees them masked: " << auditor.substr(0, 2000);
  EXPECT_FALSE(std::regex_search(auditor, full_phone)) << auditor.substr(0, 2000);
  EXPECT_EQ(dept.find("sealed:v1:"), std::string::npos) << "ciphertext went out";
  EXPECT_EQ(auditor.find("sealed:v1:"), std::string::npos) << "ciphertext went out";
  // The log itself holds them sealed: what the subscribers got was opened by the hub.
  auto d = sqlite::Database::open(hub_.db(), sqlite::OpenMode::kReadOnly);
  ASSERT_TRUE(d.ok());
  EXPECT_GT(d->query_int("SELECT count(*) FROM log WHERE instr(body, CAST('sealed:v1:' AS BLOB)) > 0").value(), 0);
}

}  // namespace
}  // namespace gridhub::testing
