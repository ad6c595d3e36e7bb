#pragma once
/// The WeChat Official Account / WeCom callback URL on an adapter HttpServer (`gridhub-wechat serve`).
///
///   GET  <path>?signature|msg_signature&timestamp&nonce&echostr    URL verification: answers the
///        echo string (plain) or its decryption (encrypted / WeCom)
///   POST <path>?signature&timestamp&nonce[&encrypt_type=aes&msg_signature]   one message
///
/// A POST is answered `success` (200) as soon as its event is durably in the outbox — delivery to
/// the hub is another thread's job, so the answer comes well inside WeChat's 5 s even while the hub
/// is down. WeChat retries an unanswered message with the same MsgId (events: FromUserName +
/// CreateTime); the retry finds its key in the outbox, is answered `success` again and counted in
/// gridhub_wechat_retries_total — nothing new is stored. When the outbox is at adapter.max_pending
/// the answer is 503 with Retry-After.
///
/// Refusals (each counted in gridhub_adapter_rejected_total{reason} and logged with the request):
///   403 bad_signature / wrong_receiver; 400 missing_parameter, bad_envelope (no <Encrypt>, bad
///   base64/padding), not_configured (encrypted without a key). A body that passes the signature but
///   is not a usable message (bad_xml, missing_field, ...) is still stored — the hub dead-letters
///   it with the original payload — and answered 400 naming the element.
///
/// Location pairing: a location message followed within the window (10 min) by a text from the same
/// OpenID gives that text its coordinates, datum GCJ-02 kept explicit (LocationPairer).

#include <cstdint>
#include <string>

#include "gridhub/adapter/http_intake.hpp"
#include "gridhub/adapter/http_server.hpp"
#include "gridhub/adapter/metrics.hpp"
#include "gridhub/wechat/callback_crypto.hpp"
#include "gridhub/wechat/location_pairing.hpp"

namespace gridhub::wechat {

struct CallbackOptions {
  std::string path = "/wechat";
  int utc_offset_minutes = 480;
  std::int64_t location_window_us = 600LL * 1000000;
};

class CallbackEndpoint {
 public:
  CallbackEndpoint(CallbackCrypto crypto, adapter::HttpIntake& intake, adapter::AdapterCounters& counters,
                   CallbackOptions options);

  /// Registers GET and POST on options.path.
  void install(adapter::HttpServer& server);

  adapter::HttpResponse verify(const adapter::HttpRequest& request);
  void receive(const adapter::HttpRequest& request, adapter::HttpResponder respond);

 private:
  adapter::HttpResponse refuse(const adapter::HttpRequest& request, const CallbackError& error);

  CallbackCrypto crypto_;
  adapter::HttpIntake& intake_;
  adapter::AdapterCounters& counters_;
  CallbackOptions options_;
  LocationPairer pairer_;
  adapter::Counter& retries_;
  adapter::Counter& verifications_;
};

/// The query parameters WeChat sends, viewed from a request (valid while the request lives).
CallbackQuery callback_query(const adapter::HttpRequest& request);

}  // namespace gridhub::wechat
