#pragma once
/// Turning the bytes of an exported file into UTF-8 text.
///
/// Chinese government exports arrive as UTF-8 (with or without a BOM) or as GB18030 from Excel's
/// "CSV" save on a Chinese Windows. GB18030 is a superset of GBK: rare name characters such as 䶮 and
/// 𠮷 are 4-byte sequences, so decoding as GBK would lose exactly the names residents care about.

#include <cstddef>
#include <string>
#include <string_view>

#include "gridhub/common/result.hpp"

namespace gridhub::text {

struct DecodedText {
  std::string utf8;            // the text, without any byte-order mark
  std::string encoding_used;   // "utf-8" or "gb18030"
  bool had_bom = false;        // a byte-order mark was present and stripped
};

/// Strict UTF-8 check: rejects overlong forms, surrogates, code points above U+10FFFF and
/// truncated sequences.
bool is_valid_utf8(std::string_view bytes) noexcept;

/// `bytes` with every invalid UTF-8 sequence replaced by U+FFFD (valid input comes back unchanged).
std::string replace_invalid_utf8(std::string_view bytes);

/// Byte offset of the first byte that is not part of a valid UTF-8 sequence, or
/// std::string_view::npos when the whole input is valid.
std::size_t find_invalid_utf8(std::string_view bytes) noexcept;

/// Decodes `bytes` to UTF-8. `encoding` is "auto", "utf-8" or "gb18030" (case-insensitive;
/// "utf8" and "gbk" are accepted as aliases, GBK being a subset of GB18030).
///
/// "auto": a UTF-8 BOM means UTF-8; otherwise valid UTF-8 is taken as UTF-8, and anything else is
/// decoded as GB18030. Undecodable input is Errc::decode_failed whose detail names the byte offset;
/// an unknown `encoding` is Errc::bad_value.
Result<DecodedText> decode_text(std::string_view bytes, std::string_view encoding);

}  // namespace gridhub::text
