// `gridhub-wechat serve` as WeChat sees it: real hub and adapter processes, real HTTP requests.
#include <gtest/gtest.h>

#include <csignal>
#include <chrono>
#include <ctime>
#include <fstream>
#include <thread>

#include "gridhub/sqlite/sqlite.hpp"
#include "gridhub/v1/event.pb.h"
#include "gridhub/wechat/callback_crypto.hpp"
#include "http_client.hpp"
#include "process.hpp"

namespace gridhub::testing {
namespace {

// Tencent's published WeCom sample (token, corpid, key and a captured URL verification request).
constexpr const char* kToken = "QDG6eK";
constexpr const char* kCorpId = "wx5823bf96d3bd56c7";
constexpr const char* kAesKey = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C";
constexpr const char* kVerifyQuery =
    "msg_signature=5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3&timestamp=1409659589&nonce=263014780&echostr="
    "P9nAzCzyDtyTWESHep1vC5X9xho%2FqYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp%2B4RPcs8TgAE7OaBO%2BFZXvnaqQ%3D%3D";

std::string text_message(const std::string& msg_id, const std::string& from, std::int64_t create_time,
                         const std::string& content) {
  return "<xml><ToUserName><![CDATA[gh_0123456789ab]]></ToUserName><FromUserName><![CDATA[" + from +
         "]]></FromUserName><CreateTime>" + std::to_string(create_time) +
         "</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[" + content + "]]></Content><MsgId>" +
         msg_id + "</MsgId></xml>";
}

std::string location_message(const std::string& msg_id, const std::string& from, std::int64_t create_time) {
  return "<xml><ToUserName><![CDATA[gh_0123456789ab]]></ToUserName><FromUserName><![CDATA[" + from +
         "]]></FromUserName><CreateTime>" + std::to_string(create_time) +
         "</CreateTime><MsgType><![CDATA[location]]></MsgType><Location_X>29.561234</Location_X>"
         "<Location_Y>106.551234</Location_Y><Scale>15</Scale><Label><![CDATA[幸福路12号]]></Label><MsgId>" +
         msg_id + "</MsgId></xml>";
}

std::string plain_query(const std::string& ts, const std::string& nonce, const std::string& token = kToken) {
  return "signature=" + wechat::sorted_sha1_hex({token, ts, nonce}) + "&timestamp=" + ts + "&nonce=" + nonce;
}

/// The query timestamp WeChat would send now (the adapter refuses ones outside its window).
std::string now_ts(std::int64_t offset_s = 0) { return std::to_string(std::time(nullptr) + offset_s); }

/// The source_key of a message with `msg_id` sent to the test's Official Account (text_message's ToUserName).
std::string oa_key(const std::string& msg_id) { return "gh_0123456789ab:" + msg_id; }

std::string event_message(const std::string& to, const std::string& from, std::int64_t create_time, const std::string& event,
                          const std::string& fields) {
  return "<xml><ToUserName><![CDATA[" + to + "]]></ToUserName><FromUserName><![CDATA[" + from +
         "]]></FromUserName><CreateTime>" + std::to_string(create_time) +
         "</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[" + event + "]]></Event>" + fields + "</xml>";
}

std::optional<std::int64_t> query_int(const std::filesystem::path& db, const std::string& sql) {
  if (!std::filesystem::exists(db)) return std::nullopt;
  auto d = sqlite::Database::open(db, sqlite::OpenMode::kReadOnly);
  if (!d) return std::nullopt;
  auto v = d->query_int(sql);
  if (!v) return std::nullopt;
  return v.value();
}

/// Polls until `sql` yields `want` or 30 s pass; returns the last value seen.
std::int64_t wait_for(const std::filesystem::path& db, const std::string& sql, std::int64_t want) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  std::int64_t last = -1;
  while (std::chrono::steady_clock::now() < deadline) {
    if (auto v = query_int(db, sql)) {
      last = *v;
      if (last == want) return last;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));   // polling with a deadline
  }
  return last;
}

/// The value of one series in a Prometheus text page ("name{labels}"), or -1.
double metric(const std::string& page, const std::string& series) {
  auto pos = page.find("\n" + series + " ");
  if (pos == std::string::npos) return -1;
  return std::stod(page.substr(pos + series.size() + 2));
}

class WechatServe : public ::testing::Test {
 protected:
  WechatServe() : hub_(dir_.path()) {}

  /// Starts the adapter (the hub's ipc endpoint is known before the hub runs).
  /// Starts the adapter (the hub's ipc endpoint is known before the hub runs). `wechat` replaces
  /// the account lines after the token (default: WeCom safe mode that also takes plaintext).
  void start_adapter(const std::string& extra_adapter = {}, const std::string& wechat = kSafeAndPlain,
                     const std::string& name = "wechat") {
    const auto cfg = dir_ / (name + ".toml");
    std::ofstream(cfg) << "[adapter]\nid = \"" << name << "\"\nhub = \"ipc://" << (dir_ / "ingest.sock").string()
                       << "\"\noutbox = \"" << name << "-outbox.db\"\nack_timeout_ms = 1000\nbackoff_max_ms = 200\n"
                       << extra_adapter << "\n[wechat]\nlisten = \"127.0.0.1:0\"\ntoken = \"" << kToken << "\"\n"
                       << wechat << "\n";
    adapter_.emplace(Process::spawn({bin("gridhub-wechat"), "-c", cfg.string(), "serve"}, dir_ / (name + ".stderr")));
    auto line = adapter_->read_line(std::chrono::seconds(30));
    ASSERT_TRUE(line && line->starts_with("READY http=")) << slurp(dir_ / (name + ".stderr"));
    address_ = line->substr(std::string("READY http=").size());
  }

  static constexpr const char* kSafeMode =
      "encoding_aes_key = \"jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C\"\ncorpid = \"wx5823bf96d3bd56c7\"";
  static constexpr const char* kSafeAndPlain =
      "encoding_aes_key = \"jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C\"\ncorpid = \"wx5823bf96d3bd56c7\"\n"
      "allow_plaintext = true";

  HttpReply post(const std::string& query, const std::string& body) {
    // WeChat waits 5 s for an answer; the client gives up before that.
    HttpClient c(address_, std::chrono::milliseconds(4000));
    return c.request("POST", "/wechat?" + query, body, "text/xml");
  }

  /// An encrypted (WeCom) POST of `xml` with timestamp `ts`, as Tencent's library builds it.
  HttpReply post_encrypted(const std::string& xml, const std::string& ts, const std::string& nonce) {
    auto crypto = wechat::CallbackCrypto::create(kToken, kAesKey, kCorpId).value();
    const std::string encrypted = crypto.encrypt(xml, {3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8, 9, 7, 9, 3});
    const std::string envelope = "<xml><ToUserName><![CDATA[" + std::string(kCorpId) + "]]></ToUserName><Encrypt><![CDATA[" +
                                 encrypted + "]]></Encrypt></xml>";
    return post("timestamp=" + ts + "&nonce=" + nonce + "&msg_signature=" + crypto.msg_signature(ts, nonce, encrypted),
                envelope);
  }

  std::string metrics() { return http_request(address_, "GET", "/metrics").body; }

  std::string log_count(const std::string& keys) {
    return "SELECT count(*) FROM log WHERE source_key IN (" + keys + ")";
  }

  TempDir dir_;
  HubProcess hub_;
  std::optional<Process> adapter_;
  std::string address_;
};

TEST_F(WechatServe, PlainAndEncryptedMessagesBecomeTicketsRetriesAndForgeriesDoNot) {
  hub_.start();
  start_adapter();
  const std::string ts = now_ts();   // the query's timestamp must be fresh; CreateTime in bodies need not be

  // URL verification: plain mode echoes; WeCom's (Tencent's captured request) gets the decryption.
  auto plain = http_request(address_, "GET", "/wechat?" + plain_query(ts, "n1") + "&echostr=abc123");
  EXPECT_EQ(plain.status, 200u);
  EXPECT_EQ(plain.body, "abc123");
  auto enc = http_request(address_, "GET", std::string("/wechat?") + kVerifyQuery);
  EXPECT_EQ(enc.status, 200u);
  EXPECT_EQ(enc.body, "1616140317555161061");

  // A plaintext message and an encrypted one (compatible-mode URL: encrypt_type=aes).
  auto r1 = post(plain_query(ts, "n2"), text_message("24500000000001001", "oUSER1", 1718000000, "路灯坏了"));
  EXPECT_EQ(r1.status, 200u);
  EXPECT_EQ(r1.body, "success");
  auto crypto = wechat::CallbackCrypto::create(kToken, kAesKey, kCorpId).value();
  const std::string encrypted = crypto.encrypt(text_message("24500000000001002", "oUSER2", 1718000100, "井盖丢了"),
                                               {7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7});
  const std::string envelope = "<xml><ToUserName><![CDATA[" + std::string(kCorpId) + "]]></ToUserName><Encrypt><![CDATA[" +
                               encrypted + "]]></Encrypt></xml>";
  auto r2 = post(plain_query(ts, "n3") + "&encrypt_type=aes&msg_signature=" +
                     crypto.msg_signature(ts, "n3", encrypted),
                 envelope);
  EXPECT_EQ(r2.status, 200u) << r2.body;
  EXPECT_EQ(r2.body, "success");

  // A location then, a minute later, a text from the same user: the text gets GCJ-02 coordinates.
  EXPECT_EQ(post(plain_query(ts, "n4"), location_message("24500000000001003", "oUSER3", 1718000200)).status, 200u);
  EXPECT_EQ(post(plain_query(ts, "n5"), text_message("24500000000001004", "oUSER3", 1718000260, "这里垃圾没清")).status,
            200u);

  const std::string keys = "'" + oa_key("24500000000001001") + "','" + oa_key("24500000000001002") + "','" +
                           oa_key("24500000000001003") + "','" + oa_key("24500000000001004") + "'";
  EXPECT_EQ(wait_for(hub_.db(), log_count(keys), 4), 4);
  EXPECT_EQ(query_int(hub_.db(), "SELECT count(DISTINCT ticket_id) FROM log WHERE ticket_id IS NOT NULL AND source_key IN (" +
                                     keys + ")"),
            4);

  // WeChat's retry of a message already delivered: answered `success`, nothing new in the hub.
  auto again = post(plain_query(ts, "n2"), text_message("24500000000001001", "oUSER1", 1718000000, "路灯坏了"));
  EXPECT_EQ(again.status, 200u);
  EXPECT_EQ(again.body, "success");

  // Forged or broken requests are refused and counted; the adapter keeps serving.
  auto forged = post(plain_query(ts, "n2", "wrong-token"), text_message("24500000000009999", "oX", 1718000000, "x"));
  EXPECT_EQ(forged.status, 403u);
  EXPECT_NE(forged.body.find("bad_signature"), std::string::npos) << forged.body;
  auto broken = post(plain_query(ts, "n6"), "<xml><MsgType>text</MsgType><Content>trunc");
  EXPECT_EQ(broken.status, 400u);
  EXPECT_NE(broken.body.find("bad_xml"), std::string::npos) << broken.body;

  const std::string m = metrics();
  EXPECT_EQ(metric(m, "gridhub_wechat_retries_total"), 1) << m;
  EXPECT_EQ(metric(m, "gridhub_adapter_rejected_total{reason=\"bad_signature\"}"), 1) << m;
  EXPECT_EQ(metric(m, "gridhub_adapter_rejected_total{reason=\"bad_xml\"}"), 1) << m;
  EXPECT_EQ(metric(m, "gridhub_http_requests_total{status=\"403\"}"), 1) << m;
  EXPECT_EQ(metric(m, "gridhub_wechat_url_verifications_total"), 2) << m;
  // The broken body is stored for the hub's dead letters with its reason; the forged one is not.
  EXPECT_EQ(wait_for(hub_.db(), "SELECT count(*) FROM dead_letters WHERE reason_code='bad_xml'", 1), 1);
  EXPECT_EQ(query_int(hub_.db(), log_count(keys + ",'" + oa_key("24500000000009999") + "'")), 4);

  // The paired text carries the location's coordinates, datum explicit.
  auto ob = sqlite::Database::open(dir_ / "wechat-outbox.db", sqlite::OpenMode::kReadOnly);
  ASSERT_TRUE(ob.ok());
  auto st = ob->prepare("SELECT event FROM outbox WHERE source_key = '" + oa_key("24500000000001004") + "'");
  ASSERT_TRUE(st.ok());
  auto row = st->step();
  ASSERT_TRUE(row.ok() && row.value());
  v1::Event ev;
  ASSERT_TRUE(ev.ParseFromString(std::string(st->column_blob(0))));
  EXPECT_DOUBLE_EQ(ev.fields().location().lat(), 29.561234);
  EXPECT_DOUBLE_EQ(ev.fields().location().lon(), 106.551234);
  EXPECT_EQ(ev.fields().location().datum(), v1::DATUM_GCJ02);
  EXPECT_EQ(ev.fields().extra().at("location_msg"), oa_key("24500000000001003"));
}

TEST_F(WechatServe, WithTheHubDownMessagesAreAnsweredAndDeliveredOnceItStarts) {
  start_adapter();   // no hub yet
  for (int i = 0; i < 3; ++i) {
    const std::string id = "2450000000000200" + std::to_string(i);
    auto r = post(plain_query(now_ts(), "n" + std::to_string(i)), text_message(id, "oDOWN", 1718000000 + i, "停水了"));
    ASSERT_EQ(r.status, 200u) << r.body;   // within the client's 4 s, though no hub is listening
    EXPECT_EQ(r.body, "success");
  }
  EXPECT_EQ(metric(metrics(), "gridhub_adapter_outbox_pending"), 3);
  hub_.start();
  EXPECT_EQ(wait_for(hub_.db(), log_count("'" + oa_key("24500000000002000") + "','" + oa_key("24500000000002001") + "','" +
                                          oa_key("24500000000002002") + "'"), 3), 3);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (metric(metrics(), "gridhub_adapter_outbox_pending") != 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  const std::string m = metrics();
  EXPECT_EQ(metric(m, "gridhub_adapter_outbox_pending"), 0) << m;
  EXPECT_EQ(metric(m, "gridhub_adapter_acked_total"), 3) << m;
  // SIGTERM stops the server and the delivery thread in order.
  adapter_->signal(SIGTERM);
  EXPECT_EQ(adapter_->wait(), 0) << slurp(dir_ / "wechat.stderr");
}

// A LOCATION report and a menu CLICK from one user in the same second are two events, and WeChat's
// retry of one of them is still one.
TEST_F(WechatServe, TwoDifferentEventsFromOneUserInOneSecondAreBothKept) {
  hub_.start();
  start_adapter();
  const std::string ts = now_ts();
  const std::string location = event_message("gh_0123456789ab", "oEVT", 1718000500, "LOCATION",
                                             "<Latitude>29.561234</Latitude><Longitude>106.551234</Longitude><Precision>65</Precision>");
  const std::string click = event_message("gh_0123456789ab", "oEVT", 1718000500, "CLICK", "<EventKey><![CDATA[REPORT]]></EventKey>");
  EXPECT_EQ(post(plain_query(ts, "e1"), location).status, 200u);
  EXPECT_EQ(post(plain_query(ts, "e2"), click).status, 200u);
  EXPECT_EQ(post(plain_query(ts, "e1"), location).status, 200u);   // WeChat's retry of the first
  EXPECT_EQ(wait_for(hub_.db(), "SELECT count(*) FROM log WHERE source_key LIKE 'gh_0123456789ab:oEVT:1718000500:%'", 2), 2);
  EXPECT_EQ(metric(metrics(), "gridhub_wechat_retries_total"), 1);
  EXPECT_EQ(wait_for(dir_ / "wechat-outbox.db", "SELECT count(*) FROM outbox WHERE state = 0", 0), 0);
  EXPECT_EQ(query_int(hub_.db(), "SELECT count(*) FROM log WHERE source_key LIKE 'gh_0123456789ab:oEVT:%'"), 2);
}

// An Official Account URL and a WeCom URL feed one hub; their MsgId spaces are their own.
TEST_F(WechatServe, TheSameMsgIdOnTwoAccountsIsTwoReports) {
  hub_.start();
  start_adapter({}, "appid = \"wx0a1b2c3d4e5f6a7b\"", "wechat-oa");   // plaintext Official Account
  const std::string oa = address_;
  auto r1 = post(plain_query(now_ts(), "m1"), text_message("24500000000005001", "oOA", 1718000600, "路灯坏了"));
  EXPECT_EQ(r1.status, 200u) << r1.body;
  EXPECT_EQ(wait_for(hub_.db(), log_count("'gh_0123456789ab:24500000000005001'"), 1), 1);   // delivered before we move on
  start_adapter({}, kSafeMode, "wechat-wecom");   // WeCom application 1000002, encrypted
  ASSERT_NE(address_, oa);
  const std::string wecom =
      "<xml><ToUserName><![CDATA[wx5823bf96d3bd56c7]]></ToUserName><FromUserName><![CDATA[zhangsan]]></FromUserName>"
      "<CreateTime>1718000600</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[井盖丢了]]></Content>"
      "<MsgId>24500000000005001</MsgId><AgentID>1000002</AgentID></xml>";
  auto r2 = post_encrypted(wecom, now_ts(), "m2");
  EXPECT_EQ(r2.status, 200u) << r2.body;
  EXPECT_EQ(wait_for(hub_.db(),
                     "SELECT count(*) FROM log WHERE source_key IN ('gh_0123456789ab:24500000000005001',"
                     "'wx5823bf96d3bd56c7/1000002:24500000000005001')",
                     2),
            2);
}

// A plaintext signature covers token, timestamp and nonce, not the body: a logged query string
// must not carry a body of someone else's choosing.
TEST_F(WechatServe, PlaintextIsRefusedInSafeModeAndReplayedOrStaleSignaturesAreRefused) {
  hub_.start();
  start_adapter({}, kSafeMode);
  // Safe mode: a correctly signed plaintext message is refused, nothing stored.
  auto plain = post(plain_query(now_ts(), "p1"), text_message("24500000000006001", "oREPLAY", 1718000700, "伪造的工单"));
  EXPECT_EQ(plain.status, 403u);
  EXPECT_NE(plain.body.find("plaintext_refused"), std::string::npos) << plain.body;
  // Encrypted, but with a timestamp an hour old (a captured request): refused.
  auto stale = post_encrypted(text_message("24500000000006002", "oREPLAY", 1718000700, "旧的"), now_ts(-3600), "p2");
  EXPECT_EQ(stale.status, 403u);
  EXPECT_NE(stale.body.find("stale_timestamp"), std::string::npos) << stale.body;
  // A fresh encrypted message is taken.
  auto fresh = post_encrypted(text_message("24500000000006003", "oREPLAY", 1718000700, "新的"), now_ts(), "p3");
  EXPECT_EQ(fresh.status, 200u) << fresh.body;
  EXPECT_EQ(wait_for(hub_.db(), log_count("'" + oa_key("24500000000006003") + "'"), 1), 1);   // delivered before it stops
  adapter_->signal(SIGTERM);
  EXPECT_EQ(adapter_->wait(), 0);

  // Compatibility mode, allowed explicitly: a logged query string with a new body is a replay.
  start_adapter({}, kSafeAndPlain, "wechat-compat");
  const std::string ts = now_ts();
  auto first = post(plain_query(ts, "p4"), text_message("24500000000006004", "oREPLAY", 1718000700, "真的"));
  EXPECT_EQ(first.status, 200u) << first.body;
  auto replayed = post(plain_query(ts, "p4"), text_message("24500000000006005", "oREPLAY", 1718000700, "伪造的工单"));
  EXPECT_EQ(replayed.status, 403u);
  EXPECT_NE(replayed.body.find("replayed_nonce"), std::string::npos) << replayed.body;
  // The same request again is WeChat's retry: answered as before, nothing new.
  EXPECT_EQ(post(plain_query(ts, "p4"), text_message("24500000000006004", "oREPLAY", 1718000700, "真的")).status, 200u);
  auto old = post(plain_query(now_ts(-3600), "p5"), text_message("24500000000006006", "oREPLAY", 1718000700, "旧的"));
  EXPECT_EQ(old.status, 403u);
  EXPECT_NE(old.body.find("stale_timestamp"), std::string::npos) << old.body;
  const std::string m = metrics();
  EXPECT_EQ(metric(m, "gridhub_adapter_rejected_total{reason=\"replayed_nonce\"}"), 1) << m;
  EXPECT_EQ(metric(m, "gridhub_adapter_rejected_total{reason=\"stale_timestamp\"}"), 1) << m;

  EXPECT_EQ(wait_for(hub_.db(), log_count("'" + oa_key("24500000000006003") + "','" + oa_key("24500000000006004") + "'"), 2), 2);
  EXPECT_EQ(wait_for(dir_ / "wechat-compat-outbox.db", "SELECT count(*) FROM outbox WHERE state = 0", 0), 0);
  EXPECT_EQ(query_int(hub_.db(), "SELECT count(*) FROM log WHERE source_key LIKE '%:2450000000000600%'"), 2);
}

// WeChat does not resend after an error answer: a 503 would lose the message. Beyond
// adapter.max_pending the adapter keeps accepting and alerts; only the disk bound refuses.
TEST_F(WechatServe, BeyondMaxPendingMessagesAreStillAcceptedAndAlertedThenDeliveredNoneLost) {
  start_adapter("max_pending = 2\nretry_after_s = 7");   // no hub: nothing drains
  const std::string ts = now_ts();
  EXPECT_EQ(post(plain_query(ts, "a"), text_message("24500000000003001", "oFULL", 1718000000, "一")).status, 200u);
  EXPECT_EQ(post(plain_query(ts, "b"), text_message("24500000000003002", "oFULL", 1718000001, "二")).status, 200u);
  auto beyond = post(plain_query(ts, "c"), text_message("24500000000003003", "oFULL", 1718000002, "三"));
  EXPECT_EQ(beyond.status, 200u) << beyond.body;
  EXPECT_EQ(beyond.body, "success");
  auto more = post(plain_query(ts, "d"), text_message("24500000000003004", "oFULL", 1718000003, "四"));
  EXPECT_EQ(more.status, 200u) << more.body;
  // A retry of a message already held is `success` and not counted again.
  EXPECT_EQ(post(plain_query(ts, "a"), text_message("24500000000003001", "oFULL", 1718000000, "一")).status, 200u);
  const std::string m = metrics();
  EXPECT_EQ(metric(m, "gridhub_adapter_overflow_total"), 2) << m;
  EXPECT_EQ(metric(m, "gridhub_adapter_outbox_pending"), 4) << m;
  EXPECT_EQ(metric(m, "gridhub_http_requests_total{status=\"503\"}"), -1) << m;
  EXPECT_NE(slurp(dir_ / "wechat.stderr").find("beyond adapter.max_pending (2)"), std::string::npos)
      << slurp(dir_ / "wechat.stderr");

  // Once the hub runs, all four arrive.
  hub_.start();
  EXPECT_EQ(wait_for(hub_.db(),
                     log_count("'" + oa_key("24500000000003001") + "','" + oa_key("24500000000003002") + "','" +
                               oa_key("24500000000003003") + "','" + oa_key("24500000000003004") + "'"),
                     4),
            4);
}

TEST_F(WechatServe, BelowTheDiskBoundNewMessagesAreRefusedWith503) {
  // More free space demanded than any disk has: the hard bound is reached at once.
  start_adapter("max_pending = 1\nmin_free_disk_mb = 1099511627776");
  auto refused = post(plain_query(now_ts(), "a"), text_message("24500000000003101", "oDISK", 1718000000, "一"));
  EXPECT_EQ(refused.status, 503u);
  EXPECT_NE(refused.body.find("min_free_disk_mb"), std::string::npos) << refused.body;
  EXPECT_EQ(metric(metrics(), "gridhub_adapter_refused_total{reason=\"outbox_full\"}"), 1);
}

// File importers can expose the same /metrics (adapter.metrics_listen) while they run.
TEST(FileImportMetrics, AHotlineImportServesMetricsWhileItWaitsForTheHub) {
  TempDir dir;
  std::ofstream(dir / "export.csv")
      << "工单编号,来电时间,来电人,联系电话,受理渠道,诉求类型,问题分类,诉求内容,事发地址,备注\n"
      << "GD1,2024-05-06 09:12:33,张,13800000001,电话,投诉,市容,路灯坏了,幸福路1号,\n"
      << "GD2,2024-05-06 09:13:33,李,13800000002,电话,投诉,市容,井盖丢了,幸福路2号,\n"
      << "GD3,2024-13-45 99:99:99,王,13800000003,电话,投诉,市容,垃圾没清,幸福路3号,\n";
  // No hub listens on this endpoint: the importer keeps its events and waits.
  auto cfg = write_hotline_config(dir.path(), "hotline", "ipc://" + (dir / "nohub.sock").string(),
                                  "metrics_listen = \"127.0.0.1:0\"");
  auto p = Process::spawn({bin("gridhub-hotline"), "-c", cfg.string(), (dir / "export.csv").string()}, dir / "hotline.stderr");
  auto line = p.read_line(std::chrono::seconds(30));
  ASSERT_TRUE(line && line->starts_with("READY http=")) << slurp(dir / "hotline.stderr");
  const std::string address = line->substr(std::string("READY http=").size());
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  std::string m;
  while (std::chrono::steady_clock::now() < deadline) {
    m = http_request(address, "GET", "/metrics").body;
    if (metric(m, "gridhub_adapter_received_total") == 3) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(metric(m, "gridhub_adapter_received_total"), 3) << m;
  EXPECT_EQ(metric(m, "gridhub_adapter_rejected_total{reason=\"bad_date\"}"), 1) << m;
  EXPECT_EQ(metric(m, "gridhub_adapter_outbox_pending"), 3) << m;   // the rejection goes to the hub's dead letters too
  p.signal(SIGTERM);
  EXPECT_EQ(p.wait(), 3);   // interrupted with events pending
}

}  // namespace
}  // namespace gridhub::testing
