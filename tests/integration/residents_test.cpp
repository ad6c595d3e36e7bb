// Residents hear back (docs/residents.md): a report's public reference, and the progress lookup the
// hub answers — from the web form's 查询进度 page and from a WeChat "查询 <reference>" message — with
// real hub and adapter processes, a department's reports back sent with gridhubctl.
#include <gtest/gtest.h>

#include <cctype>
#include <chrono>
#include <fstream>
#include <thread>

#include "gridhub/common/public_reference.hpp"
#include "gridhub/sqlite/sqlite.hpp"
#include "gridhub/wechat/callback_crypto.hpp"
#include "http_client.hpp"
#include "process.hpp"

namespace gridhub::testing {
namespace {

const std::string kWugong = source_path("examples/wugong");
// Tencent's published WeCom sample parameters (WXBizMsgCrypt Sample.cpp).
constexpr const char* kToken = "QDG6eK";
constexpr const char* kCorpId = "wx5823bf96d3bd56c7";
constexpr const char* kAesKey = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C";

std::string pipeline_toml() {
  return "[pipeline]\nchat_groups = \"" + kWugong + "/wechat/groups.csv\"\n"
         "[plugins.resolver_gazetteer]\nworld_dir = \"" + kWugong + "/world\"\n"
         "[plugins.classifier_ngram]\nmodel = \"" + kWugong + "/model/classifier.ngram\"\n"
         "[plugins.router_tiered]\ncategories = \"" + kWugong + "/world/categories.csv\"\n";
}

/// Polls `sql` (one text value) until it is non-empty or 30 s pass.
std::string wait_text(const std::filesystem::path& db, const std::string& sql) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    if (std::filesystem::exists(db)) {
      auto d = sqlite::Database::open(db, sqlite::OpenMode::kReadOnly);
      if (d) {
        auto v = d->query_text(sql);
        if (v && !v.value().empty()) return v.value();
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));   // polling with a deadline
  }
  return {};
}

std::int64_t count(const std::filesystem::path& db, const std::string& sql) {
  auto d = sqlite::Database::open(db, sqlite::OpenMode::kReadOnly);
  if (!d) return -1;
  auto v = d->query_int(sql);
  return v ? v.value() : -1;
}

/// The text between <tag> and </tag>, CDATA unwrapped.
std::string element(const std::string& xml, const std::string& tag) {
  const auto open = xml.find("<" + tag + ">");
  const auto close = xml.find("</" + tag + ">");
  if (open == std::string::npos || close == std::string::npos) return {};
  std::string v = xml.substr(open + tag.size() + 2, close - open - tag.size() - 2);
  if (v.starts_with("<![CDATA[") && v.ends_with("]]>")) v = v.substr(9, v.size() - 12);
  return v;
}

std::string percent(const std::string& s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (const unsigned char c : s) {
    if (std::isalnum(c) != 0) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

class Residents : public ::testing::Test {
 protected:
  Residents() : hub_(dir_.path(), {}, pipeline_toml()) {}

  void start_adapter(const std::string& name, const std::string& binary, const std::string& section) {
    const auto cfg = dir_ / (name + ".toml");
    std::ofstream(cfg) << "[adapter]\nid = \"" << name << "\"\nhub = \"ipc://" << (dir_ / "ingest.sock").string()
                       << "\"\noutbox = \"" << name << "-outbox.db\"\nack_timeout_ms = 1000\nbackoff_max_ms = 200\n\n"
                       << section << "\n";
    adapter_.emplace(Process::spawn({bin(binary), "-c", cfg.string(), "serve"}, dir_ / (name + ".stderr")));
    auto line = adapter_->read_line(std::chrono::seconds(30));
    ASSERT_TRUE(line && line->starts_with("READY http=")) << slurp(dir_ / (name + ".stderr"));
    address_ = line->substr(std::string("READY http=").size());
  }

  HttpReply post(const std::string& target, const std::string& body, const std::string& type) {
    HttpClient c(address_, std::chrono::milliseconds(4000));
    return c.request("POST", target, body, type, {{"Accept", "text/html"}});
  }

  HttpReply lookup(const std::string& reference, const std::string& tel4) {
    return post("/progress", "reference=" + percent(reference) + "&tel4=" + tel4, "application/x-www-form-urlencoded");
  }

  int ctl(std::vector<std::string> args) {
    std::vector<std::string> argv = {bin("gridhubctl")};
    argv.insert(argv.end(), args.begin(), args.end());
    return run(argv, dir_ / "ctl.stderr").first;
  }

  TempDir dir_;
  HubProcess hub_;
  std::optional<Process> adapter_;
  std::string address_;
};

TEST_F(Residents, AWebFormReportIsLookedUpByItsReferenceAndPhoneDigitsThroughAcceptAndResolve) {
  hub_.start();
  start_adapter("webform-http", "gridhub-webform", "[webform]\nlisten = \"127.0.0.1:0\"\nphoto_dir = \"photos\"\n");

  // The intake page leads a returning resident to the lookup.
  EXPECT_NE(http_request(address_, "GET", "/report").body.find("href=\"/progress\""), std::string::npos);
  auto sent = post("/form", "submission_id=res-1&content=" + percent("幸福路12号门口垃圾三天没人清运") +
                                "&addr=" + percent("迎宾路35号") + "&tel=138+0000+1234",
                   "application/x-www-form-urlencoded");
  ASSERT_EQ(sent.status, 200u) << sent.body;
  // 提交成功 shows the twelve-digit reference (grouped), not the hex key.
  const auto at = sent.body.find("id=\"reference\"");
  ASSERT_NE(at, std::string::npos) << sent.body;
  const std::string shown = sent.body.substr(sent.body.find('>', at) + 1, 14);
  const auto reference = parse_public_reference(shown);
  ASSERT_TRUE(reference) << shown;
  EXPECT_EQ(sent.header("X-Gridhub-Reference"), *reference);
  const std::string key = sent.body.substr(at).substr(sent.body.substr(at).find("data-key=\"") + 10);
  const std::string source_key = "form:" + key.substr(0, key.find('"'));
  const std::string ticket = wait_text(hub_.db(), "SELECT ticket_id FROM log WHERE source_key = '" + source_key + "'");
  ASSERT_FALSE(ticket.empty()) << slurp(dir_ / "webform-http.stderr");
  EXPECT_EQ(*reference, public_reference(3, source_key)) << "the hub indexes what the adapter showed";

  auto before = lookup(shown, "1234");
  ASSERT_EQ(before.status, 200u) << before.body;
  EXPECT_EQ(before.body.find("13800001234"), std::string::npos);
  EXPECT_EQ(before.body.find("已办结"), std::string::npos);

  const std::string stream = hub_.stream();
  ASSERT_EQ(ctl({"accept", ticket, "--stream", stream, "--text", "已安排环卫工人今天下午清运"}), 0) << slurp(dir_ / "ctl.stderr");
  auto accepted = lookup(*reference, "1234");
  ASSERT_EQ(accepted.status, 200u) << accepted.body;
  EXPECT_NE(accepted.body.find("<strong id=\"status\">处理中</strong>"), std::string::npos) << accepted.body;
  EXPECT_NE(accepted.body.find("受理：已安排环卫工人今天下午清运"), std::string::npos) << accepted.body;

  ASSERT_EQ(ctl({"resolve", ticket, "--stream", stream, "--text", "垃圾已清运完毕"}), 0) << slurp(dir_ / "ctl.stderr");
  auto done = lookup(shown, "1234");
  ASSERT_EQ(done.status, 200u) << done.body;
  EXPECT_NE(done.body.find("<strong id=\"status\">已办结</strong>"), std::string::npos) << done.body;
  EXPECT_NE(done.body.find("办结：垃圾已清运完毕"), std::string::npos) << done.body;

  // Wrong digits and an unknown reference get the very same answer.
  std::string unknown = "12345678901";
  unknown += damm_check_digit(unknown);
  ASSERT_TRUE(parse_public_reference(unknown));
  auto wrong_digits = lookup(*reference, "4321");
  auto wrong_reference = lookup(unknown, "1234");
  EXPECT_EQ(wrong_digits.status, 404u);
  EXPECT_EQ(wrong_reference.status, 404u);
  auto strip = [](std::string body, const std::string& ref) {
    for (auto p = body.find(ref); p != std::string::npos; p = body.find(ref)) body.replace(p, ref.size(), "REF");
    return body;
  };
  EXPECT_EQ(strip(wrong_digits.body, *reference), strip(wrong_reference.body, unknown));

  // Guessing the digits: after the reference's allowance of misses it is locked, right digits too.
  for (int i = 0; i < 4; ++i) EXPECT_EQ(lookup(*reference, "000" + std::to_string(i)).status, 404u);
  EXPECT_EQ(lookup(*reference, "1234").status, 404u) << "locked after five misses within the window";
}

TEST_F(Residents, AWechatReportIsAnsweredWithItsReferenceAndQueriedWithAnEncryptedPassiveReply) {
  hub_.start();
  start_adapter("wechat", "gridhub-wechat",
                std::string("[wechat]\nlisten = \"127.0.0.1:0\"\ntoken = \"") + kToken + "\"\nencoding_aes_key = \"" + kAesKey +
                    "\"\ncorpid = \"" + kCorpId + "\"\nreply_reference = true\n");
  auto crypto = wechat::CallbackCrypto::create(kToken, kAesKey, kCorpId).value();
  int nonce = 1000;
  // One encrypted message as WeChat sends it; returns the decrypted passive reply (checked signed).
  auto send = [&](const std::string& from, const std::string& msg_id, const std::string& content) -> std::string {
    const std::string xml = "<xml><ToUserName><![CDATA[gh_0123456789ab]]></ToUserName><FromUserName><![CDATA[" + from +
                            "]]></FromUserName><CreateTime>" + std::to_string(std::time(nullptr)) +
                            "</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[" + content +
                            "]]></Content><MsgId>" + msg_id + "</MsgId></xml>";
    const std::string ts = std::to_string(std::time(nullptr));
    const std::string n = std::to_string(++nonce);
    const std::string encrypted = crypto.encrypt(xml, {3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8, 9, 7, 9, 3});
    HttpClient c(address_, std::chrono::milliseconds(4000));
    auto r = c.request("POST", "/wechat?timestamp=" + ts + "&nonce=" + n + "&msg_signature=" + crypto.msg_signature(ts, n, encrypted),
                       "<xml><ToUserName><![CDATA[" + std::string(kCorpId) + "]]></ToUserName><Encrypt><![CDATA[" + encrypted +
                           "]]></Encrypt></xml>",
                       "text/xml");
    EXPECT_EQ(r.status, 200u) << r.body;
    const std::string enc = element(r.body, "Encrypt");
    EXPECT_TRUE(crypto.check_msg_signature(element(r.body, "MsgSignature"), element(r.body, "TimeStamp"),
                                           element(r.body, "Nonce"), enc))
        << r.body;
    auto plain = crypto.decrypt(enc);
    EXPECT_TRUE(plain) << r.body;
    if (!plain) return {};
    EXPECT_EQ(element(plain.value(), "ToUserName"), from);
    EXPECT_EQ(element(plain.value(), "MsgType"), "text");
    return element(plain.value(), "Content");
  };

  const std::string openid = "oTEST00000000000000000000001";
  const std::string thanks = send(openid, "24500000000000002", "幸福路12号门口垃圾三天没人清运");
  const std::string source_key = "gh_0123456789ab:24500000000000002";
  const std::string reference = public_reference(2, source_key);
  EXPECT_NE(thanks.find(display_reference(reference)), std::string::npos) << thanks;
  const std::string ticket = wait_text(hub_.db(), "SELECT ticket_id FROM log WHERE source_key = '" + source_key + "'");
  ASSERT_FALSE(ticket.empty()) << slurp(dir_ / "wechat.stderr");
  ASSERT_EQ(ctl({"resolve", ticket, "--stream", hub_.stream(), "--text", "垃圾已清运完毕"}), 0) << slurp(dir_ / "ctl.stderr");

  const std::string answer = send(openid, "24500000000000003", "查询 " + display_reference(reference));
  EXPECT_NE(answer.find("当前状态：已办结"), std::string::npos) << answer;
  EXPECT_NE(answer.find("办结：垃圾已清运完毕"), std::string::npos) << answer;
  // Another WeChat user cannot read it; a lookup is not a report and is not stored.
  const std::string other = send("oTEST00000000000000000000002", "24500000000000004", "查询：" + reference);
  EXPECT_NE(other.find("没有查到"), std::string::npos) << other;
  EXPECT_EQ(count(hub_.db(), "SELECT count(*) FROM log WHERE source_key IN ('gh_0123456789ab:24500000000000003',"
                             "'gh_0123456789ab:24500000000000004')"),
            0);
}

}  // namespace
}  // namespace gridhub::testing
