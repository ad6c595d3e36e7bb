#pragma once
/// The web-form channel over HTTP (`gridhub-webform serve`) on the shared adapter HttpServer.
///
///   POST <form_path> (/form)        urlencoded or multipart/form-data posts (H5 pages, the intake page)
///   GET  / and <page_path> (/report) the built-in intake page (Chinese, no JavaScript, no external resources)
///   POST /webhook/<form id>          form-builder JSON webhooks (jinshuju-style, FieldMap), optional HMAC
///   GET  <open311>/services.json     Open311 GeoReport v2 service list (the county's categories)
///   POST <open311>/requests.json     Open311 service request
///   GET  <progress_path> (/progress) 查询进度: the lookup form (?reference= fills it in)
///   POST <progress_path>             urlencoded reference + tel4: the hub's answer as a page
///                                    (docs/residents.md); only when the adapter has a HubLookup
///
/// Every accepted request is answered only once its event is durably in the outbox (HttpIntake);
/// a full outbox answers 503 with Retry-After. Identity (the outbox's and the hub's dedup key):
///   form posts   "form:<submission_id>-<8 hex of the content digest>" when the post carries a
///                hidden submission_id (the intake page generates one per page load): a double
///                submit creates nothing new, while back-edit-submit on the same page is a second
///                report with its own reference; else "form:sha256:<digest of the decoded fields
///                sorted by name, plus photo digests, plus the local day of the report>" (the day
///                of `ts`, else of arrival), so a retry the same day is one report and the same
///                words a month later are another;
///   webhooks     "<form id>:<serial_number>" (parse_jinshuju_push);
///   Open311      "open311:<service_request_id>", the id a digest of the sorted request fields
///                and the local day of arrival.
/// The digest never includes _charset_, ts or submission_id. The key reference a text client is
/// answered (ok <reference>) is the key without "form:" (sha256: 16 hex); what the resident is
/// shown is the report's public reference (gridhub/common/public_reference.hpp: 12 digits with a
/// Damm check digit, derived from channel and key), on the thank-you page's 受理编号, in the
/// X-Gridhub-Reference header of every 200 answer, and as Open311's service_request_id.
///
/// Photos (multipart file parts) are sniffed (JPEG, PNG, WebP, HEIC; else 415), limited per file
/// (413; the server's body limit bounds the request), stored content-addressed (PhotoStore) before
/// the event is written, and named in extra["photos"] as comma-separated "<sha256>.<ext>" file names.
///
/// Refusals, each counted in gridhub_adapter_rejected_total{reason} and answered naming the field:
///   400 missing_field (content: 问题描述 is required), bad_multipart, bad_value (submission_id),
///       bad_encoding/bad_percent_escape/unknown_charset/... (stored for the hub's dead letters),
///       bad_json/unknown_form/... (webhooks, stored), open311_* (Open311's error format)
///   401 missing_signature / malformed_signature / bad_signature (webhooks of forms with a secret)
///   403 bad_api_key (Open311 with webform.open311_api_key set)
///   413 photo_too_large; 415 unsupported_photo / unsupported_media_type
/// A browser (Accept: text/html) gets a Chinese thank-you page with the reference number, or a
/// Chinese error page saying what is wrong with the form below it filled in as it was sent (503
/// and 500 too: 系统繁忙, Retry-After kept) — never the log line with the peer's address; other
/// clients get one line of text.

#include <cstddef>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "gridhub/adapter/http_intake.hpp"
#include "gridhub/adapter/http_server.hpp"
#include "gridhub/adapter/hub_lookup.hpp"
#include "gridhub/adapter/metrics.hpp"
#include "gridhub/common/clock.hpp"
#include "gridhub/text/html.hpp"
#include "gridhub/webform/jinshuju.hpp"
#include "gridhub/webform/open311.hpp"
#include "gridhub/webform/photo_store.hpp"
#include "gridhub/webform/urlencoded.hpp"

namespace gridhub::webform {

struct WebhookAuth {
  std::string secret;                        // empty: signatures are not checked for this form
  std::string header = "X-Gridhub-Signature";
};

struct ServeOptions {
  std::string form_path = "/form";
  std::string page_path = "/report";
  std::string charset = "utf-8";             // urlencoded/multipart posts that declare none (legacy GBK pages)
  int utc_offset_minutes = 480;
  std::size_t photo_max_bytes = 8u << 20;    // per file; larger: 413
  std::size_t max_photos = 9;                // file parts per post; more: 413
  std::string page_title = "群众诉求在线反映";
  std::vector<std::string> communities;      // the page's 所在社区 choices (empty: free text)
  std::map<std::string, WebhookAuth> webhooks;   // by form id; a form of the field map without an entry: no HMAC
  std::string open311_prefix = "/open311/v2";    // empty: Open311 is off
  std::string open311_api_key;               // empty: no api_key check
  std::string progress_path = "/progress";   // residents' progress lookup (with a HubLookup)
};

class FormEndpoints {
 public:
  /// `field_map` may be null (no webhooks); `services` empty turns Open311 off. `new_id` makes the
  /// intake page's submission ids (injected so tests can pin them).
  FormEndpoints(adapter::HttpIntake& intake, adapter::AdapterCounters& counters, const Clock& clock,
                const PhotoStore& photos, const FieldMap* field_map, std::vector<Open311Service> services,
                ServeOptions options, std::function<std::string()> new_id, adapter::HubLookup* lookup = nullptr);

  void install(adapter::HttpServer& server);

  adapter::HttpResponse page(const adapter::HttpRequest& request);
  void form(const adapter::HttpRequest& request, adapter::HttpResponder respond);
  void webhook(const std::string& form_id, const adapter::HttpRequest& request, adapter::HttpResponder respond);
  adapter::HttpResponse services(const adapter::HttpRequest& request);
  void open311_request(const adapter::HttpRequest& request, adapter::HttpResponder respond);
  adapter::HttpResponse progress_form(const adapter::HttpRequest& request);
  void progress(const adapter::HttpRequest& request, adapter::HttpResponder respond);

 private:
  adapter::HttpResponse refuse(const adapter::HttpRequest& request, unsigned status, std::string_view reason,
                               std::string_view field, const std::string& detail, bool html,
                               const std::vector<FormPair>& typed = {});
  /// The browser's error page: Chinese, the form refilled with `typed` (empty: a link back).
  adapter::HttpResponse error_page(unsigned status, std::string_view reason, std::string_view field_label,
                                   const std::string& detail, const std::vector<FormPair>& typed);
  adapter::HttpResponse open311_refuse(const adapter::HttpRequest& request, unsigned status, std::string_view reason,
                                       const std::string& detail);

  adapter::HttpIntake& intake_;
  adapter::AdapterCounters& counters_;
  const Clock& clock_;
  const PhotoStore& photos_;
  const FieldMap* field_map_;
  std::vector<Open311Service> services_;
  std::string services_json_;
  ServeOptions options_;
  std::function<std::string()> new_id_;
  adapter::Counter& photos_stored_;
  adapter::Counter& photos_known_;
  adapter::HubLookup* lookup_;
};

/// A random 32-hex-digit id (the intake page's submission_id).
std::string random_submission_id();

/// HTML text escaping (gridhub/text/html.hpp).
using text::html_escape;

}  // namespace gridhub::webform
