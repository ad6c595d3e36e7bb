// `gridhub-webform serve` as browsers, form builders and Open311 clients see it: real hub and
// adapter processes, real HTTP requests (Beast), and the intake page submitted by headless Chromium.
#include <gtest/gtest.h>

#include <csignal>
#include <chrono>
#include <fstream>
#include <thread>

#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/json.hpp>

#include "gridhub/common/public_reference.hpp"
#include "gridhub/log/pii_vault.hpp"
#include "gridhub/sqlite/sqlite.hpp"
#include "gridhub/v1/log.pb.h"
#include "gridhub/webform/photo_store.hpp"
#include "gridhub/webform/signature.hpp"
#include "devtools.hpp"
#include "http_client.hpp"
#include "process.hpp"

namespace gridhub::testing {
namespace {

const std::string kWugong = source_path("examples/wugong");
constexpr const char* kSecret = "jinshuju-test-secret";
constexpr const char* kChromium = "/usr/bin/chromium";
// A JPEG as far as sniffing goes (SOI + APP0), with bytes a text path would mangle.
const std::string kJpeg = std::string("\xFF\xD8\xFF\xE0\x00\x10JFIF\x00\x01\r\n\x00\xFF", 16) + "photo-bytes";

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

/// The event the hub logged for `source_key` (webform channel).
std::optional<v1::Event> logged_event(const std::filesystem::path& db, const std::string& source_key) {
  auto d = sqlite::Database::open(db, sqlite::OpenMode::kReadOnly);
  if (!d) return std::nullopt;
  auto st = d->prepare("SELECT body FROM log WHERE source_key = '" + source_key + "'");
  if (!st) return std::nullopt;
  auto row = st->step();
  if (!row.ok() || !row.value()) return std::nullopt;
  v1::LogRecord rec;
  if (!rec.ParseFromString(std::string(st->column_blob(0)))) return std::nullopt;
  // Personal fields are stored sealed under the ticket's key; open them as an entitled reader would.
  auto keys = log::PiiKeyStore::open(d->handle());
  if (!keys || !log::unseal_pii(rec, keys.value()).ok()) return std::nullopt;
  return rec.intake_accepted().event();
}

double metric(const std::string& page, const std::string& series) {
  auto pos = page.find("\n" + series + " ");
  if (pos == std::string::npos) return -1;
  return std::stod(page.substr(pos + series.size() + 2));
}

struct Part {
  Part(std::string n, std::string v, std::string f = {}, std::string t = {})
      : name(std::move(n)), value(std::move(v)), filename(std::move(f)), type(std::move(t)) {
    if (!filename.empty() && type.empty()) type = "application/octet-stream";
  }
  std::string name;
  std::string value;
  std::string filename;
  std::string type;   // non-empty: a file part (an empty file input has type but no filename)
};

std::string multipart(const std::vector<Part>& parts, const std::string& boundary) {
  std::string body;
  for (const auto& p : parts) {
    body += "--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + p.name + "\"";
    if (!p.type.empty()) body += "; filename=\"" + p.filename + "\"\r\nContent-Type: " + p.type;
    body += "\r\n\r\n" + p.value + "\r\n";
  }
  return body + "--" + boundary + "--\r\n";
}

/// The reference of an "ok <reference>\n" answer ("" otherwise).
std::string reference_of(const HttpReply& r) {
  if (r.status != 200 || !r.body.starts_with("ok ") || !r.body.ends_with("\n")) return {};
  return r.body.substr(3, r.body.size() - 4);
}

class WebformServe : public ::testing::Test {
 protected:
  WebformServe() : hub_(dir_.path()) {}

  void start_adapter(const std::string& extra_webform = {}, const std::string& extra_adapter = {}) {
    const auto cfg = dir_ / "webform.toml";
    std::ofstream(cfg) << "[adapter]\nid = \"webform-http\"\nhub = \"ipc://" << (dir_ / "ingest.sock").string()
                       << "\"\noutbox = \"webform-outbox.db\"\nack_timeout_ms = 1000\nbackoff_max_ms = 200\n"
                       << extra_adapter << "\n[webform]\nlisten = \"127.0.0.1:0\"\nfield_map = \"" << kWugong
                       << "/webform/field_map.json\"\nphoto_dir = \"photos\"\nphoto_max_bytes = 65536\n"
                       << "categories = \"" << kWugong << "/world/categories.csv\"\ncommunities_csv = \"" << kWugong
                       << "/world/communities.csv\"\n"
                       << extra_webform << "\n[webform.webhook_secret]\nXk3pQv = \"" << kSecret
                       << "\"\n[webform.webhook_header]\nXk3pQv = \"X-Jinshuju-Signature\"\n";
    adapter_.emplace(Process::spawn({bin("gridhub-webform"), "-c", cfg.string(), "serve"}, dir_ / "webform.stderr"));
    auto line = adapter_->read_line(std::chrono::seconds(30));
    ASSERT_TRUE(line && line->starts_with("READY http=")) << slurp(dir_ / "webform.stderr");
    address_ = line->substr(std::string("READY http=").size());
  }

  HttpReply post(const std::string& target, const std::string& body, const std::string& content_type,
                 const std::map<std::string, std::string>& headers = {}) {
    HttpClient c(address_, std::chrono::milliseconds(5000));
    return c.request("POST", target, body, content_type, headers);
  }

  HttpReply post_multipart(const std::vector<Part>& parts) {
    const std::string boundary = "----gridhubTestBoundary7MA4YWxk";
    return post("/form", multipart(parts, boundary), "multipart/form-data; boundary=" + boundary);
  }

  std::string metrics() { return http_request(address_, "GET", "/metrics").body; }

  TempDir dir_;
  HubProcess hub_;
  std::optional<Process> adapter_;
  std::string address_;
};

TEST_F(WebformServe, FormsPhotosWebhooksAndOpen311BecomeTickets) {
  hub_.start();
  start_adapter();

  // A legacy GBK page: "路灯坏了" and "张" percent-encoded in GBK, the charset on the Content-Type.
  auto gbk_post = post("/form", "submission_id=gbk-1&content=%C2%B7%B5%C6%BB%B5%C1%CB&name=%D5%C5&tel=138+0000+0001",
                       "application/x-www-form-urlencoded; charset=GBK");
  EXPECT_EQ(gbk_post.status, 200u) << gbk_post.body;
  const std::string gbk1 = reference_of(gbk_post);
  EXPECT_TRUE(gbk1.starts_with("gbk-1-")) << gbk_post.body;   // the page's id plus a digest of what was said
  // The same bytes declared by a _charset_ field instead.
  auto gbk_field = post("/form", "_charset_=gb2312&submission_id=gbk-2&content=%C2%B7%B5%C6%BB%B5%C1%CB",
                        "application/x-www-form-urlencoded");
  EXPECT_EQ(gbk_field.status, 200u) << gbk_field.body;
  const std::string gbk2 = reference_of(gbk_field);

  // Multipart with a photo: stored by digest, named from the event.
  auto mp = post_multipart({{"submission_id", "mp-1"}, {"content", "井盖丢了，很危险"}, {"addr", "迎宾路35号"},
                            {"community", "麦香社区"}, {"photo", kJpeg, "IMG_0001.JPG", "image/jpeg"},
                            {"photo", "", "", "application/octet-stream"}});
  EXPECT_EQ(mp.status, 200u) << mp.body;
  const std::string mp1 = reference_of(mp);
  const std::string photo = webform::sha256_hex(kJpeg) + ".jpg";
  EXPECT_EQ(slurp(dir_ / "photos" / photo), kJpeg);
  // A double submit of the same page (the same fields again) creates nothing new.
  auto twice = post_multipart({{"submission_id", "mp-1"}, {"content", "井盖丢了，很危险"}, {"addr", "迎宾路35号"},
                               {"community", "麦香社区"}, {"photo", kJpeg, "IMG_0001.JPG", "image/jpeg"},
                               {"photo", "", "", "application/octet-stream"}});
  EXPECT_EQ(twice.status, 200u);
  EXPECT_EQ(reference_of(twice), mp1);

  // Oversized and non-image photos are refused before anything is stored.
  auto big = post_multipart({{"content", "x"}, {"photo", "\xFF\xD8\xFF" + std::string(70000, 'x'), "big.jpg"}});
  EXPECT_EQ(big.status, 413u);
  EXPECT_NE(big.body.find("photo_too_large (photo)"), std::string::npos) << big.body;
  auto gif = post_multipart({{"content", "x"}, {"photo", "GIF89a....", "a.gif", "image/gif"}});
  EXPECT_EQ(gif.status, 415u);
  auto missing = post_multipart({{"name", "x"}});
  EXPECT_EQ(missing.status, 400u);
  EXPECT_NE(missing.body.find("(content)"), std::string::npos) << missing.body;

  // jinshuju webhook: valid HMAC (hex), forged, missing.
  std::ifstream in(kWugong + "/webform/jinshuju_push.jsonl");
  std::string push;
  std::getline(in, push);
  const std::string sig = webform::to_hex(webform::hmac_sha256(kSecret, push));
  auto ok_hook = post("/webhook/Xk3pQv", push, "application/json", {{"X-Jinshuju-Signature", sig}});
  EXPECT_EQ(ok_hook.status, 200u) << ok_hook.body;
  auto forged = post("/webhook/Xk3pQv", push, "application/json",
                     {{"X-Jinshuju-Signature", webform::to_hex(webform::hmac_sha256("wrong", push))}});
  EXPECT_EQ(forged.status, 401u);
  EXPECT_NE(forged.body.find("bad_signature"), std::string::npos) << forged.body;
  EXPECT_EQ(post("/webhook/Xk3pQv", push, "application/json").status, 401u);

  // Open311.
  auto services = http_request(address_, "GET", "/open311/v2/services.json");
  EXPECT_EQ(services.status, 200u);
  const auto list = boost::json::parse(services.body).as_array();
  bool found = false;
  for (const auto& s : list) found = found || s.as_object().at("service_code").as_string() == "0102";
  EXPECT_TRUE(found) << services.body.substr(0, 400);
  auto req = post("/open311/v2/requests.json",
                  "service_code=0102&lat=34.2651&long=108.2012&description=%E5%9E%83%E5%9C%BE%E4%B8%89%E5%A4%A9%E6%B2%A1%E6%B8%85"
                  "&first_name=%E5%AE%81&last_name=%E6%9C%B1&phone=13800000002",
                  "application/x-www-form-urlencoded");
  ASSERT_EQ(req.status, 200u) << req.body;
  const auto answer = boost::json::parse(req.body).as_array().at(0).as_object();
  // service_request_id is the report's public reference (the id residents are told); the
  // idempotency key stays "open311:<digest>". (It used to be the digest itself.)
  const std::string request_id(answer.at("service_request_id").as_string());
  EXPECT_TRUE(parse_public_reference(request_id)) << request_id;
  EXPECT_TRUE(answer.at("account_id").is_null());
  auto bad = post("/open311/v2/requests.json", "service_code=9999&address_string=x", "application/x-www-form-urlencoded");
  EXPECT_EQ(bad.status, 400u);
  EXPECT_EQ(boost::json::parse(bad.body).as_array().at(0).as_object().at("code").as_int64(), 400);

  const std::string open311_key =
      wait_text(hub_.db(), "SELECT source_key FROM log WHERE source_key LIKE 'open311:%'");
  EXPECT_EQ(public_reference(3, open311_key), request_id);
  const std::string keys = "'form:" + gbk1 + "','form:" + gbk2 + "','form:" + mp1 + "','Xk3pQv:1146','" + open311_key + "'";
  EXPECT_EQ(wait_for(hub_.db(), "SELECT count(*) FROM log WHERE source_key IN (" + keys + ")", 5), 5);
  EXPECT_EQ(query_int(hub_.db(), "SELECT count(DISTINCT ticket_id) FROM log WHERE ticket_id IS NOT NULL AND source_key IN (" +
                                     keys + ")"),
            5);
  EXPECT_EQ(query_int(hub_.db(), "SELECT count(*) FROM log WHERE source_key LIKE 'form:%'"), 3);   // no double submit

  auto g = logged_event(hub_.db(), "form:" + gbk1);
  ASSERT_TRUE(g);
  EXPECT_EQ(g->fields().text(), "路灯坏了");
  EXPECT_EQ(g->fields().reporter_name(), "张");
  EXPECT_EQ(g->fields().reporter_phone(), "13800000001");
  EXPECT_EQ(logged_event(hub_.db(), "form:" + gbk2)->fields().text(), "路灯坏了");
  auto m = logged_event(hub_.db(), "form:" + mp1);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->fields().extra().at("photos"), photo);
  EXPECT_EQ(m->fields().community_hint(), "麦香社区");
  EXPECT_EQ(m->fields().address_text(), "迎宾路35号");
  auto o = logged_event(hub_.db(), open311_key);
  ASSERT_TRUE(o);
  EXPECT_EQ(o->fields().category_hint(), "0102");
  EXPECT_EQ(o->fields().location().datum(), v1::DATUM_WGS84);
  EXPECT_EQ(o->fields().reporter_name(), "朱宁");
  auto j = logged_event(hub_.db(), "Xk3pQv:1146");
  ASSERT_TRUE(j);
  EXPECT_EQ(j->fields().category_hint(), "社会救助与养老");

  const std::string mt = metrics();
  EXPECT_EQ(metric(mt, "gridhub_adapter_rejected_total{reason=\"bad_signature\"}"), 1) << mt;
  EXPECT_EQ(metric(mt, "gridhub_adapter_rejected_total{reason=\"missing_signature\"}"), 1) << mt;
  EXPECT_EQ(metric(mt, "gridhub_adapter_rejected_total{reason=\"photo_too_large\"}"), 1) << mt;
  EXPECT_EQ(metric(mt, "gridhub_adapter_rejected_total{reason=\"unsupported_photo\"}"), 1) << mt;
  EXPECT_EQ(metric(mt, "gridhub_adapter_duplicates_total{where=\"outbox\"}"), 1) << mt;
  EXPECT_EQ(metric(mt, "gridhub_webform_photos_stored_total"), 1) << mt;
  EXPECT_EQ(metric(mt, "gridhub_http_requests_total{status=\"401\"}"), 2) << mt;
}

TEST_F(WebformServe, WithTheHubDownPostsAreAcceptedAndDeliveredOnceItStarts) {
  start_adapter();   // no hub yet
  std::string keys;
  for (int i = 0; i < 3; ++i) {
    auto r = post("/form", "submission_id=down-" + std::to_string(i) + "&content=%E5%81%9C%E6%B0%B4%E4%BA%86",
                  "application/x-www-form-urlencoded");
    ASSERT_EQ(r.status, 200u) << r.body;
    keys += (keys.empty() ? "'form:" : ",'form:") + reference_of(r) + "'";
  }
  EXPECT_EQ(metric(metrics(), "gridhub_adapter_outbox_pending"), 3);
  hub_.start();
  EXPECT_EQ(wait_for(hub_.db(), "SELECT count(*) FROM log WHERE source_key IN (" + keys + ")", 3), 3);
  adapter_->signal(SIGTERM);
  EXPECT_EQ(adapter_->wait(), 0) << slurp(dir_ / "webform.stderr");
}

TEST_F(WebformServe, AFullOutboxRefusesWith503AndRetryAfterInEachEndpointsFormat) {
  start_adapter("open311_api_key = \"key-1\"", "max_pending = 1\nretry_after_s = 7\n");   // no hub: nothing drains
  // With an api_key configured, Open311 clients without it are refused in Open311's format.
  for (const char* body : {"service_code=0102&address_string=x", "service_code=0102&address_string=x&api_key=key-2"}) {
    auto refused = post("/open311/v2/requests.json", body, "application/x-www-form-urlencoded");
    EXPECT_EQ(refused.status, 403u) << body;
    EXPECT_EQ(boost::json::parse(refused.body).as_array().at(0).as_object().at("code").as_int64(), 403) << refused.body;
  }
  EXPECT_EQ(post("/form", "submission_id=full-1&content=a", "application/x-www-form-urlencoded").status, 200u);
  auto form = post("/form", "submission_id=full-2&content=b", "application/x-www-form-urlencoded");
  EXPECT_EQ(form.status, 503u);
  EXPECT_EQ(form.header("Retry-After"), "7");
  auto o311 = post("/open311/v2/requests.json", "service_code=0102&address_string=x&api_key=key-1",
                   "application/x-www-form-urlencoded");
  EXPECT_EQ(o311.status, 503u);
  EXPECT_EQ(o311.header("Retry-After"), "7");
  EXPECT_EQ(boost::json::parse(o311.body).as_array().at(0).as_object().at("code").as_int64(), 503) << o311.body;
  // A resubmission of what the outbox holds is not new work: still accepted.
  EXPECT_EQ(post("/form", "submission_id=full-1&content=a", "application/x-www-form-urlencoded").status, 200u);
  const std::string m = metrics();
  EXPECT_EQ(metric(m, "gridhub_adapter_refused_total{reason=\"outbox_full\"}"), 2) << m;
  EXPECT_EQ(metric(m, "gridhub_adapter_rejected_total{reason=\"bad_api_key\"}"), 2) << m;
}

// Back, edit, submit: the page's submission_id comes again with another problem. It used to be
// answered "ok" with the first reference while the second problem was never stored.
TEST_F(WebformServe, TheSameSubmissionIdWithOtherContentIsAnotherReportWithItsOwnReference) {
  hub_.start();
  start_adapter();
  const std::string form = "application/x-www-form-urlencoded";
  auto first = post("/form", "submission_id=edit-1&content=%E8%B7%AF%E7%81%AF%E5%9D%8F%E4%BA%86", form);   // 路灯坏了
  auto edited = post("/form", "submission_id=edit-1&content=%E4%BA%95%E7%9B%96%E4%B8%A2%E4%BA%86", form);  // 井盖丢了
  auto again = post("/form", "submission_id=edit-1&content=%E4%BA%95%E7%9B%96%E4%B8%A2%E4%BA%86", form);   // double submit
  const std::string r1 = reference_of(first);
  const std::string r2 = reference_of(edited);
  ASSERT_FALSE(r1.empty()) << first.body;
  ASSERT_FALSE(r2.empty()) << edited.body;
  EXPECT_NE(r1, r2);
  EXPECT_EQ(reference_of(again), r2);
  EXPECT_EQ(wait_for(hub_.db(), "SELECT count(*) FROM log WHERE source_key IN ('form:" + r1 + "','form:" + r2 + "')", 2), 2);
  EXPECT_EQ(logged_event(hub_.db(), "form:" + r1)->fields().text(), "路灯坏了");
  EXPECT_EQ(logged_event(hub_.db(), "form:" + r2)->fields().text(), "井盖丢了");
  EXPECT_EQ(query_int(hub_.db(), "SELECT count(*) FROM log WHERE source_key LIKE 'form:edit-1%'"), 2);
}

// Without a submission_id the identity is a digest of the content: a retry is the same report, but
// the same words a month later are a new one (they used to get the old reference and vanish).
TEST_F(WebformServe, TheSameReportAMonthLaterIsANewReportWhileARetryIsNot) {
  hub_.start();
  start_adapter();
  const std::string form = "application/x-www-form-urlencoded";
  const std::string body = "content=%E8%B7%AF%E7%81%AF%E5%8F%88%E5%9D%8F%E4%BA%86&addr=%E8%BF%8E%E5%AE%BE%E8%B7%AF1%E5%8F%B7";
  auto november = post("/form", body + "&ts=2026-11-01+09%3A15%3A00", form);
  auto retry = post("/form", body + "&ts=2026-11-01+09%3A15%3A00", form);
  auto december = post("/form", body + "&ts=2026-12-01+20%3A40%3A00", form);
  const std::string r1 = reference_of(november);
  ASSERT_FALSE(r1.empty()) << november.body;
  EXPECT_EQ(reference_of(retry), r1);
  const std::string r2 = reference_of(december);
  ASSERT_FALSE(r2.empty()) << december.body;
  EXPECT_NE(r2, r1);
  // Without ts the day of arrival buckets it: a retry now is still the same report.
  auto now1 = post("/form", body, form);
  auto now2 = post("/form", body, form);
  EXPECT_EQ(reference_of(now1), reference_of(now2));
  EXPECT_NE(reference_of(now1), r1);
  EXPECT_EQ(wait_for(hub_.db(), "SELECT count(*) FROM log WHERE source_key LIKE 'form:sha256:%'", 3), 3);
  const std::string m = metrics();
  EXPECT_EQ(metric(m, "gridhub_adapter_duplicates_total{where=\"outbox\"}"), 2) << m;
}

// What a resident sees when something goes wrong: Chinese, no log line (peer address, request
// line), and the form with what they typed, so nothing has to be typed again.
TEST_F(WebformServe, ErrorPagesForBrowsersAreChineseShowNoLogLinesAndKeepWhatWasTyped) {
  start_adapter("body_limit_bytes = 65536", "max_pending = 1\nretry_after_s = 7\n");   // no hub: the outbox fills
  const std::map<std::string, std::string> browser = {{"Accept", "text/html,application/xhtml+xml"}};
  const std::string form = "application/x-www-form-urlencoded";
  const auto check_page = [](const HttpReply& r) {
    EXPECT_EQ(r.header("Content-Type"), "text/html; charset=utf-8") << r.body;
    EXPECT_NE(r.body.find("提交未成功"), std::string::npos) << r.body;
    for (const char* leak : {"127.0.0.1", "POST /form", " from "}) EXPECT_EQ(r.body.find(leak), std::string::npos) << leak << "\n" << r.body;
  };

  // Refused before storing: the problem is missing; the address typed comes back filled in.
  auto missing = post("/form", "submission_id=typed-1&addr=%E8%BF%8E%E5%AE%BE%E8%B7%AF35%E5%8F%B7&name=%E7%8E%8B", form, browser);
  EXPECT_EQ(missing.status, 400u);
  check_page(missing);
  EXPECT_NE(missing.body.find("请填写：问题描述"), std::string::npos) << missing.body;
  EXPECT_NE(missing.body.find("name=\"addr\" maxlength=\"200\" placeholder=\"如：迎宾路35号春晖名居3号楼\" value=\"迎宾路35号\""),
            std::string::npos)
      << missing.body;
  EXPECT_NE(missing.body.find("value=\"王\""), std::string::npos) << missing.body;
  EXPECT_NE(missing.body.find("name=\"submission_id\" value=\"typed-1\""), std::string::npos) << missing.body;

  // Stored for the dead letters and answered 400 (a broken percent escape): the page names the
  // field, not the request.
  auto broken = post("/form", "submission_id=typed-2&content=%E8%B7%AF%E7%81%AF&addr=%ZZ", form, browser);
  EXPECT_EQ(broken.status, 400u);
  check_page(broken);

  // The outbox is full (one pending, no hub): a browser gets 503 in Chinese with Retry-After, and
  // the problem it typed is still in the form.
  auto busy = post("/form", "submission_id=typed-3&content=%E5%81%9C%E6%B0%B4%E4%BA%86", form, browser);
  EXPECT_EQ(busy.status, 503u) << busy.body;
  check_page(busy);
  EXPECT_EQ(busy.header("Retry-After"), "7");
  EXPECT_NE(busy.body.find("系统繁忙"), std::string::npos) << busy.body;
  EXPECT_NE(busy.body.find(">停水了</textarea>"), std::string::npos) << busy.body;

  // What the server answers itself — a body over the limit (too many photos) — is a page too.
  auto large = post("/form", "content=" + std::string(70000, 'x'), form, browser);
  EXPECT_EQ(large.status, 413u);
  check_page(large);
  EXPECT_NE(large.body.find("照片"), std::string::npos) << large.body;
  // Other clients keep the one line that names the request.
  auto api = post("/form", "content=" + std::string(70000, 'x'), form);
  EXPECT_EQ(api.status, 413u);
  EXPECT_NE(api.body.find("POST /form from 127.0.0.1"), std::string::npos) << api.body;
}

TEST_F(WebformServe, TheIntakePageIsSubmittedByHeadlessChromiumWithoutJavaScript) {
  if (!std::filesystem::exists(kChromium)) GTEST_SKIP() << kChromium << " is not installed (scripts/setup.sh installs chromium)";
  hub_.start();
  start_adapter();

  // The page as served: no script, no external resource, a viewport, Chinese labels.
  const auto served = http_request(address_, "GET", "/report");
  ASSERT_EQ(served.status, 200u);
  EXPECT_EQ(served.header("Content-Type"), "text/html; charset=utf-8");
  for (const char* external : {"http://", "https://", "<script", "<link", "<img", "url(", "@import", " on"}) {
    EXPECT_EQ(served.body.find(external), std::string::npos) << external;
  }

  const auto profile = dir_ / "chromium-profile";
  Process chromium = Process::spawn({kChromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                                     "--no-first-run", "--disable-background-networking", "--disable-component-update",
                                     "--disable-sync", "--remote-debugging-port=0", "--user-data-dir=" + profile.string(),
                                     "--window-size=420,900", "about:blank"},
                                    dir_ / "chromium.stderr");
  // Chromium writes its DevTools port to the profile once it listens.
  std::string port;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (port.empty() && std::chrono::steady_clock::now() < deadline) {
    const std::string f = slurp(profile / "DevToolsActivePort");
    if (f.find('\n') != std::string::npos) port = f.substr(0, f.find('\n'));
    if (port.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(50));   // polling with a deadline
  }
  ASSERT_FALSE(port.empty()) << slurp(dir_ / "chromium.stderr");
  const auto targets = boost::json::parse(http_request("127.0.0.1:" + port, "GET", "/json/list").body).as_array();
  std::string ws_url;
  for (const auto& t : targets) {
    if (t.as_object().at("type").as_string() == "page") ws_url = std::string(t.as_object().at("webSocketDebuggerUrl").as_string());
  }
  ASSERT_FALSE(ws_url.empty());
  // The URL's host echoes our Host header; the path is what matters.
  const std::size_t path_at = ws_url.find("/devtools/");
  ASSERT_NE(path_at, std::string::npos) << ws_url;
  DevTools dt("127.0.0.1", port, ws_url.substr(path_at));

  boost::json::object nav;
  nav["url"] = "http://" + address_ + "/report";
  dt.call("Page.navigate", nav);
  EXPECT_EQ(dt.wait_eval("document.readyState + '|' + location.pathname", [](const std::string& v) { return v == "complete|/report"; }),
            "complete|/report");
  EXPECT_EQ(dt.eval("String(document.scripts.length)"), "0");
  // Nothing fetched from anywhere but the adapter (the browser's own favicon probe goes there too).
  EXPECT_EQ(dt.eval("performance.getEntriesByType('resource').map(e => e.name)"
                    ".filter(n => !n.startsWith(location.origin + '/')).join(' ')"),
            "");
  EXPECT_EQ(dt.eval("String(document.querySelector('meta[name=viewport]') !== null)"), "true");
  const std::string text = dt.eval("document.body.innerText");
  for (const char* label : {"问题描述", "地址/小区", "所在社区", "联系人", "联系电话", "照片", "提交"}) {
    EXPECT_NE(text.find(label), std::string::npos) << label << " in " << text;
  }
  EXPECT_EQ(dt.eval("document.getElementById('community').options[1].text"), "麦香社区");
  const std::string png = dt.call("Page.captureScreenshot").as_object().at("result").as_object().at("data").as_string().c_str();
  EXPECT_TRUE(png.starts_with("iVBORw0KGgo")) << "a PNG";
  EXPECT_GT(png.size(), 10000u) << "a rendered page, not a blank one";
  std::ofstream(dir_ / "intake-page.png.b64") << png;

  // A person fills the form and attaches a photo; the browser posts multipart/form-data itself.
  const std::string submission_id = dt.eval("document.querySelector('input[name=submission_id]').value");
  ASSERT_EQ(submission_id.size(), 32u);
  EXPECT_EQ(dt.eval(R"JS(
    document.getElementById('content').value = '小区门口的路灯不亮了，晚上很黑';
    document.getElementById('addr').value = '迎宾路35号春晖名居';
    document.getElementById('community').selectedIndex = 1;
    document.getElementById('name').value = '王女士';
    document.getElementById('tel').value = '138 0000 0009';
    const files = new DataTransfer();
    files.items.add(new File([new Uint8Array([0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, 0x4A, 0x46, 0x49, 0x46])], 'IMG_0001.jpg',
                             {type: 'image/jpeg'}));
    document.getElementById('photo').files = files.files;
    document.querySelector('form').requestSubmit();
    'submitted';
  )JS"), "submitted");
  // The page shows the public reference; the element keeps the key reference in data-key.
  const std::string thanks = dt.wait_eval("location.pathname + '|' + ((document.getElementById('reference') || {dataset: {}}).dataset.key || '')",
                                          [](const std::string& v) { return v.starts_with("/form|") && v.size() > 6; });
  ASSERT_TRUE(thanks.starts_with("/form|" + submission_id + "-")) << thanks;
  const std::string reference = thanks.substr(std::string("/form|").size());
  EXPECT_NE(dt.eval("document.body.innerText").find("提交成功"), std::string::npos);

  EXPECT_EQ(wait_for(hub_.db(), "SELECT count(*) FROM log WHERE ticket_id IS NOT NULL AND source_key = 'form:" + reference + "'", 1), 1);
  auto ev = logged_event(hub_.db(), "form:" + reference);
  ASSERT_TRUE(ev);
  EXPECT_EQ(ev->fields().text(), "小区门口的路灯不亮了，晚上很黑");
  EXPECT_EQ(ev->fields().community_hint(), "麦香社区");
  EXPECT_EQ(ev->fields().reporter_phone(), "13800000009");
  EXPECT_EQ(ev->fields().intake_channel_detail(), "intake_page");
  const std::string photo = webform::sha256_hex(std::string("\xFF\xD8\xFF\xE0\x00\x10JFIF", 10)) + ".jpg";
  EXPECT_EQ(ev->fields().extra().at("photos"), photo);
  EXPECT_TRUE(std::filesystem::exists(dir_ / "photos" / photo));

  // An old browser that ignores `required` gets the Chinese error page naming the field.
  dt.call("Page.navigate", nav);
  dt.wait_eval("document.readyState + '|' + location.pathname", [](const std::string& v) { return v == "complete|/report"; });
  dt.eval("document.getElementById('content').removeAttribute('required'); document.querySelector('form').requestSubmit(); 'x'");
  const std::string problem = dt.wait_eval("location.pathname + '|' + ((document.getElementById('problem') || {}).textContent || '')",
                                           [](const std::string& v) { return v.starts_with("/form|") && v.size() > 6; });
  EXPECT_EQ(problem, "/form|请填写：问题描述");
  chromium.signal(SIGTERM);
  chromium.wait();
}

}  // namespace
}  // namespace gridhub::testing
