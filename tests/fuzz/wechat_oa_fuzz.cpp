// libFuzzer target: one WeChat Official Account callback body (plaintext XML).

#include <cstddef>
#include <cstdint>

#include "fuzz_support.hpp"
#include "gridhub/wechat/oa_message.hpp"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  gridhub::fuzz::init();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const gridhub::wechat::OaOptions options = [] {
    gridhub::wechat::OaOptions o;
    o.adapter_id = "wechat-oa-fuzz";
    return o;
  }();
  const auto ke = gridhub::wechat::parse_oa_message(gridhub::fuzz::as_view(data, size), "24500008499865624.xml",
                                                    options);
  gridhub::fuzz::check_crosses_wire(ke.event);
  return 0;
}
