#pragma once
// Private: walking a message's protobuf encoding field by field without parsing it into objects, for
// the readers that need only a few fields of a record (pii_vault.cpp, event_log.cpp).

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace gridhub::log::detail {

inline bool read_varint(const char*& p, const char* end, std::uint64_t& v) {
  v = 0;
  for (int shift = 0; shift < 64 && p < end; shift += 7) {
    const auto b = static_cast<unsigned char>(*p++);
    v |= static_cast<std::uint64_t>(b & 0x7F) << shift;
    if ((b & 0x80) == 0) return true;
  }
  return false;
}

/// Writes `v` as a varint into `buf` (at least 10 bytes); returns the bytes written.
inline std::size_t put_varint(char* buf, std::uint64_t v) {
  std::size_t n = 0;
  while (v >= 0x80) {
    buf[n++] = static_cast<char>((v & 0x7F) | 0x80);
    v >>= 7;
  }
  buf[n++] = static_cast<char>(v);
  return n;
}

/// One encoded field.
struct WireField {
  std::uint64_t number = 0;
  int wire_type = 0;
  std::string_view tag;        // the tag's bytes
  std::string_view payload;    // length-delimited fields (wire type 2): the bytes after the length
  std::string_view whole;      // tag, length and value: the field as encoded
};

/// Reads the field at `p` and moves past it. False at malformed bytes or a group (the schemas use none).
inline bool next_field(const char*& p, const char* end, WireField& f) {
  const char* const start = p;
  std::uint64_t tag = 0;
  if (!read_varint(p, end, tag)) return false;
  f.number = tag >> 3;
  f.wire_type = static_cast<int>(tag & 7);
  f.tag = std::string_view(start, static_cast<std::size_t>(p - start));
  f.payload = {};
  switch (f.wire_type) {
    case 0: {
      std::uint64_t ignored = 0;
      if (!read_varint(p, end, ignored)) return false;
      break;
    }
    case 1:
      if (end - p < 8) return false;
      p += 8;
      break;
    case 5:
      if (end - p < 4) return false;
      p += 4;
      break;
    case 2: {
      std::uint64_t len = 0;
      if (!read_varint(p, end, len) || len > static_cast<std::uint64_t>(end - p)) return false;
      f.payload = std::string_view(p, static_cast<std::size_t>(len));
      p += len;
      break;
    }
    default:
      return false;
  }
  f.whole = std::string_view(start, static_cast<std::size_t>(p - start));
  return true;
}

}  // namespace gridhub::log::detail
