#include "proto_json.hpp"

#include <cmath>

#include <fmt/format.h>

#include "gridhub/v1/common.pb.h"

namespace gridhub::audit::detail {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

void append_base64(std::string& out, std::string_view in) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::size_t i = 0;
  for (; i + 3 <= in.size(); i += 3) {
    const auto v = static_cast<unsigned>(static_cast<unsigned char>(in[i])) << 16 |
                   static_cast<unsigned>(static_cast<unsigned char>(in[i + 1])) << 8 |
                   static_cast<unsigned>(static_cast<unsigned char>(in[i + 2]));
    out += kAlphabet[v >> 18];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  if (i < in.size()) {
    const bool two = i + 1 < in.size();
    const auto v = static_cast<unsigned>(static_cast<unsigned char>(in[i])) << 16 |
                   (two ? static_cast<unsigned>(static_cast<unsigned char>(in[i + 1])) << 8 : 0u);
    out += kAlphabet[v >> 18];
    out += kAlphabet[(v >> 12) & 63];
    out += two ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
}

template <class F>
void append_float(std::string& out, F v) {
  if (std::isnan(v)) {
    out += "\"NaN\"";
  } else if (std::isinf(v)) {
    out += v > 0 ? "\"Infinity\"" : "\"-Infinity\"";
  } else {
    fmt::format_to(std::back_inserter(out), "{}", v);   // shortest text that reads back as the same value
  }
}

bool is_pii(const FieldDescriptor* f) { return f->options().GetExtension(gridhub::v1::pii); }

/// One value of field `f` (element `index` when repeated, -1 otherwise).
void append_value(std::string& out, const Message& m, const Reflection* r, const FieldDescriptor* f, int index,
                  PiiFilter* pii, std::string& scratch);

void append_object(std::string& out, const Message& m, PiiFilter* pii, std::string& scratch) {
  const Reflection* r = m.GetReflection();
  const auto* desc = m.GetDescriptor();
  out += '{';
  bool first = true;
  // Set fields only (proto3: non-default), in declaration order, as protobuf's printer does; no
  // ListFields, which allocates a vector per message.
  for (int fi = 0; fi < desc->field_count(); ++fi) {
    const FieldDescriptor* f = desc->field(fi);
    if (f->is_repeated() ? r->FieldSize(m, f) == 0 : !r->HasField(m, f)) continue;
    if (!first) out += ',';
    first = false;
    out += '"';
    out += f->name();
    out += "\":";
    if (f->is_map()) {
      const FieldDescriptor* key = f->message_type()->map_key();
      const FieldDescriptor* value = f->message_type()->map_value();
      out += '{';
      for (int i = 0; i < r->FieldSize(m, f); ++i) {
        if (i > 0) out += ',';
        const Message& entry = r->GetRepeatedMessage(m, f, i);
        const Reflection* er = entry.GetReflection();
        if (key->cpp_type() == FieldDescriptor::CPPTYPE_STRING) {
          append_json_string(out, er->GetStringReference(entry, key, &scratch));
        } else {
          out += '"';
          std::string k;
          append_value(k, entry, er, key, -1, nullptr, scratch);
          if (!k.empty() && k.front() == '"') k = k.substr(1, k.size() - 2);   // 64-bit keys come quoted
          out += k;
          out += '"';
        }
        out += ':';
        append_value(out, entry, er, value, -1, pii, scratch);
      }
      out += '}';
    } else if (f->is_repeated()) {
      out += '[';
      for (int i = 0; i < r->FieldSize(m, f); ++i) {
        if (i > 0) out += ',';
        append_value(out, m, r, f, i, pii, scratch);
      }
      out += ']';
    } else {
      append_value(out, m, r, f, -1, pii, scratch);
    }
  }
  out += '}';
}

void append_value(std::string& out, const Message& m, const Reflection* r, const FieldDescriptor* f, int index,
                  PiiFilter* pii, std::string& scratch) {
  const bool rep = index >= 0;
  switch (f->cpp_type()) {
    case FieldDescriptor::CPPTYPE_INT32:
      fmt::format_to(std::back_inserter(out), "{}", rep ? r->GetRepeatedInt32(m, f, index) : r->GetInt32(m, f));
      break;
    case FieldDescriptor::CPPTYPE_UINT32:
      fmt::format_to(std::back_inserter(out), "{}", rep ? r->GetRepeatedUInt32(m, f, index) : r->GetUInt32(m, f));
      break;
    case FieldDescriptor::CPPTYPE_INT64:
      fmt::format_to(std::back_inserter(out), "\"{}\"", rep ? r->GetRepeatedInt64(m, f, index) : r->GetInt64(m, f));
      break;
    case FieldDescriptor::CPPTYPE_UINT64:
      fmt::format_to(std::back_inserter(out), "\"{}\"", rep ? r->GetRepeatedUInt64(m, f, index) : r->GetUInt64(m, f));
      break;
    case FieldDescriptor::CPPTYPE_DOUBLE:
      append_float(out, rep ? r->GetRepeatedDouble(m, f, index) : r->GetDouble(m, f));
      break;
    case FieldDescriptor::CPPTYPE_FLOAT:
      append_float(out, rep ? r->GetRepeatedFloat(m, f, index) : r->GetFloat(m, f));
      break;
    case FieldDescriptor::CPPTYPE_BOOL:
      out += (rep ? r->GetRepeatedBool(m, f, index) : r->GetBool(m, f)) ? "true" : "false";
      break;
    case FieldDescriptor::CPPTYPE_ENUM: {
      const int v = rep ? r->GetRepeatedEnumValue(m, f, index) : r->GetEnumValue(m, f);
      if (const auto* e = f->enum_type()->FindValueByNumber(v); e != nullptr) {
        out += '"';
        out += e->name();
        out += '"';
      } else {
        fmt::format_to(std::back_inserter(out), "{}", v);
      }
      break;
    }
    case FieldDescriptor::CPPTYPE_STRING: {
      std::string own;
      std::string_view v = rep ? std::string_view(r->GetRepeatedStringReference(m, f, index, &own))
                               : std::string_view(r->GetStringReference(m, f, &own));
      std::string shown;
      if (pii != nullptr && is_pii(f)) v = pii->show(v, f->full_name(), shown);
      if (f->type() == FieldDescriptor::TYPE_BYTES && !(pii != nullptr && is_pii(f))) {
        out += '"';
        append_base64(out, v);
        out += '"';
      } else {
        append_json_string(out, v);
      }
      break;
    }
    case FieldDescriptor::CPPTYPE_MESSAGE:
      append_object(out, rep ? r->GetRepeatedMessage(m, f, index) : r->GetMessage(m, f), pii, scratch);
      break;
  }
}

}  // namespace

void append_json_string(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  std::size_t run = 0;   // start of the pending run of characters that need no escape
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(s.data() + run, i - run);
    run = i + 1;
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        out += "\\u00";
        out += kHex[c >> 4];
        out += kHex[c & 0xf];
    }
  }
  out.append(s.data() + run, s.size() - run);
  out += '"';
}

void append_message_json(std::string& out, const Message& m, PiiFilter* pii) {
  std::string scratch;
  append_object(out, m, pii, scratch);
}

}  // namespace gridhub::audit::detail
