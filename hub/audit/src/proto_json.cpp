#include "proto_json.hpp"

#include <cmath>
#include <cstring>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include <fmt/format.h>

#include "gridhub/log/wire_scan.hpp"
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

/// A 64-bit integer as protobuf's JSON writes it: quoted.
template <class Int>
void append_quoted(std::string& out, Int v) {
  out += '"';
  append_decimal(out, v);
  out += '"';
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

struct FieldTable;

/// One field of a message type as the wire writer needs it, looked up once per type rather than per value.
struct FieldInfo {
  const FieldDescriptor* f = nullptr;
  bool pii = false;                  // marked (gridhub.v1.pii)
  const FieldTable* child = nullptr;   // a message field's type (not for maps: their entries are read apart)
};

/// Where each field number of a message type goes (f null: unknown, skipped, as protobuf's printer
/// skips unknown fields). Built once per type, with the tables of the message types it holds, so
/// writing a nested message takes no lookup.
struct FieldTable {
  std::vector<FieldInfo> by_number;
  const FieldInfo* find(std::uint64_t number) const {
    return number < by_number.size() && by_number[number].f != nullptr ? &by_number[number] : nullptr;
  }
};

/// The table of `type`, built (with those it refers to) on first use; tables are never removed and
/// the map's nodes never move, so references stay valid. Call with `mutex` held.
const FieldTable& build_table(std::unordered_map<const google::protobuf::Descriptor*, FieldTable>& tables,
                              const google::protobuf::Descriptor* type) {
  auto [it, added] = tables.try_emplace(type);
  if (!added) return it->second;   // built, or being built further up (a recursive type)
  FieldTable& table = it->second;
  for (int i = 0; i < type->field_count(); ++i) {
    const auto* f = type->field(i);
    const auto n = static_cast<std::size_t>(f->number());
    if (n >= 4096) continue;   // sparse high numbers: not used by the schemas; such a field is skipped
    if (table.by_number.size() <= n) table.by_number.resize(n + 1);
    table.by_number[n] = FieldInfo{f, is_pii(f), nullptr};
  }
  for (auto& info : table.by_number) {
    if (info.f != nullptr && info.f->type() == FieldDescriptor::TYPE_MESSAGE && !info.f->is_map()) {
      info.child = &build_table(tables, info.f->message_type());
    }
  }
  return table;
}

const FieldTable& table_for(const google::protobuf::Descriptor* type) {
  static std::mutex mutex;
  static std::unordered_map<const google::protobuf::Descriptor*, FieldTable> tables;
  std::lock_guard lock(mutex);
  return build_table(tables, type);
}

std::int64_t zigzag(std::uint64_t v) { return static_cast<std::int64_t>(v >> 1) ^ -static_cast<std::int64_t>(v & 1); }

template <class T>
T from_bits(std::string_view raw) {
  T v;
  std::memcpy(&v, raw.data(), sizeof v);   // little-endian on every platform the hub runs on
  return v;
}

/// One scalar value of `f` from its wire form: `v` for varints, `raw` the 4 or 8 bytes of a fixed field.
void append_scalar(std::string& out, const FieldDescriptor* f, std::uint64_t v, std::string_view raw) {
  switch (f->type()) {
    case FieldDescriptor::TYPE_INT32:
      append_decimal(out, static_cast<std::int32_t>(v));
      break;
    case FieldDescriptor::TYPE_SINT32:
      append_decimal(out, static_cast<std::int32_t>(zigzag(v)));
      break;
    case FieldDescriptor::TYPE_UINT32:
      append_decimal(out, static_cast<std::uint32_t>(v));
      break;
    case FieldDescriptor::TYPE_INT64:
      append_quoted(out, static_cast<std::int64_t>(v));
      break;
    case FieldDescriptor::TYPE_SINT64:
      append_quoted(out, zigzag(v));
      break;
    case FieldDescriptor::TYPE_UINT64:
      append_quoted(out, v);
      break;
    case FieldDescriptor::TYPE_BOOL:
      out += v != 0 ? "true" : "false";
      break;
    case FieldDescriptor::TYPE_ENUM: {
      const int n = static_cast<int>(static_cast<std::int32_t>(v));
      if (const auto* e = f->enum_type()->FindValueByNumber(n); e != nullptr) {
        out += '"';
        out += e->name();
        out += '"';
      } else {
        append_decimal(out, n);
      }
      break;
    }
    case FieldDescriptor::TYPE_FIXED32:
      append_decimal(out, from_bits<std::uint32_t>(raw));
      break;
    case FieldDescriptor::TYPE_SFIXED32:
      append_decimal(out, from_bits<std::int32_t>(raw));
      break;
    case FieldDescriptor::TYPE_FIXED64:
      append_quoted(out, from_bits<std::uint64_t>(raw));
      break;
    case FieldDescriptor::TYPE_SFIXED64:
      append_quoted(out, from_bits<std::int64_t>(raw));
      break;
    case FieldDescriptor::TYPE_FLOAT:
      append_float(out, from_bits<float>(raw));
      break;
    case FieldDescriptor::TYPE_DOUBLE:
      append_float(out, from_bits<double>(raw));
      break;
    default:
      break;   // strings, bytes and messages are length-delimited: not scalars
  }
}

bool wire_type_fits(const FieldDescriptor* f, int wire_type) {
  switch (f->type()) {
    case FieldDescriptor::TYPE_STRING:
    case FieldDescriptor::TYPE_BYTES:
    case FieldDescriptor::TYPE_MESSAGE:
      return wire_type == 2;
    case FieldDescriptor::TYPE_FIXED32:
    case FieldDescriptor::TYPE_SFIXED32:
    case FieldDescriptor::TYPE_FLOAT:
      return wire_type == 5 || (wire_type == 2 && f->is_repeated());
    case FieldDescriptor::TYPE_FIXED64:
    case FieldDescriptor::TYPE_SFIXED64:
    case FieldDescriptor::TYPE_DOUBLE:
      return wire_type == 1 || (wire_type == 2 && f->is_repeated());
    case FieldDescriptor::TYPE_GROUP:
      return false;
    default:   // varints
      return wire_type == 0 || (wire_type == 2 && f->is_repeated());
  }
}

bool append_encoded_object(std::string& out, const FieldTable& table, std::string_view bytes, PiiFilter* pii,
                           std::string& scratch, int depth);

/// One length-delimited value of `f`: a string, bytes, a message, or a map entry.
bool append_delimited(std::string& out, const FieldInfo& field, std::string_view payload, PiiFilter* pii, std::string& scratch,
                      int depth) {
  const FieldDescriptor* f = field.f;
  if (field.child != nullptr) return append_encoded_object(out, *field.child, payload, pii, scratch, depth + 1);
  std::string_view v = payload;
  const bool personal = pii != nullptr && field.pii;
  std::string shown;
  if (personal) v = pii->show(v, f->full_name(), shown);
  if (f->type() == FieldDescriptor::TYPE_BYTES && !personal) {
    out += '"';
    append_base64(out, v);
    out += '"';
  } else {
    append_json_string(out, v);
  }
  return true;
}

/// A map entry's key as a JSON object key (always a string).
bool append_map_entry(std::string& out, const FieldDescriptor* f, std::string_view entry, PiiFilter* pii, std::string& scratch,
                      int depth) {
  const auto* key = f->message_type()->map_key();
  const auto* value = f->message_type()->map_value();
  std::string_view key_bytes, value_bytes;
  std::uint64_t key_varint = 0, value_varint = 0;
  bool has_key = false, has_value = false;
  int value_wire = 0;
  const bool ok = log::wire::for_each_field(entry, [&](std::uint32_t n, int t, std::uint64_t v, std::string_view b) {
    if (n == 1) {
      has_key = true;
      key_varint = v;
      key_bytes = b;
    } else if (n == 2) {
      has_value = true;
      value_wire = t;
      value_varint = v;
      value_bytes = b;
    }
    return true;
  });
  if (!ok) return false;
  if (key->cpp_type() == FieldDescriptor::CPPTYPE_STRING) {
    append_json_string(out, has_key ? key_bytes : std::string_view());
  } else {
    std::string k;
    if (has_key) {
      append_scalar(k, key, key_varint, key_bytes);
    } else {
      k = key->cpp_type() == FieldDescriptor::CPPTYPE_BOOL ? "false" : "0";
    }
    if (!k.empty() && k.front() == '"') k = k.substr(1, k.size() - 2);   // 64-bit keys come quoted
    out += '"';
    out += k;
    out += '"';
  }
  out += ':';
  if (!has_value) {
    // The value's default, as the printer shows a map entry whose value is unset.
    switch (value->cpp_type()) {
      case FieldDescriptor::CPPTYPE_STRING: out += "\"\""; break;
      case FieldDescriptor::CPPTYPE_MESSAGE: out += "{}"; break;
      case FieldDescriptor::CPPTYPE_BOOL: out += "false"; break;
      case FieldDescriptor::CPPTYPE_ENUM: append_scalar(out, value, 0, {}); break;
      case FieldDescriptor::CPPTYPE_INT64:
      case FieldDescriptor::CPPTYPE_UINT64: out += "\"0\""; break;
      default: out += '0'; break;
    }
    return true;
  }
  if (value_wire == 2) {
    const FieldInfo info{value, is_pii(value),
                         value->type() == FieldDescriptor::TYPE_MESSAGE ? &table_for(value->message_type()) : nullptr};
    return append_delimited(out, info, value_bytes, pii, scratch, depth);
  }
  append_scalar(out, value, value_varint, value_bytes);
  return true;
}

/// The values of one packed repeated scalar field, comma-separated.
bool append_packed(std::string& out, const FieldDescriptor* f, std::string_view payload, bool& first) {
  const int width = f->type() == FieldDescriptor::TYPE_FIXED32 || f->type() == FieldDescriptor::TYPE_SFIXED32 ||
                            f->type() == FieldDescriptor::TYPE_FLOAT
                        ? 4
                    : f->type() == FieldDescriptor::TYPE_FIXED64 || f->type() == FieldDescriptor::TYPE_SFIXED64 ||
                            f->type() == FieldDescriptor::TYPE_DOUBLE
                        ? 8
                        : 0;
  while (!payload.empty()) {
    if (!first) out += ',';
    first = false;
    if (width > 0) {
      if (payload.size() < static_cast<std::size_t>(width)) return false;
      append_scalar(out, f, 0, payload.substr(0, width));
      payload.remove_prefix(width);
    } else {
      std::uint64_t v = 0;
      if (!log::wire::varint(payload, v)) return false;
      append_scalar(out, f, v, {});
    }
  }
  return true;
}

bool append_encoded_object(std::string& out, const FieldTable& table, std::string_view bytes, PiiFilter* pii,
                           std::string& scratch, int depth) {
  if (depth > 64) return false;
  out += '{';
  const FieldDescriptor* open = nullptr;   // the repeated field whose list is open
  bool first_field = true, first_item = true;
  std::uint64_t seen[2] = {0, 0};         // field numbers < 128 printed so far: a repeat means non-canonical bytes
  bool ok = log::wire::for_each_field(bytes, [&](std::uint32_t n, int t, std::uint64_t v, std::string_view b) {
    const FieldInfo* info = table.find(n);
    if (info == nullptr) return true;
    const FieldDescriptor* f = info->f;
    if (!wire_type_fits(f, t)) return false;
    if (f != open) {
      if (open != nullptr) out += open->is_map() ? '}' : ']';
      open = nullptr;
      if (n >= 128) return false;
      if ((seen[n / 64] >> (n % 64)) & 1) return false;   // split list or repeated singular: let the parser merge
      seen[n / 64] |= std::uint64_t{1} << (n % 64);
      if (!first_field) out += ',';
      first_field = false;
      out += '"';
      out += f->name();
      out += "\":";
      if (f->is_repeated()) {
        out += f->is_map() ? '{' : '[';
        open = f;
        first_item = true;
      }
    }
    if (f->is_map()) {
      if (!first_item) out += ',';
      first_item = false;
      return append_map_entry(out, f, b, pii, scratch, depth);
    }
    if (f->is_repeated()) {
      if (t == 2 && f->cpp_type() != FieldDescriptor::CPPTYPE_STRING && f->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE) {
        return append_packed(out, f, b, first_item);
      }
      if (!first_item) out += ',';
      first_item = false;
    }
    if (t == 2) return append_delimited(out, *info, b, pii, scratch, depth);
    append_scalar(out, f, v, b);
    return true;
  });
  if (open != nullptr) out += open->is_map() ? '}' : ']';
  out += '}';
  return ok;
}

}  // namespace

namespace {

/// Whether any of the 8 bytes in `w` is a control character, a quote or a backslash: what JSON escapes.
/// (The classic "has a byte less than n" and "has a zero byte" bit tricks; exact, no false positives
/// that matter, since a hit is only where the byte loop looks.)
bool needs_escape(std::uint64_t w) {
  constexpr std::uint64_t kOnes = 0x0101010101010101ULL;
  constexpr std::uint64_t kHigh = 0x8080808080808080ULL;
  const std::uint64_t quote = w ^ (kOnes * '"');
  const std::uint64_t backslash = w ^ (kOnes * '\\');
  const std::uint64_t control = (w - kOnes * 0x20) & ~w;
  return (((quote - kOnes) & ~quote) | ((backslash - kOnes) & ~backslash) | control) & kHigh;
}

}  // namespace

void append_json_string(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  std::size_t run = 0;   // start of the pending run of characters that need no escape
  for (std::size_t i = 0; i < s.size(); ++i) {
    // Text is mostly free of anything to escape: skip it eight bytes at a time.
    while (i + 8 <= s.size()) {
      std::uint64_t w;
      std::memcpy(&w, s.data() + i, sizeof w);
      if (needs_escape(w)) break;
      i += 8;
    }
    if (i == s.size()) break;
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

bool append_encoded_json(std::string& out, const google::protobuf::Descriptor* type, std::string_view bytes, PiiFilter* pii) {
  std::string scratch;
  const std::size_t at = out.size();
  if (append_encoded_object(out, table_for(type), bytes, pii, scratch, 0)) return true;
  // Not canonical (a list split by other fields, a singular field twice) or not well-formed: the
  // parser decides what the bytes mean, as it would for any reader.
  out.resize(at);
  const google::protobuf::Message* prototype = google::protobuf::MessageFactory::generated_factory()->GetPrototype(type);
  std::unique_ptr<google::protobuf::Message> m(prototype->New());
  if (m->ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    append_object(out, *m, pii, scratch);
    return true;
  }
  out += "null";
  return false;
}

}  // namespace gridhub::audit::detail
