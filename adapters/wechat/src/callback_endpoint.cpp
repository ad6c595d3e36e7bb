#include "gridhub/wechat/callback_endpoint.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <array>
#include <random>

#include "gridhub/common/public_reference.hpp"
#include "gridhub/wechat/oa_message.hpp"

namespace gridhub::wechat {

namespace {

/// CDATA cannot hold "]]>": split it across two sections.
std::string cdata(std::string_view s) {
  std::string out = "<![CDATA[";
  std::size_t from = 0;
  for (std::size_t at; (at = s.find("]]>", from)) != std::string_view::npos; from = at + 2) {
    out.append(s.substr(from, at + 2 - from));
    out += "]]><![CDATA[";
  }
  out.append(s.substr(from));
  return out + "]]>";
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\n' || s.front() == '\r')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\n' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

/// "1203 14:05" for a note's time, in the account's local time.
std::string short_time(std::int64_t unix_micros, int utc_offset_minutes) {
  const std::int64_t local = unix_micros / 1000000 + std::int64_t{utc_offset_minutes} * 60;
  const std::int64_t in_day = ((local % 86400) + 86400) % 86400;
  const std::int64_t days = (local - in_day) / 86400;
  // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
  const std::int64_t z = days + 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const std::int64_t doe = z - era * 146097;
  const std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const std::int64_t mp = (5 * doy + 2) / 153;
  const std::int64_t d = doy - (153 * mp + 2) / 5 + 1;
  const std::int64_t m = mp < 10 ? mp + 3 : mp - 9;
  return fmt::format("{}月{}日 {:02d}:{:02d}", m, d, in_day / 3600, in_day % 3600 / 60);
}

std::string progress_text(const v1::PublicProgress& p, int utc_offset_minutes) {
  std::string out = fmt::format("受理编号 {}\n当前状态：{}\n承办单位：{}", display_reference(p.reference()), p.status_text(),
                                p.handled_by().empty() ? "待分派" : p.handled_by());
  for (const auto& n : p.notes()) {
    out += fmt::format("\n{} {}：{}", short_time(n.at().unix_micros(), utc_offset_minutes), n.action(), n.text());
  }
  if (p.has_updated_at()) out += "\n更新时间：" + short_time(p.updated_at().unix_micros(), utc_offset_minutes);
  return out;
}

}  // namespace

std::string text_reply_xml(std::string_view to, std::string_view from, std::int64_t create_time, std::string_view content) {
  return "<xml><ToUserName>" + cdata(to) + "</ToUserName><FromUserName>" + cdata(from) + "</FromUserName><CreateTime>" +
         std::to_string(create_time) + "</CreateTime><MsgType><![CDATA[text]]></MsgType><Content>" + cdata(content) +
         "</Content></xml>";
}

std::optional<std::string> lookup_request_text(std::string_view text) {
  text = trim(text);
  constexpr std::string_view kAsk = "查询";
  if (!text.starts_with(kAsk)) return std::nullopt;
  text.remove_prefix(kAsk.size());
  if (text.starts_with(":")) text.remove_prefix(1);
  if (text.starts_with("：")) text.remove_prefix(std::string_view("：").size());
  text = trim(text);
  if (text.empty()) return std::nullopt;
  return std::string(text.substr(0, 60));
}

CallbackQuery callback_query(const adapter::HttpRequest& r) {
  return CallbackQuery{r.param("signature"), r.param("msg_signature"), r.param("timestamp"),
                       r.param("nonce"),     r.param("echostr"),       r.param("encrypt_type")};
}

CallbackEndpoint::CallbackEndpoint(CallbackCrypto crypto, adapter::HttpIntake& intake, adapter::AdapterCounters& counters,
                                   const Clock& clock, CallbackOptions options, adapter::HubLookup* lookup)
    : crypto_(std::move(crypto)),
      intake_(intake),
      counters_(counters),
      clock_(clock),
      options_(std::move(options)),
      pairer_(options_.location_window_us),
      replays_(options_.timestamp_window_s, options_.nonce_memory),
      retries_(counters.metrics.counter("gridhub_wechat_retries_total",
                                        "WeChat resent a message the outbox already holds (same MsgId)")),
      verifications_(counters.metrics.counter("gridhub_wechat_url_verifications_total",
                                              "URL verification requests answered with the echo string")),
      lookup_(lookup) {
  counters.metrics.gauge_fn("gridhub_wechat_nonces_evicted", "remembered nonces evicted before their window ended (raise wechat.nonce_memory)",
                            [this] { return static_cast<double>(replays_.evicted()); });
}

void CallbackEndpoint::install(adapter::HttpServer& server) {
  server.route("GET", options_.path, [this](const adapter::HttpRequest& r) { return verify(r); });
  server.route_async("POST", options_.path,
                     [this](const adapter::HttpRequest& r, adapter::HttpResponder respond) { receive(r, std::move(respond)); });
}

adapter::HttpResponse CallbackEndpoint::refuse(const adapter::HttpRequest& request, const CallbackError& error) {
  counters_.rejected(reason_code(error.failure)).inc();
  return adapter::HttpResponse::error(http_status(error.failure),
                                      fmt::format("{}: {}: {}", request.describe(), reason_code(error.failure), error.detail));
}

adapter::HttpResponse CallbackEndpoint::verify(const adapter::HttpRequest& request) {
  auto opened = open_verification(crypto_, callback_query(request));
  if (auto* e = std::get_if<CallbackError>(&opened)) return refuse(request, *e);
  verifications_.inc();
  spdlog::info("{}: URL verification answered ({} mode)", request.describe(),
               std::get<OpenedCallback>(opened).encrypted ? "encrypted" : "plain");
  return adapter::HttpResponse::text(200, std::move(std::get<OpenedCallback>(opened).xml));
}

void CallbackEndpoint::receive(const adapter::HttpRequest& request, adapter::HttpResponder respond) {
  const CallbackQuery query = callback_query(request);
  const bool plaintext = query.encrypt_type != "aes" && query.msg_signature.empty();
  if (plaintext && crypto_.has_key() && !options_.allow_plaintext) {
    // Safe mode: only the encrypted body is signed. A plaintext request here is either a replayed
    // query string with a body of the sender's choosing or a misconfigured account.
    return respond(refuse(request, {CallbackFailure::kPlaintextRefused,
                                    "a plaintext message, but wechat.encoding_aes_key is configured (safe mode); "
                                    "set wechat.allow_plaintext = true while the account still sends plaintext"}));
  }
  auto opened = open_callback(crypto_, query, request.body);
  if (auto* e = std::get_if<CallbackError>(&opened)) return respond(refuse(request, *e));
  const std::string& xml = std::get<OpenedCallback>(opened).xml;
  const bool encrypted = std::get<OpenedCallback>(opened).encrypted;

  const std::int64_t now_s = clock_.now_micros() / 1000000;
  switch (replays_.admit(query.timestamp, query.nonce, sorted_sha1_hex({request.body}), now_s)) {
    case ReplayGuard::Verdict::kFresh:
    case ReplayGuard::Verdict::kRetry:
      break;
    case ReplayGuard::Verdict::kStale:
      return respond(refuse(request, {CallbackFailure::kStaleTimestamp,
                                      fmt::format("timestamp '{}' is not unix seconds within {} s of now ({})",
                                                  query.timestamp.substr(0, 20), options_.timestamp_window_s, now_s)}));
    case ReplayGuard::Verdict::kReplayed:
      return respond(refuse(request, {CallbackFailure::kReplayedNonce,
                                      "this timestamp and nonce came before with another body (a replayed signature)"}));
  }
  std::string timestamp(query.timestamp);
  std::string nonce(query.nonce);

  OaOptions oo;
  oo.utc_offset_minutes = options_.utc_offset_minutes;
  const std::string source_name = "POST " + options_.path;
  KeyedEvent ke = parse_oa_message(xml, source_name, oo);
  auto& event = ke.event;
  if (event.source_key() == source_name) {
    // No MsgId anywhere in a broken body: key it by its content, so two different broken bodies
    // are two dead letters and WeChat's retries of one are one.
    event.set_source_key("sha1:" + sorted_sha1_hex({xml}));
  }
  const bool text_message = !event.has_rejection() && event.fields().message_kind() == "text";
  if (text_message && lookup_ != nullptr) {
    if (auto reference = lookup_request_text(event.fields().text())) {
      return answer_lookup(*reference, event, encrypted, std::move(nonce), std::move(respond));
    }
  }
  std::string rejection;
  if (event.has_rejection()) {
    const auto& rj = event.rejection();
    rejection = fmt::format("{}: {} in <{}>: {}", request.describe(), rj.reason_code(), rj.field(), rj.detail());
  } else {
    pairer_.feed(event);
  }
  // The report's reference, as a passive reply (reply_reference): the same digits the hub indexes.
  std::string reference_reply;
  if (text_message && options_.reply_reference) {
    reference_reply = fmt::format("已收到您反映的问题，受理编号 {}。发送“查询 {}”可查询办理进度。",
                                  display_reference(public_reference(event.channel(), event.source_key())),
                                  public_reference(event.channel(), event.source_key()));
  }
  const std::string sender = event.fields().sender_id();
  const std::string account = event.fields().conversation();
  std::string who = request.describe();
  std::string key = event.source_key();
  intake_.submit(std::move(event), [this, respond = std::move(respond), who = std::move(who), key = std::move(key),
                                    rejection = std::move(rejection), timestamp = std::move(timestamp),
                                    nonce = std::move(nonce), reference_reply = std::move(reference_reply), sender, account,
                                    encrypted](adapter::IntakeResult r) {
    if (r == adapter::IntakeResult::kFull || r == adapter::IntakeResult::kFailed) {
      replays_.forget(timestamp, nonce);   // not stored: a resend of the same request must be taken
    }
    if (r == adapter::IntakeResult::kAlreadyKnown) {
      retries_.inc();
      spdlog::info("{}: message {} is already in the outbox (a WeChat retry); answered again", who, key);
    }
    if (!rejection.empty() && (r == adapter::IntakeResult::kQueued || r == adapter::IntakeResult::kAlreadyKnown)) {
      // Stored for the hub's dead letters; the sender is told what was wrong.
      return respond(adapter::HttpResponse::error(400, rejection));
    }
    const bool stored = r == adapter::IntakeResult::kQueued || r == adapter::IntakeResult::kAlreadyKnown;
    if (stored && !reference_reply.empty()) return respond(reply(encrypted, nonce, sender, account, reference_reply));
    respond(intake_.answer(r, who, "success"));
  });
}

adapter::HttpResponse CallbackEndpoint::reply(bool encrypted, std::string_view nonce, std::string_view to,
                                              std::string_view from, std::string_view content) {
  const std::int64_t now_s = clock_.now_micros() / 1000000;
  std::string xml = text_reply_xml(to, from, now_s, content);
  adapter::HttpResponse r;
  r.content_type = "application/xml; charset=utf-8";
  if (!encrypted) {
    r.body = std::move(xml);
    return r;
  }
  // Safe mode: the reply is encrypted and signed as the messages are (Tencent's EncryptMsg).
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::array<std::uint8_t, 16> random{};
  for (auto& b : random) b = static_cast<std::uint8_t>(rng());
  const std::string encrypted_xml = crypto_.encrypt(xml, random);
  const std::string timestamp = std::to_string(now_s);
  r.body = "<xml><Encrypt>" + cdata(encrypted_xml) + "</Encrypt><MsgSignature>" +
           cdata(crypto_.msg_signature(timestamp, nonce, encrypted_xml)) + "</MsgSignature><TimeStamp>" + timestamp +
           "</TimeStamp><Nonce>" + cdata(nonce) + "</Nonce></xml>";
  return r;
}

void CallbackEndpoint::answer_lookup(const std::string& reference, const v1::Event& event, bool encrypted, std::string nonce,
                                     adapter::HttpResponder respond) {
  v1::LookupRequest q;
  q.set_reference(reference);
  q.set_wechat_openid(event.fields().sender_id());
  q.set_requester("openid:" + event.fields().sender_id());
  std::string to = event.fields().sender_id();
  std::string from = event.fields().conversation();
  lookup_->lookup(std::move(q), [this, respond = std::move(respond), reference, encrypted, nonce = std::move(nonce),
                                 to = std::move(to), from = std::move(from)](std::optional<v1::LookupReply> answer) {
    std::string content;
    if (!answer) {
      content = "系统繁忙，暂时无法查询，请稍后再试。";
    } else if (!answer->found()) {
      // The same words whatever the reason (unknown, a typo, another account's report, too many tries).
      content = fmt::format("没有查到受理编号“{}”：请核对编号。只能查询本微信号反映的问题。", reference);
    } else {
      content = progress_text(answer->progress(), options_.utc_offset_minutes);
    }
    respond(reply(encrypted, nonce, to, from, content));
  });
}

}  // namespace gridhub::wechat
