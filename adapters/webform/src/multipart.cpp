#include "gridhub/webform/multipart.hpp"

#include <fmt/format.h>

namespace gridhub::webform {
namespace {

char lower_char(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = lower_char(c);
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (lower_char(a[i]) != lower_char(b[i])) return false;
  }
  return true;
}

/// `; name=value; name="quoted \" value"` parameters after a header's first token. Returns the
/// value of `want` (unquoted), `found` tells whether it was present at all.
std::string header_param(std::string_view params, std::string_view want, bool* found = nullptr) {
  if (found != nullptr) *found = false;
  std::size_t i = 0;
  while (i < params.size()) {
    const std::size_t semi = params.find(';', i);
    if (semi == std::string_view::npos) return {};
    i = semi + 1;
    while (i < params.size() && (params[i] == ' ' || params[i] == '\t')) ++i;
    const std::size_t eq = params.find('=', i);
    if (eq == std::string_view::npos) return {};
    const std::string_view name = trim(params.substr(i, eq - i));
    i = eq + 1;
    std::string value;
    if (i < params.size() && params[i] == '"') {
      ++i;
      while (i < params.size() && params[i] != '"') {
        // Browsers escape '"' as %22 in file names; a backslash escape is also seen in the wild.
        if (params[i] == '\\' && i + 1 < params.size()) ++i;
        value += params[i++];
      }
      if (i < params.size()) ++i;   // closing quote
    } else {
      const std::size_t end = std::min(params.size(), params.find(';', i));
      value = std::string(trim(params.substr(i, end - i)));
      i = end;
    }
    if (iequals(name, want)) {
      if (found != nullptr) *found = true;
      return value;
    }
  }
  return {};
}

}  // namespace

std::string media_type(std::string_view content_type) {
  return lower(trim(content_type.substr(0, content_type.find(';'))));
}

std::string content_type_param(std::string_view content_type, std::string_view name) {
  const std::size_t semi = content_type.find(';');
  if (semi == std::string_view::npos) return {};
  return header_param(content_type.substr(semi), name);
}

Result<std::string> multipart_boundary(std::string_view content_type) {
  if (media_type(content_type) != "multipart/form-data") {
    return Error(Errc::bad_value, "Content-Type: not multipart/form-data");
  }
  std::string b = content_type_param(content_type, "boundary");
  if (b.empty()) return Error(Errc::missing_field, "Content-Type: multipart/form-data without a boundary");
  if (b.size() > 70) return Error(Errc::bad_value, "Content-Type: boundary longer than 70 characters (RFC 2046)");
  return b;
}

Result<std::vector<MultipartPart>> parse_multipart(std::string_view body, std::string_view boundary,
                                                   std::size_t max_parts) {
  if (boundary.empty()) return Error(Errc::missing_field, "empty multipart boundary");
  const std::string dash = "--" + std::string(boundary);
  const std::string delimiter = "\r\n" + dash;   // what ends a part's data

  // The first delimiter may open the body or follow a preamble line.
  std::size_t pos;
  if (body.starts_with(dash)) {
    pos = dash.size();
  } else {
    pos = body.find(delimiter);
    if (pos == std::string_view::npos) return Error(Errc::bad_value, "no multipart boundary in the body");
    pos += delimiter.size();
  }

  std::vector<MultipartPart> parts;
  for (;;) {
    // After a delimiter: "--" closes, else optional transport padding then CRLF.
    if (body.substr(pos, 2) == "--") return parts;
    while (pos < body.size() && (body[pos] == ' ' || body[pos] == '\t')) ++pos;
    if (body.substr(pos, 2) == "\r\n") {
      pos += 2;
    } else if (body.substr(pos, 1) == "\n") {
      pos += 1;
    } else {
      return Error(Errc::bad_value, fmt::format("part {}: the boundary line does not end with CRLF (truncated body?)",
                                                parts.size() + 1));
    }
    if (parts.size() >= max_parts) {
      return Error(Errc::bad_value, fmt::format("more than {} parts", max_parts));
    }
    const std::size_t number = parts.size() + 1;
    MultipartPart part;
    bool disposition = false;
    // Headers, until an empty line.
    const std::size_t headers_start = pos;
    for (;;) {
      if (pos - headers_start > 8192) {
        return Error(Errc::bad_value, fmt::format("part {}: headers longer than 8 KiB", number));
      }
      const std::size_t nl = body.find('\n', pos);
      if (nl == std::string_view::npos) {
        return Error(Errc::bad_value, fmt::format("part {}: headers are cut off (truncated body?)", number));
      }
      std::string_view line = body.substr(pos, nl - pos);
      pos = nl + 1;
      if (line.ends_with('\r')) line.remove_suffix(1);
      if (line.empty()) break;
      const std::size_t colon = line.find(':');
      if (colon == std::string_view::npos) {
        return Error(Errc::bad_value, fmt::format("part {}: header line without ':'", number));
      }
      const std::string_view name = trim(line.substr(0, colon));
      const std::string_view value = trim(line.substr(colon + 1));
      if (iequals(name, "content-disposition")) {
        const std::string_view kind = trim(value.substr(0, value.find(';')));
        if (!iequals(kind, "form-data")) {
          return Error(Errc::bad_value, fmt::format("part {}: Content-Disposition is not form-data", number));
        }
        disposition = true;
        const std::string_view params = value.substr(std::min(value.size(), value.find(';')));
        bool has_name = false;
        part.name = header_param(params, "name", &has_name);
        part.filename = header_param(params, "filename", &part.has_filename);
        if (!has_name) {
          return Error(Errc::missing_field, fmt::format("part {}: Content-Disposition has no name", number));
        }
      } else if (iequals(name, "content-type")) {
        part.content_type = lower(value);
      }
      // Other part headers (Content-Transfer-Encoding is deprecated for form-data) are ignored.
    }
    if (!disposition) return Error(Errc::missing_field, fmt::format("part {}: no Content-Disposition", number));

    const std::size_t end = body.find(delimiter, pos);
    if (end == std::string_view::npos) {
      return Error(Errc::bad_value,
                   fmt::format("part {} ({}): no closing boundary after its data (truncated body?)", number, part.name));
    }
    part.data = body.substr(pos, end - pos);
    pos = end + delimiter.size();
    parts.push_back(std::move(part));
  }
}

}  // namespace gridhub::webform
