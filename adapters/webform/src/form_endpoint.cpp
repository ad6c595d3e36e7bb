#include "gridhub/webform/form_endpoint.hpp"

#include <algorithm>
#include <random>

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "gridhub/common/public_reference.hpp"
#include "gridhub/webform/intake_page.hpp"
#include "gridhub/webform/multipart.hpp"
#include "gridhub/webform/open311.hpp"
#include "gridhub/webform/signature.hpp"
#include "gridhub/webform/urlencoded.hpp"

namespace gridhub::webform {
namespace {

namespace json = boost::json;

/// Field labels as the intake page shows them, for error pages.
std::string_view label_of(std::string_view field) {
  if (field == "content") return "问题描述";
  if (field == "addr") return "地址/小区";
  if (field == "community") return "所在社区";
  if (field == "name") return "联系人";
  if (field == "tel") return "联系电话";
  if (field == "photo") return "照片";
  return field;
}

bool wants_html(const adapter::HttpRequest& r) { return r.header("accept").find("text/html") != std::string_view::npos; }

/// submission_id as a key: short and plain, so it cannot smuggle anything into logs or keys.
bool valid_submission_id(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
  });
}

std::string printable(std::string_view s) {
  std::string out;
  for (const char c : s.substr(0, 80)) {
    const auto u = static_cast<unsigned char>(c);
    out += (u >= 0x20 && u < 0x7F) ? c : '?';
  }
  return out;
}

}  // namespace

std::string random_submission_id() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return fmt::format("{:016x}{:016x}", rng(), rng());
}

FormEndpoints::FormEndpoints(adapter::HttpIntake& intake, adapter::AdapterCounters& counters, const Clock& clock,
                             const PhotoStore& photos, const FieldMap* field_map, std::vector<Open311Service> services,
                             ServeOptions options, std::function<std::string()> new_id, adapter::HubLookup* lookup)
    : intake_(intake),
      counters_(counters),
      clock_(clock),
      photos_(photos),
      field_map_(field_map),
      services_(std::move(services)),
      services_json_(open311_services_json(services_)),
      options_(std::move(options)),
      new_id_(std::move(new_id)),
      photos_stored_(counters.metrics.counter("gridhub_webform_photos_stored_total", "photos written to the photo directory")),
      photos_known_(counters.metrics.counter("gridhub_webform_photos_known_total",
                                             "photos posted again (same SHA-256): nothing new written")),
      lookup_(lookup) {}

void FormEndpoints::install(adapter::HttpServer& server) {
  // What the server answers itself (a body over webform.body_limit_bytes, a slow upload, a wrong
  // path) names the request and peer for the log; a resident's browser gets a Chinese page.
  server.set_error_page([this](const adapter::HttpRequest& request, adapter::HttpResponse answer) {
    if (!wants_html(request)) return answer;
    std::string_view reason = "server_error";
    if (answer.status == 413) reason = "body_too_large";
    if (answer.status == 408) reason = "too_slow";
    if (answer.status == 404 || answer.status == 405) reason = "not_found";
    adapter::HttpResponse page = error_page(answer.status, reason, "", "", {});
    page.headers = std::move(answer.headers);
    return page;
  });
  server.route("GET", "/", [this](const adapter::HttpRequest& r) { return page(r); });
  if (options_.page_path != "/") {
    server.route("GET", options_.page_path, [this](const adapter::HttpRequest& r) { return page(r); });
  }
  server.route_async("POST", options_.form_path,
                     [this](const adapter::HttpRequest& r, adapter::HttpResponder respond) { form(r, std::move(respond)); });
  if (field_map_ != nullptr) {
    for (const auto& [id, spec] : field_map_->forms()) {
      server.route_async("POST", "/webhook/" + id, [this, id = id](const adapter::HttpRequest& r, adapter::HttpResponder respond) {
        webhook(id, r, std::move(respond));
      });
    }
  }
  if (lookup_ != nullptr && !options_.progress_path.empty()) {
    server.route("GET", options_.progress_path, [this](const adapter::HttpRequest& r) { return progress_form(r); });
    server.route_async("POST", options_.progress_path,
                       [this](const adapter::HttpRequest& r, adapter::HttpResponder respond) { progress(r, std::move(respond)); });
  }
  if (!options_.open311_prefix.empty() && !services_.empty()) {
    server.route("GET", options_.open311_prefix + "/services.json", [this](const adapter::HttpRequest& r) { return services(r); });
    server.route_async("POST", options_.open311_prefix + "/requests.json",
                       [this](const adapter::HttpRequest& r, adapter::HttpResponder respond) {
                         open311_request(r, std::move(respond));
                       });
  }
}

adapter::HttpResponse FormEndpoints::page(const adapter::HttpRequest&) {
  adapter::HttpResponse r;
  r.status = 200;
  r.content_type = "text/html; charset=utf-8";
  r.body = intake_page_html(options_.page_title, options_.form_path, options_.communities, new_id_(),
                            lookup_ != nullptr ? options_.progress_path : std::string());
  r.headers.emplace_back("Cache-Control", "no-store");   // a fresh submission_id per load
  return r;
}

adapter::HttpResponse FormEndpoints::refuse(const adapter::HttpRequest& request, unsigned status, std::string_view reason,
                                            std::string_view field, const std::string& detail, bool html,
                                            const std::vector<FormPair>& typed) {
  counters_.rejected(reason).inc();
  const std::string message = fmt::format("{}: {} ({}): {}", request.describe(), reason, field, detail);
  if (!html) return adapter::HttpResponse::error(status, message);
  spdlog::warn("{}", message);
  return error_page(status, reason, label_of(field), detail, typed);
}

adapter::HttpResponse FormEndpoints::error_page(unsigned status, std::string_view reason, std::string_view field_label,
                                                const std::string& detail, const std::vector<FormPair>& typed) {
  // The resident's own words come back in the form; the page never shows the log line (peer
  // address, path), only the field at fault.
  std::string submission_id;
  for (const auto& p : typed) {
    if (p.name == "submission_id" && valid_submission_id(p.value)) submission_id = p.value;
  }
  if (submission_id.empty()) submission_id = new_id_();
  adapter::HttpResponse r;
  r.status = status;
  r.content_type = "text/html; charset=utf-8";
  r.body = error_page_html(options_.page_title, options_.page_path, status, reason, field_label, detail,
                           typed.empty() ? std::string() : form_html(options_.form_path, options_.communities, submission_id, typed));
  return r;
}

void FormEndpoints::form(const adapter::HttpRequest& request, adapter::HttpResponder respond) {
  const bool html = wants_html(request);
  const std::string content_type(request.header("content-type"));
  const std::string type = media_type(content_type);
  const std::string source_name = "POST " + options_.form_path;
  const std::int64_t now = clock_.now_micros();

  UrlencodedOptions uo;
  uo.charset = content_type_param(content_type, "charset");
  if (uo.charset.empty()) uo.charset = options_.charset;
  uo.utc_offset_minutes = options_.utc_offset_minutes;
  uo.now_micros = now;

  v1::Event event;
  event.set_channel(v1::CHANNEL_WEBFORM);
  event.set_source_name(source_name);
  event.set_content_type(content_type.empty() ? type : content_type);
  const std::string location = request.describe();
  std::vector<FormPair> pairs;
  std::vector<std::string> photo_names;

  if (type == "application/x-www-form-urlencoded") {
    event.set_original_payload(request.body);
    pairs = decode_urlencoded(request.body, event, location, uo);
  } else if (type == "multipart/form-data") {
    auto boundary = multipart_boundary(content_type);
    if (!boundary) return respond(refuse(request, 400, "bad_multipart", "Content-Type", boundary.error().detail, html));
    auto parts = parse_multipart(request.body, boundary.value());
    if (!parts) return respond(refuse(request, 400, "bad_multipart", "body", parts.error().detail, html));
    // The page's charset: its _charset_ field (browsers fill it), else the request's, else config.
    std::string charset = uo.charset;
    for (const auto& p : parts.value()) {
      if (!p.has_filename && p.name == "_charset_" && !p.data.empty()) charset = std::string(p.data);
    }
    const std::string_view encoding = form_text_encoding(charset);
    if (encoding.empty()) {
      return respond(refuse(request, 400, "unknown_charset", "_charset_",
                            fmt::format("charset '{}' is not supported (utf-8, gbk, gb2312, gb18030)", printable(charset)), html));
    }
    struct Photo {
      std::string_view bytes;
      std::string_view ext;
    };
    std::vector<Photo> photos;
    std::string payload;   // the text fields as the original payload (photos are stored apart)
    // Text first, photos after: a refused photo then answers with everything typed put back.
    for (const auto& p : parts.value()) {
      if (p.has_filename) continue;
      auto name = decode_form_text(p.name, encoding);
      if (!name) return respond(refuse(request, 400, "bad_encoding", printable(p.name), name.error().detail, html, pairs));
      auto value = decode_form_text(p.data, encoding);
      if (!value) {
        return respond(refuse(request, 400, "bad_encoding", name.value(),
                              fmt::format("{}: not valid {} ({})", name.value(), charset, value.error().detail), html, pairs));
      }
      if (!payload.empty()) payload += '&';
      payload += name.value() + "=" + value.value();
      pairs.push_back({std::move(name.value()), std::move(value.value())});
    }
    for (const auto& p : parts.value()) {
      if (!p.has_filename || p.data.empty()) continue;   // text, or a file input left empty
      auto decoded_name = decode_form_text(p.name, encoding);
      const std::string name = decoded_name ? decoded_name.value() : printable(p.name);
      if (photos.size() >= options_.max_photos) {
        return respond(refuse(request, 413, "too_many_photos", name,
                              fmt::format("more than {} photos in one post", options_.max_photos), html, pairs));
      }
      if (p.data.size() > options_.photo_max_bytes) {
        return respond(refuse(request, 413, "photo_too_large", name,
                              fmt::format("file '{}' has {} bytes; the limit is {} per photo", printable(p.filename),
                                          p.data.size(), options_.photo_max_bytes),
                              html, pairs));
      }
      const std::string_view ext = sniff_image(p.data);
      if (ext.empty()) {
        return respond(refuse(request, 415, "unsupported_photo", name,
                              fmt::format("file '{}' is not a JPEG, PNG, WebP or HEIC image", printable(p.filename)), html,
                              pairs));
      }
      photos.push_back({p.data, ext});
    }
    // Written before the event, so an event never names a photo that is not on disk.
    for (const auto& ph : photos) {
      auto stored = photos_.store(ph.bytes, ph.ext);
      if (!stored) {
        spdlog::error("{}: {}", request.describe(), stored.error().detail);
        if (html) return respond(error_page(500, "photo_not_stored", label_of("photo"), "", pairs));
        return respond(adapter::HttpResponse::error(500, request.describe() + ": the photo could not be stored; retry later"));
      }
      (stored->created ? photos_stored_ : photos_known_).inc();
      photo_names.push_back(stored->file_name);
    }
    event.set_original_payload(payload);
  } else {
    return respond(refuse(request, 415, "unsupported_media_type", "Content-Type",
                          fmt::format("'{}' is not application/x-www-form-urlencoded or multipart/form-data", printable(type)),
                          html));
  }

  // Identity before mapping (mapping moves values out).
  std::string submission_id;
  for (const auto& p : pairs) {
    if (p.name == "submission_id") {
      submission_id = p.value;
      break;
    }
  }
  if (!submission_id.empty() && !valid_submission_id(submission_id)) {
    return respond(refuse(request, 400, "bad_value", "submission_id",
                          "submission_id must be 1-64 letters, digits, '-' or '_'", html, pairs));
  }
  if (!event.has_rejection()) {
    const auto content = std::find_if(pairs.begin(), pairs.end(), [](const FormPair& p) { return p.name == "content"; });
    if (content == pairs.end() || content->value.find_first_not_of(" \t\r\n") == std::string::npos) {
      return respond(refuse(request, 400, "missing_field", "content", "请填写问题描述 (content is required)", html, pairs));
    }
  }
  // Identity: what was said (decoded fields and photos, in any order) ...
  std::vector<FormPair> keyed = pairs;
  for (const auto& n : photo_names) keyed.push_back({"photo", n});
  std::string raw_ts;
  for (const auto& p : keyed) {
    if (p.name == "ts" && raw_ts.empty()) raw_ts = p.value;
  }
  std::erase_if(keyed, [](const FormPair& p) { return p.name == "_charset_" || p.name == "ts" || p.name == "submission_id"; });
  std::vector<FormPair> typed;   // what the resident typed, for an error page that puts it back
  if (html) typed = pairs;
  map_form_fields(pairs, event, location, uo);
  std::string reference;
  if (!submission_id.empty()) {
    // ... within one page load (submission_id): a double submit is one report, but back, edit,
    // submit again is another report with another reference, never a silent "ok" for the first.
    reference = submission_id + "-" + normalized_digest(std::move(keyed)).substr(0, 8);
    event.set_source_key("form:" + reference);
  } else {
    // ... on the day it was reported (ts, else arrival): a retry the same day is one report, the
    // same words a month later are a new one. A retry straddling local midnight becomes a second
    // report (the hub's merger sees two reports of one incident); ts, when sent, does not move.
    const auto& at = event.fields().reported_at();
    if (event.fields().has_reported_at()) {
      keyed.push_back(day_pair(at.unix_micros(), at.utc_offset_minutes()));
    } else {
      keyed.push_back({"\x01" "ts", raw_ts});   // an unparsable ts: dead-lettered, keyed by its own text
    }
    const std::string digest = normalized_digest(std::move(keyed));
    reference = digest.substr(0, 16);
    event.set_source_key("form:sha256:" + digest);
  }
  if (!photo_names.empty()) {
    std::string joined;
    for (const auto& n : photo_names) joined += (joined.empty() ? "" : ",") + n;
    (*event.mutable_fields()->mutable_extra())["photos"] = joined;
  }
  event.mutable_fields()->mutable_extra()->erase("submission_id");

  std::string rejection;
  std::string rejected_field;
  std::string rejected_reason;
  std::string rejected_detail;
  if (event.has_rejection()) {
    const auto& rj = event.rejection();
    rejection = fmt::format("{}: {} ({}): {}", request.describe(), rj.reason_code(), rj.field(), rj.detail());
    rejected_field = rj.field();
    rejected_reason = rj.reason_code();
    rejected_detail = rj.detail();
  }
  std::string who = request.describe();
  std::string public_ref = public_reference(event.channel(), event.source_key());
  intake_.submit(std::move(event), [this, respond = std::move(respond), who = std::move(who), html, reference,
                                    public_ref = std::move(public_ref), typed = std::move(typed), rejection = std::move(rejection),
                                    rejected_field = std::move(rejected_field), rejected_reason = std::move(rejected_reason),
                                    rejected_detail = std::move(rejected_detail)](adapter::IntakeResult r) {
    const bool stored = r == adapter::IntakeResult::kQueued || r == adapter::IntakeResult::kAlreadyKnown;
    if (!rejection.empty() && stored) {
      // Stored for the hub's dead letters (counted by the intake); the sender is told what was wrong.
      if (!html) return respond(adapter::HttpResponse::error(400, rejection));
      return respond(error_page(400, rejected_reason, label_of(rejected_field), rejected_detail, typed));
    }
    adapter::HttpResponse answer = intake_.answer(r, who, "ok " + reference + "\n");
    if (stored) answer.headers.emplace_back("X-Gridhub-Reference", public_ref);
    if (html && stored) {
      answer.content_type = "text/html; charset=utf-8";
      answer.body = thanks_page_html(options_.page_title, options_.page_path, public_ref, reference,
                                     lookup_ != nullptr ? options_.progress_path : std::string());
    } else if (html) {
      // 503 (outbox full; Retry-After kept) or 500: a Chinese page with the form still filled in.
      adapter::HttpResponse page = error_page(answer.status, answer.status == 503 ? "busy" : "server_error", "", "", typed);
      page.headers = std::move(answer.headers);
      answer = std::move(page);
    }
    respond(std::move(answer));
  });
}

void FormEndpoints::webhook(const std::string& form_id, const adapter::HttpRequest& request, adapter::HttpResponder respond) {
  const auto auth = options_.webhooks.find(form_id);
  if (auth != options_.webhooks.end() && !auth->second.secret.empty()) {
    const SignatureCheck check = verify_signature(request.header(auth->second.header), auth->second.secret, request.body);
    if (check != SignatureCheck::kValid) {
      counters_.rejected(reason_code(check)).inc();
      return respond(adapter::HttpResponse::error(
          401, fmt::format("{}: {} ({}): the body's HMAC-SHA256 under form {}'s secret, hex or base64, is required",
                           request.describe(), reason_code(check), auth->second.header, form_id)));
    }
  }
  JinshujuOptions jo;
  const std::string source_name = "POST /webhook/" + form_id;
  KeyedEvent ke = parse_jinshuju_push(request.body, *field_map_, source_name, 0, jo);
  auto& event = ke.event;
  if (!event.has_rejection() && !event.source_key().starts_with(form_id + ":")) {
    counters_.rejected("wrong_form").inc();
    return respond(adapter::HttpResponse::error(
        400, fmt::format("{}: wrong_form (form): the body is not a submission of form {}", request.describe(), form_id)));
  }
  if (event.source_key() == source_name) {
    // No serial_number recoverable: key the dead letter by its content, so retries are one.
    event.set_source_key(form_id + ":sha256:" + sha256_hex(request.body));
  }
  std::string rejection;
  if (event.has_rejection()) {
    const auto& rj = event.rejection();
    rejection = fmt::format("{}: {} ({}): {}", request.describe(), rj.reason_code(), rj.field(), rj.detail());
  }
  std::string who = request.describe();
  intake_.submit(std::move(event), [this, respond = std::move(respond), who = std::move(who),
                                    rejection = std::move(rejection)](adapter::IntakeResult r) {
    const bool stored = r == adapter::IntakeResult::kQueued || r == adapter::IntakeResult::kAlreadyKnown;
    if (!rejection.empty() && stored) return respond(adapter::HttpResponse::error(400, rejection));
    respond(intake_.answer(r, who, "ok\n"));
  });
}

adapter::HttpResponse FormEndpoints::services(const adapter::HttpRequest&) {
  adapter::HttpResponse r;
  r.content_type = "application/json; charset=utf-8";
  r.body = services_json_;
  return r;
}

adapter::HttpResponse FormEndpoints::open311_refuse(const adapter::HttpRequest& request, unsigned status,
                                                    std::string_view reason, const std::string& detail) {
  counters_.rejected(reason).inc();
  spdlog::warn("{}: {}: {}", request.describe(), reason, detail);
  adapter::HttpResponse r;
  r.status = status;
  r.content_type = "application/json; charset=utf-8";
  r.body = open311_error_json(status, detail);
  return r;
}

void FormEndpoints::open311_request(const adapter::HttpRequest& request, adapter::HttpResponder respond) {
  const std::string content_type(request.header("content-type"));
  if (media_type(content_type) != "application/x-www-form-urlencoded") {
    return respond(open311_refuse(request, 400, "open311_bad_request",
                                  "POST requests.json takes application/x-www-form-urlencoded (GeoReport v2)"));
  }
  v1::Event scratch;
  UrlencodedOptions uo;
  uo.charset = "utf-8";   // the spec: everything is UTF-8
  std::vector<FormPair> pairs = decode_urlencoded(request.body, scratch, request.describe(), uo);
  if (scratch.has_rejection()) {
    return respond(open311_refuse(request, 400, "open311_" + scratch.rejection().reason_code(),
                                  fmt::format("{}: {}", scratch.rejection().field(), scratch.rejection().detail())));
  }
  if (!options_.open311_api_key.empty()) {
    const auto key = std::find_if(pairs.begin(), pairs.end(), [](const FormPair& p) { return p.name == "api_key"; });
    const bool ok = key != pairs.end() && constant_time_equal(key->value, options_.open311_api_key);
    if (!ok) return respond(open311_refuse(request, 403, "bad_api_key", "api_key: missing or not valid"));
  }
  std::erase_if(pairs, [](const FormPair& p) { return p.name == "api_key"; });
  auto mapped = map_open311_request(pairs, services_, clock_.now_micros(), options_.utc_offset_minutes);
  if (!mapped) return respond(open311_refuse(request, 400, "open311_bad_request", mapped.error().detail));
  v1::Event& event = mapped->event;
  event.set_source_name("POST " + options_.open311_prefix + "/requests.json");
  event.set_content_type("application/x-www-form-urlencoded");
  event.set_original_payload(request.body);
  // The id a client quotes back (GET requests/{id}) is the report's public reference, the same a
  // resident is told on every channel; the digest stays in the source key.
  const std::string id = public_reference(event.channel(), event.source_key());
  std::string who = request.describe();
  intake_.submit(std::move(event), [this, respond = std::move(respond), who = std::move(who), id](adapter::IntakeResult r) {
    adapter::HttpResponse answer = intake_.answer(r, who, "");
    answer.content_type = "application/json; charset=utf-8";
    if (answer.status == 200) {
      json::array arr;
      json::object o;
      o["service_request_id"] = id;
      o["service_notice"] = "已受理，我们会尽快转交相关部门处理";
      o["account_id"] = nullptr;
      arr.push_back(std::move(o));
      answer.body = json::serialize(arr);
    } else {
      answer.body = open311_error_json(answer.status, answer.body.substr(0, answer.body.find('\n')));
    }
    respond(std::move(answer));
  });
}

adapter::HttpResponse FormEndpoints::progress_form(const adapter::HttpRequest& request) {
  adapter::HttpResponse r;
  r.content_type = "text/html; charset=utf-8";
  r.body = progress_form_html(options_.page_title, options_.progress_path, request.param("reference").substr(0, 40), "");
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

void FormEndpoints::progress(const adapter::HttpRequest& request, adapter::HttpResponder respond) {
  v1::Event scratch;
  UrlencodedOptions uo;
  uo.charset = "utf-8";
  std::string reference;
  std::string tel4;
  if (media_type(std::string(request.header("content-type"))) == "application/x-www-form-urlencoded") {
    for (auto& p : decode_urlencoded(request.body, scratch, request.describe(), uo)) {
      if (p.name == "reference" && reference.empty()) reference = std::move(p.value);
      if (p.name == "tel4" && tel4.empty()) tel4 = std::move(p.value);
    }
  }
  reference = reference.substr(0, 40);
  auto page = [this](unsigned status, std::string body) {
    adapter::HttpResponse r;
    r.status = status;
    r.content_type = "text/html; charset=utf-8";
    r.body = std::move(body);
    r.headers.emplace_back("Cache-Control", "no-store");
    return r;
  };
  if (reference.empty() || tel4.empty()) {
    counters_.rejected("lookup_missing_field").inc();
    return respond(page(400, progress_form_html(options_.page_title, options_.progress_path, reference,
                                                "请填写受理编号和手机号后四位。")));
  }
  v1::LookupRequest q;
  q.set_reference(reference);
  q.set_phone_last4(tel4.substr(0, 8));
  // The address without the port: one requester per machine for the hub's guess limit.
  q.set_requester("ip:" + request.remote.substr(0, request.remote.rfind(':')));
  lookup_->lookup(std::move(q), [this, respond = std::move(respond), reference, page](std::optional<v1::LookupReply> reply) {
    if (!reply) {
      return respond(page(503, progress_form_html(options_.page_title, options_.progress_path, reference,
                                                  "系统繁忙，暂时无法查询，请稍后再试。")));
    }
    if (!reply->found()) {
      // The same words whatever the reason: unknown reference, a typo, wrong digits, too many tries.
      return respond(page(404, progress_form_html(options_.page_title, options_.progress_path, reference,
                                                  "没有查到：请核对受理编号和手机号后四位。多次输错会暂停查询一段时间。")));
    }
    respond(page(200, progress_result_html(options_.page_title, options_.progress_path, reply->progress(),
                                           options_.utc_offset_minutes)));
  });
}

}  // namespace gridhub::webform
