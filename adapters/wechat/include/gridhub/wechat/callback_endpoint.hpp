#pragma once
/// The WeChat Official Account / WeCom callback URL on an adapter HttpServer (`gridhub-wechat serve`).
///
///   GET  <path>?signature|msg_signature&timestamp&nonce&echostr    URL verification: answers the
///        echo string (plain) or its decryption (encrypted / WeCom)
///   POST <path>?signature&timestamp&nonce[&encrypt_type=aes&msg_signature]   one message
///
/// A POST is answered `success` (200) as soon as its event is durably in the outbox — delivery to
/// the hub is another thread's job, so the answer comes well inside WeChat's 5 s even while the hub
/// is down. WeChat retries an unanswered message with the same body (source_key: account + MsgId;
/// events: account + sender + CreateTime + a digest of the event's elements, see oa_message.hpp);
/// the retry finds its key in the outbox, is answered `success` again and counted in
/// gridhub_wechat_retries_total — nothing new is stored. WeChat does not retry after an error
/// answer, so a full outbox does not answer 503: the adapter keeps accepting beyond
/// adapter.max_pending and alerts, up to the disk bound (run_http_adapter, senders_retry = false).
///
/// Replays: a plaintext signature does not cover the body, so with an EncodingAESKey configured a
/// plaintext message is refused (403 plaintext_refused) unless options.allow_plaintext says the
/// account is still migrating; every message's `timestamp` must be within
/// options.timestamp_window_s of now (403 stale_timestamp), and a (timestamp, nonce) seen before
/// with another body is refused (403 replayed_nonce; ReplayGuard). URL verification (GET) only
/// echoes and stores nothing, so it is not subject to these.
///
/// Refusals (each counted in gridhub_adapter_rejected_total{reason} and logged with the request):
///   403 bad_signature / wrong_receiver / plaintext_refused / stale_timestamp / replayed_nonce;
///   400 missing_parameter, bad_envelope (no <Encrypt>, bad base64/padding), not_configured
///   (encrypted without a key). A body that passes the signature but
///   is not a usable message (bad_xml, missing_field, ...) is still stored — the hub dead-letters
///   it with the original payload — and answered 400 naming the element.
///
/// Progress lookups (docs/residents.md): a text message "查询 <reference>" (also 查询:, 查询：) is not
/// a report: it is not stored; the hub is asked (HubLookup, the sender's OpenID in place of phone
/// digits — a resident can look up only what they reported from this WeChat account) and the answer
/// is the passive reply in the same response: text XML (ToUserName the sender, FromUserName the
/// account), encrypted as <xml><Encrypt/><MsgSignature/><TimeStamp/><Nonce/></xml> when the message
/// came encrypted. With options.reply_reference a text report is answered the same way with its
/// public reference (受理编号), so WeChat residents have one to look up.
///
/// Location pairing: a location message followed within the window (10 min) by a text from the same
/// OpenID gives that text its coordinates, datum GCJ-02 kept explicit (LocationPairer).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "gridhub/adapter/http_intake.hpp"
#include "gridhub/adapter/http_server.hpp"
#include "gridhub/adapter/hub_lookup.hpp"
#include "gridhub/adapter/metrics.hpp"
#include "gridhub/common/clock.hpp"
#include "gridhub/wechat/callback_crypto.hpp"
#include "gridhub/wechat/location_pairing.hpp"
#include "gridhub/wechat/replay_guard.hpp"

namespace gridhub::wechat {

struct CallbackOptions {
  std::string path = "/wechat";
  int utc_offset_minutes = 480;
  std::int64_t location_window_us = 600LL * 1000000;
  bool allow_plaintext = false;          // with an EncodingAESKey: also take plaintext messages (migration)
  std::int64_t timestamp_window_s = 300; // a message's `timestamp` further from now is refused
  std::size_t nonce_memory = 100000;     // (timestamp, nonce) pairs remembered against replays
  bool reply_reference = false;          // answer a text report with its public reference (passive reply)
};

/// A passive text reply: `<xml><ToUserName>to…<Content>content</Content></xml>`.
std::string text_reply_xml(std::string_view to, std::string_view from, std::int64_t create_time, std::string_view content);

/// The reference asked for by a "查询 <reference>" message (what follows 查询, trimmed), or nothing
/// when the text is not a lookup.
std::optional<std::string> lookup_request_text(std::string_view text);

class CallbackEndpoint {
 public:
  CallbackEndpoint(CallbackCrypto crypto, adapter::HttpIntake& intake, adapter::AdapterCounters& counters,
                   const Clock& clock, CallbackOptions options, adapter::HubLookup* lookup = nullptr);

  /// Registers GET and POST on options.path.
  void install(adapter::HttpServer& server);

  adapter::HttpResponse verify(const adapter::HttpRequest& request);
  void receive(const adapter::HttpRequest& request, adapter::HttpResponder respond);

 private:
  adapter::HttpResponse refuse(const adapter::HttpRequest& request, const CallbackError& error);
  /// The passive reply carrying `content`, encrypted when the request was.
  adapter::HttpResponse reply(bool encrypted, std::string_view nonce, std::string_view to, std::string_view from,
                              std::string_view content);
  void answer_lookup(const std::string& reference, const gridhub::v1::Event& event, bool encrypted, std::string nonce,
                     adapter::HttpResponder respond);

  CallbackCrypto crypto_;
  adapter::HttpIntake& intake_;
  adapter::AdapterCounters& counters_;
  const Clock& clock_;
  CallbackOptions options_;
  LocationPairer pairer_;
  ReplayGuard replays_;
  adapter::Counter& retries_;
  adapter::Counter& verifications_;
  adapter::HubLookup* lookup_;
};

/// The query parameters WeChat sends, viewed from a request (valid while the request lives).
CallbackQuery callback_query(const adapter::HttpRequest& request);

}  // namespace gridhub::wechat
