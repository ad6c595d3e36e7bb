// gridhubctl's printed forms that scripts and operators read, pinned against a real hub: the tickets
// table's fixed-width lines, the dead letters' one-line form, an extension's answer, and the refusals
// (a file that is no log, an unknown ticket) with their exit codes.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>

#include "gridhub/v1/ticket.pb.h"
#include "process.hpp"

namespace gridhub::testing {
namespace {

namespace v1 = gridhub::v1;

const std::string kWugong = source_path("examples/wugong");
const std::string kCsv1 = kWugong + "/hotline/export_20240506-20240516.csv";

std::string pipeline_toml() {
  return "[pipeline]\nchat_groups = \"" + kWugong + "/wechat/groups.csv\"\n"
         "[plugins.resolver_gazetteer]\nworld_dir = \"" + kWugong + "/world\"\n"
         "[plugins.classifier_ngram]\nmodel = \"" + kWugong + "/model/classifier.ngram\"\n"
         "[plugins.router_tiered]\ncategories = \"" + kWugong + "/world/categories.csv\"\n"
         "[sla]\ncalendar = \"" + kWugong + "/calendar.toml\"\ncategories = \"" + kWugong + "/world/categories.csv\"\n";
}

std::vector<std::string> lines_of(const std::string& s) {
  std::vector<std::string> v;
  std::istringstream in(s);
  for (std::string l; std::getline(in, l);) v.push_back(l);
  return v;
}

/// The first `n` characters of UTF-8 text, an ellipsis when cut, line breaks as spaces.
std::string head_chars(const std::string& s, std::size_t n) {
  std::size_t i = 0;
  for (std::size_t chars = 0; i < s.size() && chars < n; ++chars) {
    const auto c = static_cast<unsigned char>(s[i]);
    i += c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : 4;
  }
  std::string out = s.substr(0, std::min(i, s.size()));
  for (auto& ch : out) {
    if (ch == '\n' || ch == '\r') ch = ' ';
  }
  return i < s.size() ? out + "…" : out;
}

const char* tier_word(v1::Tier t) {
  switch (t) {
    case v1::TIER_GRID: return "grid";
    case v1::TIER_COMMUNITY: return "community";
    case v1::TIER_COUNTY: return "county";
    case v1::TIER_CENTER: return "center";
    default: return "-";
  }
}

std::string status_word(v1::TicketStatus s) {
  std::string n = v1::TicketStatus_Name(s).substr(std::string("TICKET_STATUS_").size());
  for (auto& c : n) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return n;
}

/// `gridhubctl tickets` as a dispatcher reads it: id, tier, assignee, category, place, reports, text.
std::string ticket_line(const v1::Ticket& t) {
  const std::string& place = t.grid_code().empty() ? t.community_code() : t.grid_code();
  char buf[1024];
  std::snprintf(buf, sizeof buf, "%s  %-9s %-16s %-4s %-15s %2d report(s)  %s", t.ticket_id().c_str(), tier_word(t.tier()),
                t.assignee_code().empty() ? "-" : t.assignee_code().c_str(),
                t.category_code().empty() ? "-" : t.category_code().c_str(), place.empty() ? "-" : place.c_str(),
                t.provenance_size(), head_chars(t.text(), 28).c_str());
  return buf;
}

class CtlOutput : public ::testing::Test {
 protected:
  void SetUp() override {
    hub_.emplace(dir_.path(), std::string{}, pipeline_toml());
    hub_->start();
    hotline_cfg_ = write_hotline_config(dir_.path(), "hotline", hub_->ingest());
  }
  void import(const std::vector<std::string>& files) {
    std::vector<std::string> argv = {bin("gridhub-hotline"), "-c", hotline_cfg_.string()};
    argv.insert(argv.end(), files.begin(), files.end());
    auto [rc, out] = run(argv, dir_ / "hotline.stderr");
    ASSERT_EQ(rc, 0) << slurp(dir_ / "hotline.stderr");
  }
  std::pair<int, std::string> ctl(std::vector<std::string> args) {
    std::vector<std::string> argv = {bin("gridhubctl")};
    argv.insert(argv.end(), args.begin(), args.end());
    return run(argv, dir_ / "ctl.stderr");
  }
  std::vector<v1::Ticket> tickets_json() {
    auto [rc, out] = ctl({"tickets", "--db", hub_->db().string(), "--json"});
    EXPECT_EQ(rc, 0) << slurp(dir_ / "ctl.stderr");
    std::vector<v1::Ticket> v;
    for (const auto& l : lines_of(out)) {
      v1::Ticket t;
      EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(l, &t).ok()) << l;
      v.push_back(std::move(t));
    }
    return v;
  }

  TempDir dir_;
  std::optional<HubProcess> hub_;
  std::filesystem::path hotline_cfg_;
};

TEST_F(CtlOutput, TicketsPrintsOneFixedWidthLinePerTicketAsTheJsonFormHoldsIt) {
  import({kCsv1});
  const auto tickets = tickets_json();
  ASSERT_GT(tickets.size(), 10u);
  auto [rc, out] = ctl({"tickets", "--db", hub_->db().string()});
  ASSERT_EQ(rc, 0) << slurp(dir_ / "ctl.stderr");
  const auto lines = lines_of(out);
  ASSERT_EQ(lines.size(), tickets.size());
  for (std::size_t i = 0; i < lines.size(); ++i) EXPECT_EQ(lines[i], ticket_line(tickets[i])) << "ticket " << i;
  EXPECT_LT(tickets.front().ticket_id(), tickets.back().ticket_id()) << "the order tickets were made in";
}

TEST_F(CtlOutput, DeadLettersPrintWhereWhichRecordAndWhyAndTheRowOnlyWithShowPii) {
  const auto bad = dir_ / "bad.csv";
  std::ofstream(bad) << "工单编号,来电时间,来电人,联系电话,受理渠道,诉求类型,问题分类,诉求内容,事发地址,备注\n"
                     << "GD-X1,2024/5/32 9:15,李先生,13900000002,电话,投诉,水电气暖/供水,停水,普集街道书院社区清河新城14栋1单元,\n";
  import({bad.string()});
  const auto db = hub_->db().string();
  auto [jrc, json] = ctl({"dead-letters", "--db", db, "--json"});
  ASSERT_EQ(jrc, 0) << slurp(dir_ / "ctl.stderr");
  ASSERT_EQ(lines_of(json).size(), 1u) << json;
  google::protobuf::Struct d;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(lines_of(json)[0], &d).ok()) << json;
  auto f = [&](const char* k) { return d.fields().at(k).string_value(); };
  EXPECT_EQ(f("source_key"), "GD-X1");
  EXPECT_EQ(f("payload"), "[sealed]");
  ASSERT_FALSE(f("field").empty()) << json;
  const std::string line = f("location") + "  GD-X1  " + f("reason") + " in " + f("field") + ": " + f("detail");

  auto [rc, out] = ctl({"dead-letters", "--db", db});
  ASSERT_EQ(rc, 0) << slurp(dir_ / "ctl.stderr");
  EXPECT_EQ(out, line + "\n");
  auto [prc, shown] = ctl({"dead-letters", "--db", db, "--show-pii"});
  ASSERT_EQ(prc, 0) << slurp(dir_ / "ctl.stderr");
  const auto shown_lines = lines_of(shown);
  ASSERT_EQ(shown_lines.size(), 2u) << shown;
  EXPECT_EQ(shown_lines[0], line);
  EXPECT_EQ(shown_lines[1].rfind("    row: GD-X1,2024/5/32 9:15,李先生,13900000002,", 0), 0u) << shown;
}

TEST_F(CtlOutput, AFileThatHoldsNoLogIsRefusedWithExitOneNamingIt) {
  const auto empty = dir_ / "empty.db";
  std::ofstream(empty).close();   // an empty file is an empty SQLite database: no log tables
  for (const char* cmd : {"tickets", "dead-letters"}) {
    auto [rc, out] = ctl({cmd, "--db", empty.string()});
    EXPECT_EQ(rc, 1) << cmd;
    EXPECT_EQ(out, "") << cmd;
    EXPECT_EQ(slurp(dir_ / "ctl.stderr").find("gridhubctl: " + empty.string() + " is not a gridhub log: "), 0u)
        << cmd << ": " << slurp(dir_ / "ctl.stderr");
    std::filesystem::remove(dir_ / "ctl.stderr");
  }
}

TEST_F(CtlOutput, ExtendPrintsTheTicketAfterItAndAnUnknownTicketExitsThree) {
  import({kCsv1});
  const auto tickets = tickets_json();
  const v1::Ticket* clocked = nullptr;
  for (const auto& t : tickets) {
    if (t.has_sla_due() && t.sla_due().unix_micros() != 0 && t.status() != v1::TICKET_STATUS_RESOLVED) {
      clocked = &t;
      break;
    }
  }
  ASSERT_NE(clocked, nullptr) << "no ticket with a running SLA clock";
  auto [src, status] = ctl({"status", "--hub", hub_->ingest()});
  ASSERT_EQ(src, 0) << slurp(dir_ / "ctl.stderr");
  const auto head = std::stoull(lines_of(status).at(0).substr(std::string("log_head_seq ").size()));

  auto [rc, out] = ctl({"extend", clocked->ticket_id(), "--stream", hub_->stream(), "--hours", "4", "--text",
                        "parts on order", "--request-id", "ext-1"});
  ASSERT_EQ(rc, 0) << slurp(dir_ / "ctl.stderr");
  EXPECT_EQ(out, "seq " + std::to_string(head + 1) + " ticket " + clocked->ticket_id() + " status " +
                     status_word(clocked->status()) + " assignee " + (clocked->assignee_code().empty() ? "-" : clocked->assignee_code()) + " tier " +
                     tier_word(clocked->tier()) + " request_id ext-1\n");
  // The same request again answers the same, writing nothing.
  auto [rrc, again] = ctl({"extend", clocked->ticket_id(), "--stream", hub_->stream(), "--hours", "4", "--text",
                           "parts on order", "--request-id", "ext-1"});
  EXPECT_EQ(rrc, 0);
  EXPECT_EQ(again, out);

  auto [nrc, nout] = ctl({"extend", "T99999999", "--stream", hub_->stream(), "--hours", "4", "--text", "why"});
  EXPECT_EQ(nrc, 3);
  EXPECT_EQ(nout, "");
  EXPECT_EQ(slurp(dir_ / "ctl.stderr").find("gridhubctl: T99999999: refused: UPDATE_ERROR_NOT_FOUND: "), 0u)
      << slurp(dir_ / "ctl.stderr");
  std::filesystem::remove(dir_ / "ctl.stderr");
  EXPECT_EQ(ctl({"extend", clocked->ticket_id(), "--stream", hub_->stream(), "--text", "why"}).first, 2);   // --hours missing
  EXPECT_EQ(ctl({"extend", clocked->ticket_id(), "--stream", hub_->stream(), "--hours", "0", "--text", "why"}).first, 2);
}

TEST_F(CtlOutput, EraseNamesTheRecordItWroteAndASecondEraseWritesNothing) {
  import({kCsv1});
  const auto tickets = tickets_json();
  ASSERT_FALSE(tickets.empty());
  const std::string id = tickets.front().ticket_id();
  ASSERT_EQ(hub_->terminate(), 0) << slurp(hub_->stderr_file());
  auto [src, head] = ctl({"replay", "--db", hub_->db().string(), "--format", "csv"});
  ASSERT_EQ(src, 0) << slurp(dir_ / "ctl.stderr");
  const auto records = lines_of(head).size() - 1;   // a header line, then one per record
  const std::vector<std::string> erase = {"erase", "--db", hub_->db().string(), "--ticket", id, "--ref", "case 7", "--by", "DPO"};
  auto [rc, out] = ctl(erase);
  ASSERT_EQ(rc, 0) << slurp(dir_ / "ctl.stderr");
  const std::string seq = std::to_string(records + 1);
  EXPECT_EQ(out, "erased personal data of " + id + ": log record " + seq + ", key " + id + " destroyed\n");
  auto [again_rc, again] = ctl(erase);
  EXPECT_EQ(again_rc, 0) << slurp(dir_ / "ctl.stderr");
  EXPECT_EQ(again, id + ": personal data already erased (log record " + seq + "); nothing written\n");
}

TEST(CtlKeygen, PrintsTheFilesItWroteAndTheKeyItMade) {
  TempDir dir;
  auto [rc, out] = run({bin("gridhubctl"), "keygen", "--out", (dir / "keys").string()}, dir / "keygen.stderr");
  ASSERT_EQ(rc, 0) << slurp(dir / "keygen.stderr");
  const auto lines = lines_of(out);
  ASSERT_EQ(lines.size(), 3u) << out;
  EXPECT_EQ(lines[0], "wrote " + (dir / "keys/checkpoint.key").string() + " (secret, mode 0600: the hub's [audit] signing_key)");
  EXPECT_EQ(lines[1], "wrote " + (dir / "keys/checkpoint.pub").string() + " (public: give it to auditors)");
  EXPECT_EQ(lines[2].rfind("key id ", 0), 0u) << lines[2];
  EXPECT_GT(lines[2].size(), std::string("key id ").size());

  const std::string prefix = (dir / "hub").string();
  auto [crc, cout] = run({bin("gridhubctl"), "keygen", "--curve", "--out", prefix}, dir / "curve.stderr");
  ASSERT_EQ(crc, 0) << slurp(dir / "curve.stderr");
  ASSERT_EQ(lines_of(cout).size(), 1u) << cout;
  EXPECT_EQ(lines_of(cout)[0].size(), 40u) << cout;   // a Z85 CURVE public key
  EXPECT_NE(slurp(prefix + ".pub").find(lines_of(cout)[0]), std::string::npos) << slurp(prefix + ".pub");
  EXPECT_EQ(slurp(dir / "curve.stderr"), "wrote " + prefix + ".key (secret, mode 0600) and " + prefix + ".pub\n");
}

TEST_F(CtlOutput, TrainFromTheLogLearnsADepartmentsCorrectionAndRerouteShowsWhatTheCandidateWouldChange) {
  import({kCsv1});
  // A ticket the water bureau does not own: it returns it, naming the power company's desk.
  const auto tickets = tickets_json();
  const v1::Ticket* water = nullptr;
  for (const auto& t : tickets) {
    if (t.assignee_code() == "CTY_SWJ" && t.category_code() == "1801") {
      water = &t;
      break;
    }
  }
  ASSERT_NE(water, nullptr) << "no water-bureau ticket in " << kCsv1;
  const std::string id = water->ticket_id();
  auto [ret_rc, ret_out] = ctl({"return", id, "--stream", hub_->stream(), "--text", "停电，不是停水", "--suggest", "CTY_GDGS"});
  ASSERT_EQ(ret_rc, 0) << slurp(dir_ / "ctl.stderr");

  const std::string model = (dir_ / "candidate.ngram").string();
  auto [rc, out] = ctl({"train", "--from-log", hub_->db().string(), "--categories", kWugong + "/world/categories.csv",
                        "-o", model, "--labels", kWugong + "/labels.csv", kCsv1});
  ASSERT_EQ(rc, 0) << slurp(dir_ / "ctl.stderr");
  const auto lines = lines_of(out);
  ASSERT_EQ(lines.size(), 3u) << out;
  EXPECT_EQ(lines[0].rfind("from the log: ", 0), 0u) << lines[0];
  EXPECT_NE(lines[0].find(" 0 confirmed by their resolution, 1 corrected by a department "), std::string::npos) << lines[0];
  EXPECT_EQ(lines[2].rfind("wrote " + model + " (", 0), 0u) << lines[2];

  // The candidate against the log: every decision it would change is listed, then the counts.
  auto [rr_rc, rr_out] = ctl({"reroute", "--db", hub_->db().string(), "-c", hub_->config().string(), "--model", model});
  ASSERT_EQ(rr_rc, 0) << slurp(dir_ / "ctl.stderr");
  const auto rr = lines_of(rr_out);
  ASSERT_FALSE(rr.empty());
  EXPECT_EQ(rr.back().rfind("reroute: ", 0), 0u) << rr_out;
  // The configured model changes nothing; a missing candidate is a usage error.
  auto [same_rc, same_out] = ctl({"reroute", "--db", hub_->db().string(), "-c", hub_->config().string()});
  ASSERT_EQ(same_rc, 0);
  EXPECT_NE(same_out.find(" 0 would change"), std::string::npos) << same_out;
  EXPECT_EQ(ctl({"reroute", "--db", hub_->db().string(), "-c", hub_->config().string(), "--model",
                 (dir_ / "nope.ngram").string()}).first, 2);
  // Neither labelled files nor a log: nothing to learn from.
  EXPECT_EQ(ctl({"train", "--categories", kWugong + "/world/categories.csv", "-o", model}).first, 2);
}

TEST(CtlTrain, SummarisesWhatItLearnedFromAndTheModelItWrote) {
  TempDir dir;
  const std::string model = (dir / "m.ngram").string();
  auto [rc, out] = run({bin("gridhubctl"), "train", "--labels", kWugong + "/labels.csv", "--categories",
                        kWugong + "/world/categories.csv", "-o", model, kCsv1},
                       dir / "train.stderr");
  ASSERT_EQ(rc, 0) << slurp(dir / "train.stderr");
  const auto lines = lines_of(out);
  ASSERT_EQ(lines.size(), 2u) << out;
  EXPECT_EQ(lines[0].rfind("trained on ", 0), 0u) << lines[0];
  for (const char* part : {" labelled records (", " tickets, ", " not) + ", " category-table examples; ", " records had no label"}) {
    EXPECT_NE(lines[0].find(part), std::string::npos) << part << " in " << lines[0];
  }
  EXPECT_EQ(lines[1].rfind("wrote " + model + " (", 0), 0u) << lines[1];
  EXPECT_EQ(lines[1].back(), ')');
  EXPECT_TRUE(std::filesystem::exists(model));
}

}  // namespace
}  // namespace gridhub::testing
