#include "gridhub/webform/urlencoded.hpp"

#include <charconv>
#include <cmath>
#include <optional>
#include <utility>

#include <fmt/format.h>

#include "gridhub/text/datetime.hpp"
#include "gridhub/text/phone.hpp"
#include "gridhub/text/text_decode.hpp"

namespace gridhub::webform {
namespace {

constexpr std::string_view kContentType = "application/x-www-form-urlencoded";

void reject(v1::Event& event, std::string_view reason, std::string_view field, std::string detail,
            const std::string& location) {
  auto* r = event.mutable_rejection();
  r->set_reason_code(std::string(reason));
  r->set_field(std::string(field));
  r->set_detail(std::move(detail));
  r->set_location(location);
}

int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/// '+' -> space, %XX -> byte. Returns the offset of a '%' without two hex digits, or npos.
std::size_t percent_decode(std::string_view in, std::string& out) {
  out.clear();
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    const char c = in[i];
    if (c == '+') {
      out += ' ';
    } else if (c == '%') {
      const int hi = i + 1 < in.size() ? hex_value(in[i + 1]) : -1;
      const int lo = i + 2 < in.size() ? hex_value(in[i + 2]) : -1;
      if (hi < 0 || lo < 0) return i;
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else {
      out += c;
    }
  }
  return std::string_view::npos;
}

std::string ascii_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

/// The decode_text encoding for a declared charset; empty when unsupported.
}  // namespace

std::string_view form_text_encoding(std::string_view charset) {
  const std::string c = ascii_lower(charset);
  if (c.empty() || c == "utf-8" || c == "utf8") return "utf-8";
  // GB2312 and GBK are subsets of GB18030: decoding as the superset loses nothing.
  if (c == "gbk" || c == "gb2312" || c == "gb18030" || c == "cp936" || c == "x-gbk") return "gb18030";
  return {};
}

namespace {

std::optional<double> parse_double(std::string_view s) noexcept {
  double v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v, std::chars_format::fixed);
  if (s.empty() || ec != std::errc{} || end != s.data() + s.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

/// Printable for error messages: field names come from the request and may be anything.
std::string safe_name(std::string_view name) {
  std::string out;
  for (const char c : name) {
    const auto u = static_cast<unsigned char>(c);
    out += (u >= 0x20 && u < 0x7F) ? c : '?';
  }
  return out;
}

}  // namespace

std::vector<FormPair> decode_urlencoded(std::string_view body, v1::Event& event, const std::string& location,
                                        const UrlencodedOptions& options) {
  // Pass 1: split and percent-decode to bytes; the first problem becomes the rejection.
  struct RawPair {
    std::string name;
    std::string value;
  };
  std::vector<RawPair> raw;
  std::string name_bytes;
  std::string value_bytes;
  std::size_t start = 0;
  while (start <= body.size()) {
    std::size_t amp = body.find('&', start);
    if (amp == std::string_view::npos) amp = body.size();
    const std::string_view item = body.substr(start, amp - start);
    start = amp + 1;
    if (item.empty()) continue;
    const std::size_t eq = item.find('=');
    const std::string_view raw_name = item.substr(0, eq);
    const std::string_view raw_value = eq == std::string_view::npos ? std::string_view{} : item.substr(eq + 1);
    if (const std::size_t bad = percent_decode(raw_name, name_bytes); bad != std::string_view::npos) {
      if (!event.has_rejection()) {
        reject(event, kReasonBadPercentEscape, safe_name(raw_name),
               fmt::format("a field name has '%' at byte {} without two hex digits after it", bad), location);
      }
      continue;
    }
    if (const std::size_t bad = percent_decode(raw_value, value_bytes); bad != std::string_view::npos) {
      if (!event.has_rejection()) {
        reject(event, kReasonBadPercentEscape, safe_name(name_bytes),
               fmt::format("{}: '%' at byte {} of the value is not followed by two hex digits (body cut inside an "
                           "escape?)",
                           safe_name(name_bytes), bad),
               location);
      }
      continue;
    }
    raw.push_back({name_bytes, value_bytes});
  }

  // The charset the page declared: its own _charset_ field (HTML's convention), else the request's.
  std::string_view charset = options.charset;
  std::string_view charset_field = "Content-Type";
  for (const RawPair& p : raw) {
    if (p.name == "_charset_" || p.name == "charset") {
      charset = p.value;
      charset_field = p.name == "_charset_" ? "_charset_" : "charset";
      break;
    }
  }
  const std::string_view encoding = form_text_encoding(charset);

  // Pass 2: bytes -> UTF-8 in that charset.
  std::vector<FormPair> pairs;
  if (encoding.empty()) {
    if (!event.has_rejection()) {
      reject(event, kReasonUnknownCharset, charset_field,
             fmt::format("charset '{}' is not supported (utf-8, gbk, gb2312, gb18030)", safe_name(charset)), location);
    }
  } else {
    for (RawPair& p : raw) {
      if (encoding == "utf-8") {
        const std::size_t bad_name = text::find_invalid_utf8(p.name);
        const std::size_t bad_value = text::find_invalid_utf8(p.value);
        if (bad_name == std::string_view::npos && bad_value == std::string_view::npos) {
          pairs.push_back({std::move(p.name), std::move(p.value)});
        } else if (!event.has_rejection()) {
          const std::string field = bad_name == std::string_view::npos ? p.name : safe_name(p.name);
          reject(event, kReasonBadEncoding, field,
                 bad_name != std::string_view::npos
                     ? fmt::format("a field name is not UTF-8 at byte {}", bad_name)
                     : fmt::format("{}: byte {} of the value is not UTF-8 (declared charset utf-8)", field, bad_value),
                 location);
        }
        continue;
      }
      Result<text::DecodedText> name = text::decode_text(p.name, encoding);
      Result<text::DecodedText> value = text::decode_text(p.value, encoding);
      if (name.ok() && value.ok()) {
        pairs.push_back({std::move(name->utf8), std::move(value->utf8)});
      } else if (!event.has_rejection()) {
        const std::string field = name.ok() ? name->utf8 : safe_name(p.name);
        reject(event, kReasonBadEncoding, field,
               fmt::format("{}: not valid {} ({})", field, charset, (name.ok() ? value : name).error().detail),
               location);
      }
    }
  }

  return pairs;
}

Result<std::string> decode_form_text(std::string_view bytes, std::string_view encoding) {
  if (encoding == "utf-8") {
    const std::size_t bad = text::find_invalid_utf8(bytes);
    if (bad != std::string_view::npos) return Error(Errc::decode_failed, fmt::format("byte {} is not UTF-8", bad));
    return std::string(bytes);
  }
  Result<text::DecodedText> decoded = text::decode_text(bytes, encoding);
  if (!decoded) return decoded.error();
  return std::move(decoded->utf8);
}

void map_form_fields(std::vector<FormPair>& pairs, v1::Event& event, const std::string& location,
                     const UrlencodedOptions& options) {
  // Fields are filled even on a rejected post, so the dead letter is readable.
  v1::ExtractedFields& fields = *event.mutable_fields();
  auto& extra = *fields.mutable_extra();
  std::optional<std::string> lat_text;
  std::optional<std::string> lng_text;
  std::optional<std::string> coord;
  std::optional<std::string> ts;
  for (FormPair& p : pairs) {
    const std::string& n = p.name;
    if (n == "_charset_" || n == "charset") continue;
    std::string& v = p.value;
    if (n == "src") {
      fields.set_intake_channel_detail(std::move(v));
    } else if (n == "name") {
      fields.set_reporter_name(std::move(v));
    } else if (n == "tel") {
      fields.set_reporter_phone(text::normalize_phone(v));
    } else if (n == "type") {
      fields.set_category_hint(std::move(v));
    } else if (n == "content") {
      fields.set_text(std::move(v));
    } else if (n == "addr") {
      fields.set_address_text(std::move(v));
    } else if (n == "community") {
      fields.set_community_hint(std::move(v));
    } else if (n == "lat") {
      lat_text = std::move(v);
    } else if (n == "lng") {
      lng_text = std::move(v);
    } else if (n == "coord") {
      coord = ascii_lower(v);
    } else if (n == "ts") {
      ts = std::move(v);
    } else if (!v.empty()) {
      extra.emplace(n, std::move(v));  // the first of repeated names wins, as for the named fields' order
    }
  }

  const std::optional<double> lat = parse_double(lat_text.value_or(""));
  const std::optional<double> lng = parse_double(lng_text.value_or(""));
  v1::Datum datum = v1::DATUM_UNSPECIFIED;
  bool coord_known = true;
  if (coord && *coord == "wgs84") {
    datum = v1::DATUM_WGS84;
  } else if (coord && *coord == "gcj02") {
    datum = v1::DATUM_GCJ02;
  } else if (coord && (*coord == "bd09" || *coord == "bd09ll")) {
    datum = v1::DATUM_BD09;
  } else if (coord && !coord->empty()) {
    coord_known = false;
  }
  const bool lat_ok = lat && *lat >= -90 && *lat <= 90;
  const bool lng_ok = lng && *lng >= -180 && *lng <= 180;
  if (lat_ok && lng_ok && coord_known) {
    v1::GeoPoint& point = *fields.mutable_location();
    point.set_lat(*lat);
    point.set_lon(*lng);
    point.set_datum(datum);
  }

  const bool ts_missing = !ts || ts->empty();
  Result<text::ParsedTime> time = text::parse_datetime(ts.value_or(""), options.utc_offset_minutes);
  if (time.ok()) {
    fields.mutable_reported_at()->set_unix_micros(time->unix_micros);
    fields.mutable_reported_at()->set_utc_offset_minutes(time->utc_offset_minutes);
  } else if (ts_missing && options.now_micros != 0) {
    // A live post without its own time was reported when it arrived.
    fields.mutable_reported_at()->set_unix_micros(options.now_micros);
    fields.mutable_reported_at()->set_utc_offset_minutes(options.utc_offset_minutes);
  }

  if (event.has_rejection()) return;
  const bool has_lat = lat_text && !lat_text->empty();
  const bool has_lng = lng_text && !lng_text->empty();
  if (ts_missing && options.now_micros == 0) {
    reject(event, kReasonBadDate, "ts", "ts is missing or empty", location);
  } else if (ts_missing) {
    // reported now (above)
  } else if (!time.ok()) {
    reject(event, kReasonBadDate, "ts", fmt::format("ts: {}", time.error().detail), location);
  } else if (has_lat != has_lng) {
    reject(event, kReasonBadValue, has_lat ? "lng" : "lat", "lat and lng must come together", location);
  } else if (has_lat && !lat_ok) {
    reject(event, kReasonBadValue, "lat", "lat is not a latitude in degrees", location);
  } else if (has_lng && !lng_ok) {
    reject(event, kReasonBadValue, "lng", "lng is not a longitude in degrees", location);
  } else if (!coord_known) {
    reject(event, kReasonBadValue, "coord", "coord is not wgs84, gcj02 or bd09", location);
  }
}

KeyedEvent parse_urlencoded_post(std::string_view body, const std::string& source_name,
                                 const std::string& record_key, const UrlencodedOptions& options) {
  const std::string location = fmt::format("{}:{}", source_name, record_key);
  KeyedEvent out;
  out.record_key = record_key;
  v1::Event& event = out.event;
  event.set_channel(v1::CHANNEL_WEBFORM);
  event.set_adapter_id(options.adapter_id);
  event.set_source_name(source_name);
  event.set_content_type(std::string(kContentType));
  event.set_original_payload(std::string(body));
  event.set_source_key(location);
  std::vector<FormPair> pairs = decode_urlencoded(body, event, location, options);
  map_form_fields(pairs, event, location, options);
  return out;
}

std::vector<KeyedEvent> parse_urlencoded_file(std::string_view file_bytes, const std::string& source_name,
                                              const UrlencodedOptions& options) {
  std::vector<KeyedEvent> out;
  for (const RecordLine& line : split_record_lines(file_bytes)) {
    out.push_back(parse_urlencoded_post(line.text, source_name, std::to_string(line.number), options));
  }
  return out;
}

}  // namespace gridhub::webform
