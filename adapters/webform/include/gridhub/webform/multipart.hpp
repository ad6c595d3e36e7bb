#pragma once
/// `multipart/form-data` bodies (RFC 7578) split into their parts.
///
/// Why by hand: Debian's MIME libraries are mail parsers (mimetic: line-oriented streams of whole
/// messages; GMime: GLib) with no form-data helpers, and Beast has none. The grammar a browser
/// sends is small: `--boundary CRLF headers CRLF CRLF data CRLF --boundary ... --boundary--`.
/// This parser is strict where it matters (every part has a Content-Disposition: form-data with a
/// name; the closing delimiter must be there, so a truncated upload is an error, not a short photo)
/// and lenient where browsers differ (bare LF line ends in part headers, a preamble, an epilogue,
/// quoted or unquoted parameters). It is fuzzed by tests/fuzz/webform_multipart_fuzz.cpp.
///
/// Parts are views into the body: the body must outlive them. Limits: at most `max_parts` parts
/// and 8 KiB of headers per part.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "gridhub/common/result.hpp"

namespace gridhub::webform {

struct MultipartPart {
  std::string name;           // Content-Disposition name= (as sent: bytes in the page's charset)
  std::string filename;       // filename= ; empty for a text field
  bool has_filename = false;  // a file input, even when no file was chosen (filename="")
  std::string content_type;   // the part's Content-Type, lower-cased; empty when absent
  std::string_view data;      // the part's bytes
};

/// The boundary parameter of a `multipart/form-data; boundary=...` Content-Type, or an error
/// naming what is wrong (not multipart/form-data, no boundary, boundary over 70 characters).
Result<std::string> multipart_boundary(std::string_view content_type);

/// Splits `body`. Errors (Errc::bad_value / missing_field) name the part by its 1-based position
/// and, once known, its field name: "part 2 (photo): no Content-Disposition".
Result<std::vector<MultipartPart>> parse_multipart(std::string_view body, std::string_view boundary,
                                                   std::size_t max_parts = 64);

/// A Content-Type parameter (`charset`, `boundary`) by case-insensitive name, unquoted; empty when absent.
std::string content_type_param(std::string_view content_type, std::string_view name);

/// The media type of a Content-Type without parameters, lower-cased ("multipart/form-data").
std::string media_type(std::string_view content_type);

}  // namespace gridhub::webform
