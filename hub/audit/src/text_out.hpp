#pragma once
// Private: the JSON and CSV escaping every auditor's output shares.

#include <string>
#include <string_view>

#include <google/protobuf/message.h>
#include <google/protobuf/util/json_util.h>

#include <fmt/format.h>

namespace gridhub::audit::detail {

inline void append_json(std::string& out, const google::protobuf::Message& m) {
  std::string s;
  google::protobuf::util::JsonPrintOptions opts;
  opts.preserve_proto_field_names = true;
  (void)google::protobuf::util::MessageToJsonString(m, &s, opts);
  out += s;
}

inline void append_json_string(std::string& out, std::string_view s) {
  out += '"';
  for (char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += fmt::format("\\u{:04x}", static_cast<unsigned>(c));
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

/// RFC 4180: quoted when it holds a comma, quote or line break.
inline void append_csv(std::string& out, std::string_view s) {
  if (s.find_first_of(",\"\r\n") == std::string_view::npos) {
    out += s;
    return;
  }
  out += '"';
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
}

}  // namespace gridhub::audit::detail
