// libFuzzer target: decode_text and the UTF-8 checks. The first byte picks the declared encoding,
// the rest is the file.

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_support.hpp"
#include "gridhub/text/phone.hpp"
#include "gridhub/text/text_decode.hpp"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  gridhub::fuzz::init();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace gridhub::text;
  static constexpr std::array<std::string_view, 6> kEncodings = {"auto", "utf-8", "gb18030", "GBK", "utf8", "latin1"};
  if (size == 0) return 0;
  const std::string_view encoding = kEncodings[data[0] % kEncodings.size()];
  const std::string_view bytes = gridhub::fuzz::as_view(data + 1, size - 1);

  const std::size_t bad = find_invalid_utf8(bytes);
  GRIDHUB_FUZZ_CHECK(is_valid_utf8(bytes) == (bad == std::string_view::npos),
                     "is_valid_utf8 agrees with find_invalid_utf8");
  GRIDHUB_FUZZ_CHECK(bad == std::string_view::npos || bad < bytes.size(), "find_invalid_utf8 offset in range");
  if (bad != std::string_view::npos) {
    GRIDHUB_FUZZ_CHECK(is_valid_utf8(bytes.substr(0, bad)) || bytes.substr(0, bad).empty(),
                       "the bytes before the first invalid one are valid UTF-8");
  }

  auto decoded = decode_text(bytes, encoding);
  if (decoded) {
    GRIDHUB_FUZZ_CHECK(is_valid_utf8(decoded->utf8), "decode_text returns valid UTF-8");
    GRIDHUB_FUZZ_CHECK(decoded->encoding_used == "utf-8" || decoded->encoding_used == "gb18030",
                       "encoding_used is utf-8 or gb18030");
    if (decoded->encoding_used == "utf-8") {
      const std::string_view body = decoded->had_bom ? bytes.substr(3) : bytes;
      GRIDHUB_FUZZ_CHECK(decoded->utf8 == body, "UTF-8 input comes back unchanged, minus its BOM");
    }
    (void)normalize_phone(decoded->utf8);
  }
  (void)normalize_phone(bytes);
  return 0;
}
