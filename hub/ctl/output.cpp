#include "output.hpp"

#include <algorithm>
#include <cctype>

#include <google/protobuf/util/json_util.h>

namespace gridhub::ctl {

namespace v1 = gridhub::v1;

namespace {

std::string lower_without_prefix(std::string n, std::string_view prefix) {
  if (n.rfind(prefix, 0) == 0) n = n.substr(prefix.size());
  for (auto& c : n) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return n;
}

}  // namespace

std::string to_json(const google::protobuf::Message& m) {
  std::string out;
  google::protobuf::util::JsonPrintOptions opts;
  opts.preserve_proto_field_names = true;
  (void)google::protobuf::util::MessageToJsonString(m, &out, opts);
  return out;
}

std::string json_quote(std::string_view s) {
  std::string o = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      o += '\\';
      o += c;
    } else if (c == '\n') {
      o += "\\n";
    } else if (static_cast<unsigned char>(c) < 0x20) {
      o += ' ';
    } else {
      o += c;
    }
  }
  return o + "\"";
}

std::string head_chars(const std::string& s, std::size_t n) {
  std::size_t i = 0;
  std::size_t chars = 0;
  while (i < s.size() && chars < n) {
    const auto c = static_cast<unsigned char>(s[i]);
    i += c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : 4;
    ++chars;
  }
  std::string out = s.substr(0, std::min(i, s.size()));
  for (auto& ch : out) {
    if (ch == '\n' || ch == '\r') ch = ' ';
  }
  return i < s.size() ? out + "…" : out;
}

const char* tier_word(v1::Tier t) {
  switch (t) {
    case v1::TIER_GRID: return "grid";
    case v1::TIER_COMMUNITY: return "community";
    case v1::TIER_COUNTY: return "county";
    case v1::TIER_CENTER: return "center";
    default: return "-";
  }
}

std::string status_word(v1::TicketStatus s) { return lower_without_prefix(v1::TicketStatus_Name(s), "TICKET_STATUS_"); }

std::string action_word(v1::UpdateAction a) { return lower_without_prefix(v1::UpdateAction_Name(a), "UPDATE_ACTION_"); }

}  // namespace gridhub::ctl
