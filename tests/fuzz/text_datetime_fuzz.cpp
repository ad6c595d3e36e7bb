// libFuzzer target: parse_datetime. The first two bytes pick the default UTC offset
// (-14:00 .. +14:00), the rest is the text.

#include <cstddef>
#include <cstdint>

#include "fuzz_support.hpp"
#include "gridhub/text/datetime.hpp"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  gridhub::fuzz::init();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const int offset = static_cast<int>((data[0] << 8 | data[1]) % 1681) - 840;
  auto t = gridhub::text::parse_datetime(gridhub::fuzz::as_view(data + 2, size - 2), offset);
  if (t) {
    GRIDHUB_FUZZ_CHECK(t->utc_offset_minutes >= -24 * 60 && t->utc_offset_minutes <= 24 * 60,
                       "the offset read is within a day");
  }
  return 0;
}
