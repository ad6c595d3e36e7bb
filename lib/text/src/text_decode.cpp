#include "gridhub/text/text_decode.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <unicode/ucnv.h>
#include <unicode/ucnv_err.h>
#include <unicode/utf16.h>
#include <unicode/utf8.h>

namespace gridhub::text {
namespace {

constexpr std::string_view kUtf8Bom = "\xEF\xBB\xBF";
constexpr char16_t kBomCodeUnit = 0xFEFF;

/// Length of the valid UTF-8 sequence starting at `i`, or 0 if it is invalid (Unicode Table 3-7).
std::size_t utf8_sequence_length(std::string_view s, std::size_t i) noexcept {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char b0 = byte(i);
  if (b0 < 0x80) return 1;
  std::size_t len = 0;
  unsigned char lo = 0x80;
  unsigned char hi = 0xBF;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    len = 2;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    len = 3;
    if (b0 == 0xE0) lo = 0xA0;        // overlong
    if (b0 == 0xED) hi = 0x9F;        // UTF-16 surrogates
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    len = 4;
    if (b0 == 0xF0) lo = 0x90;        // overlong
    if (b0 == 0xF4) hi = 0x8F;        // above U+10FFFF
  } else {
    return 0;
  }
  if (s.size() - i < len) return 0;
  const unsigned char b1 = byte(i + 1);
  if (b1 < lo || b1 > hi) return 0;
  for (std::size_t k = 2; k < len; ++k) {
    const unsigned char b = byte(i + k);
    if (b < 0x80 || b > 0xBF) return 0;
  }
  return len;
}

std::string lower_ascii(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string hex_bytes(std::string_view bytes, std::size_t offset, std::size_t count) {
  std::string out;
  for (std::size_t k = offset; k < bytes.size() && k < offset + count; ++k) {
    if (!out.empty()) out += ' ';
    out += fmt::format("0x{:02X}", static_cast<unsigned char>(bytes[k]));
  }
  return out;
}

Result<DecodedText> decode_utf8(std::string_view bytes) {
  DecodedText out;
  out.encoding_used = "utf-8";
  std::size_t base = 0;
  if (bytes.starts_with(kUtf8Bom)) {
    out.had_bom = true;
    base = kUtf8Bom.size();
  }
  const std::string_view body = bytes.substr(base);
  if (const std::size_t bad = find_invalid_utf8(body); bad != std::string_view::npos) {
    return Error(Errc::decode_failed,
                 fmt::format("not valid UTF-8 at byte offset {} ({})", base + bad, hex_bytes(bytes, base + bad, 4)));
  }
  out.utf8.assign(body);
  return out;
}

struct ConverterCloser {
  void operator()(UConverter* c) const noexcept { ucnv_close(c); }
};

Result<DecodedText> decode_gb18030(std::string_view bytes) {
  UErrorCode status = U_ZERO_ERROR;
  std::unique_ptr<UConverter, ConverterCloser> conv(ucnv_open("gb18030", &status));
  if (U_FAILURE(status)) {
    return Error(Errc::decode_failed, fmt::format("ICU has no gb18030 converter ({})", u_errorName(status)));
  }
  // STOP instead of ICU's default substitution: a silently replaced character in a name or
  // address is worse than a clear error the operator can act on.
  ucnv_setToUCallBack(conv.get(), UCNV_TO_U_CALLBACK_STOP, nullptr, nullptr, nullptr, &status);
  if (U_FAILURE(status)) {
    return Error(Errc::decode_failed, fmt::format("cannot configure gb18030 converter ({})", u_errorName(status)));
  }

  // Every GB18030 sequence (1, 2 or 4 bytes) yields at most 2 UTF-16 units, never more than its
  // byte count, so one buffer of bytes.size() units holds the whole text. ucnv_toUnicode rather
  // than ucnv_toUChars: it leaves the source pointer at the failure, which gives the byte offset.
  std::vector<UChar> units(bytes.size() + 1);
  const char* src = bytes.data();
  const char* const src_begin = src;
  const char* const src_end = bytes.data() + bytes.size();
  UChar* dst = units.data();
  ucnv_toUnicode(conv.get(), &dst, units.data() + units.size(), &src, src_end, nullptr, /*flush=*/true,
                 &status);
  if (U_FAILURE(status)) {
    char invalid[32];
    int8_t invalid_len = sizeof invalid;
    UErrorCode ignored = U_ZERO_ERROR;
    ucnv_getInvalidChars(conv.get(), invalid, &invalid_len, &ignored);
    if (U_FAILURE(ignored)) invalid_len = 0;
    const auto offset = static_cast<std::size_t>(src - src_begin) - static_cast<std::size_t>(invalid_len);
    const char* what = status == U_TRUNCATED_CHAR_FOUND ? "truncated GB18030 sequence" : "not valid GB18030";
    return Error(Errc::decode_failed, fmt::format("{} at byte offset {} ({})", what, offset,
                                                  hex_bytes(bytes, offset, invalid_len > 0 ? invalid_len : 1)));
  }

  DecodedText out;
  out.encoding_used = "gb18030";
  const auto count = static_cast<std::size_t>(dst - units.data());
  std::size_t i = 0;
  if (count > 0 && units[0] == kBomCodeUnit) {  // GB18030's BOM is 84 31 95 33
    out.had_bom = true;
    i = 1;
  }
  out.utf8.reserve(count * 3);
  while (i < count) {
    UChar32 cp = 0;
    U16_NEXT_UNSAFE(units.data(), i, cp);
    char buf[U8_MAX_LENGTH];
    std::size_t n = 0;
    U8_APPEND_UNSAFE(buf, n, cp);
    out.utf8.append(buf, n);
  }
  return out;
}

}  // namespace

std::size_t find_invalid_utf8(std::string_view bytes) noexcept {
  std::size_t i = 0;
  while (i < bytes.size()) {
    // ASCII dominates CSV text; skip it without the table logic.
    if (static_cast<unsigned char>(bytes[i]) < 0x80) {
      ++i;
      continue;
    }
    const std::size_t len = utf8_sequence_length(bytes, i);
    if (len == 0) return i;
    i += len;
  }
  return std::string_view::npos;
}

bool is_valid_utf8(std::string_view bytes) noexcept { return find_invalid_utf8(bytes) == std::string_view::npos; }

Result<DecodedText> decode_text(std::string_view bytes, std::string_view encoding) {
  const std::string enc = lower_ascii(encoding);
  if (enc == "utf-8" || enc == "utf8") return decode_utf8(bytes);
  if (enc == "gb18030" || enc == "gbk") return decode_gb18030(bytes);
  if (enc != "auto") {
    return Error(Errc::bad_value, fmt::format("unknown encoding '{}' (use auto, utf-8 or gb18030)", encoding));
  }
  if (bytes.starts_with(kUtf8Bom) || is_valid_utf8(bytes)) return decode_utf8(bytes);
  auto gb = decode_gb18030(bytes);
  if (!gb.ok()) {
    return Error(Errc::decode_failed,
                 fmt::format("neither UTF-8 (first bad byte at offset {}) nor GB18030: {}", find_invalid_utf8(bytes),
                             gb.error().detail));
  }
  return gb;
}

}  // namespace gridhub::text

namespace gridhub::text {

std::string replace_invalid_utf8(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  while (!bytes.empty()) {
    const std::size_t bad = find_invalid_utf8(bytes);
    if (bad >= bytes.size()) {
      out.append(bytes);
      break;
    }
    out.append(bytes.substr(0, bad));
    out.append("\xEF\xBF\xBD");
    bytes.remove_prefix(bad + 1);   // skip one byte and resynchronise
  }
  return out;
}

}  // namespace gridhub::text
