#pragma once
/// `application/x-www-form-urlencoded` H5 form posts -> gridhub.v1.Event, one per body.
///
/// Fields (as the county's H5 page names them; others go to extra under their decoded name):
///   src -> intake_channel_detail   name -> reporter_name   tel -> reporter_phone (normalized)
///   type -> category_hint          content -> text         addr -> address_text
///   community -> community_hint
///   lat, lng, coord -> location (coord: wgs84 | gcj02 | bd09 -> datum; absent: unspecified)
///   ts (ISO 8601, its own offset; else UrlencodedOptions::utc_offset_minutes) -> reported_at
///     (absent: UrlencodedOptions::now_micros when set — a live HTTP post — else bad_date)
/// '+' is a space and %XX a byte. The bytes are text in the declared charset: the body's own
/// `_charset_` (or `charset`) field if present, else UrlencodedOptions::charset (from the request's
/// Content-Type). UTF-8 and GBK/GB2312/GB18030 (decoded as GB18030, its superset) are supported.
///
/// Rejections name the field: bad_percent_escape (a '%' without two hex digits, e.g. a body cut
/// inside an escape), bad_encoding (bytes not valid in the charset), unknown_charset, bad_date
/// ("ts" missing or invalid), bad_value (lat/lng not numbers or only one of them, unknown coord).

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "gridhub/common/result.hpp"
#include "gridhub/webform/record.hpp"

namespace gridhub::webform {

struct UrlencodedOptions {
  std::string adapter_id;
  std::string charset = "utf-8";  // the request's declared charset; the body's _charset_ wins
  int utc_offset_minutes = 480;   // for a ts without its own offset
  std::int64_t now_micros = 0;    // HTTP: a post without ts was reported at arrival; 0 (files): ts required
};

/// One decoded form field (name and value in UTF-8).
struct FormPair {
  std::string name;
  std::string value;
};

/// The decode_text encoding for a declared charset ("utf-8" or "gb18030"); empty when unsupported.
std::string_view form_text_encoding(std::string_view charset);

/// Bytes in `encoding` (form_text_encoding) -> UTF-8; the error says at which byte it is invalid.
Result<std::string> decode_form_text(std::string_view bytes, std::string_view encoding);

/// Splits and decodes an urlencoded body to UTF-8 fields in the declared charset. The first problem
/// becomes event's rejection (located at `location`); the fields that did decode are returned.
std::vector<FormPair> decode_urlencoded(std::string_view body, gridhub::v1::Event& event, const std::string& location,
                                        const UrlencodedOptions& options);

/// Maps decoded fields onto event.fields (table above) and checks ts/lat/lng/coord, setting a
/// rejection only when the event has none yet. Shared by urlencoded and multipart posts.
void map_form_fields(std::vector<FormPair>& pairs, gridhub::v1::Event& event, const std::string& location,
                     const UrlencodedOptions& options);

/// Parses one body. record_key is the caller's name for the post (file helper: the line number;
/// HTTP: a request id); source_key and the rejection location are "<source_name>:<record_key>".
/// Never fails: problems are the Event's rejection.
KeyedEvent parse_urlencoded_post(std::string_view body, const std::string& source_name,
                                 const std::string& record_key, const UrlencodedOptions& options);

/// A file of bodies, one per line (blank lines skipped): record_key = the 1-based line number.
std::vector<KeyedEvent> parse_urlencoded_file(std::string_view file_bytes, const std::string& source_name,
                                              const UrlencodedOptions& options);

}  // namespace gridhub::webform
