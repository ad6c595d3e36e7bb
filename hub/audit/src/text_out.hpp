#pragma once
// Private: the JSON and CSV escaping every auditor's output shares.

#include <string>
#include <string_view>

#include <google/protobuf/message.h>

#include "proto_json.hpp"

namespace gridhub::audit::detail {

/// `m` as JSON (proto_json.hpp: protobuf's JSON form, written without its per-call costs).
inline void append_json(std::string& out, const google::protobuf::Message& m) { append_message_json(out, m); }

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
