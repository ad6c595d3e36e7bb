#pragma once
/// Reading a message's protobuf encoding field by field without parsing it into objects, for the
/// readers that need a few fields of a record at storage speed: the stream's filters and personal-data
/// opening (pii_vault.hpp), verify's column checks and replay's JSON (gridhub/audit). No allocation;
/// every view points into the input. Groups (unused by gridhub's schemas) count as malformed.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace gridhub::log::wire {

/// Reads a varint from the front of `in`; false if it is cut short or longer than 10 bytes.
inline bool varint(std::string_view& in, std::uint64_t& v) {
  v = 0;
  for (int shift = 0; shift < 64 && !in.empty(); shift += 7) {
    const auto b = static_cast<unsigned char>(in.front());
    in.remove_prefix(1);
    v |= static_cast<std::uint64_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) return true;
  }
  return false;
}

/// Writes `v` as a varint into `buf` (at least 10 bytes); returns the bytes written.
inline std::size_t put_varint(char* buf, std::uint64_t v) {
  std::size_t n = 0;
  while (v >= 0x80) {
    buf[n++] = static_cast<char>((v & 0x7f) | 0x80);
    v >>= 7;
  }
  buf[n++] = static_cast<char>(v);
  return n;
}

/// One encoded field.
struct Field {
  std::uint32_t number = 0;
  int type = 0;                // wire type: 0 varint, 1 fixed64, 2 length-delimited, 5 fixed32
  std::uint64_t value = 0;     // varints; fixed fields: their bits (little-endian); length-delimited: the length
  std::string_view bytes;      // length-delimited: the payload; fixed: the 4 or 8 raw bytes
  std::string_view tag;        // the tag as encoded
  std::string_view whole;      // tag, length and value: the field as encoded
};

/// Reads the field at the front of `in` and moves past it; false at malformed bytes, field 0 or a group.
inline bool next(std::string_view& in, Field& f) {
  const char* const start = in.data();
  std::uint64_t tag = 0;
  if (!varint(in, tag)) return false;
  f.number = static_cast<std::uint32_t>(tag >> 3);
  f.type = static_cast<int>(tag & 7);
  f.tag = std::string_view(start, static_cast<std::size_t>(in.data() - start));
  f.value = 0;
  f.bytes = {};
  switch (f.type) {
    case 0:
      if (!varint(in, f.value)) return false;
      break;
    case 1:
    case 5: {
      const std::size_t width = f.type == 1 ? 8 : 4;
      if (in.size() < width) return false;
      f.bytes = in.substr(0, width);
      for (std::size_t i = 0; i < width; ++i) f.value |= static_cast<std::uint64_t>(static_cast<unsigned char>(in[i])) << (8 * i);
      in.remove_prefix(width);
      break;
    }
    case 2:
      if (!varint(in, f.value) || f.value > in.size()) return false;
      f.bytes = in.substr(0, static_cast<std::size_t>(f.value));
      in.remove_prefix(static_cast<std::size_t>(f.value));
      break;
    default:
      return false;
  }
  f.whole = std::string_view(start, static_cast<std::size_t>(in.data() - start));
  return f.number != 0;
}

/// Calls fn(number, wire_type, value, bytes) for each field of one message, until fn returns false;
/// false if the bytes are malformed or fn refused. `value` is a varint's value or a length; `bytes`
/// a length-delimited payload or a fixed field's raw 4 or 8 bytes. (Leaner than next(): verify's
/// reader calls this on every record.)
template <class Fn>
bool for_each_field(std::string_view in, Fn&& fn) {
  while (!in.empty()) {
    std::uint64_t tag = 0;
    if (!varint(in, tag)) return false;
    const auto number = static_cast<std::uint32_t>(tag >> 3);
    const auto type = static_cast<int>(tag & 7);
    std::uint64_t v = 0;
    std::string_view bytes;
    switch (type) {
      case 0:
        if (!varint(in, v)) return false;
        break;
      case 1:
      case 5: {
        const std::size_t width = type == 1 ? 8 : 4;
        if (in.size() < width) return false;
        bytes = in.substr(0, width);
        in.remove_prefix(width);
        break;
      }
      case 2:
        if (!varint(in, v) || v > in.size()) return false;
        bytes = in.substr(0, static_cast<std::size_t>(v));
        in.remove_prefix(static_cast<std::size_t>(v));
        break;
      default:
        return false;
    }
    if (number == 0 || !fn(number, type, v, bytes)) return false;
  }
  return true;
}

}  // namespace gridhub::log::wire
