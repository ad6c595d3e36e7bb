#include "gridhub/wechat/callback_endpoint.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "gridhub/wechat/oa_message.hpp"

namespace gridhub::wechat {

CallbackQuery callback_query(const adapter::HttpRequest& r) {
  return CallbackQuery{r.param("signature"), r.param("msg_signature"), r.param("timestamp"),
                       r.param("nonce"),     r.param("echostr"),       r.param("encrypt_type")};
}

CallbackEndpoint::CallbackEndpoint(CallbackCrypto crypto, adapter::HttpIntake& intake, adapter::AdapterCounters& counters,
                                   const Clock& clock, CallbackOptions options)
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
                                              "URL verification requests answered with the echo string")) {
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
  std::string rejection;
  if (event.has_rejection()) {
    const auto& rj = event.rejection();
    rejection = fmt::format("{}: {} in <{}>: {}", request.describe(), rj.reason_code(), rj.field(), rj.detail());
  } else {
    pairer_.feed(event);
  }
  std::string who = request.describe();
  std::string key = event.source_key();
  intake_.submit(std::move(event), [this, respond = std::move(respond), who = std::move(who), key = std::move(key),
                                    rejection = std::move(rejection), timestamp = std::move(timestamp),
                                    nonce = std::move(nonce)](adapter::IntakeResult r) {
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
    respond(intake_.answer(r, who, "success"));
  });
}

}  // namespace gridhub::wechat
