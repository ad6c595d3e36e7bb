// libFuzzer target: one application/x-www-form-urlencoded H5 form post.

#include <cstddef>
#include <cstdint>

#include "fuzz_support.hpp"
#include "gridhub/webform/urlencoded.hpp"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  gridhub::fuzz::init();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const gridhub::webform::UrlencodedOptions options = [] {
    gridhub::webform::UrlencodedOptions o;
    o.adapter_id = "webform-fuzz";
    return o;
  }();
  const auto ke =
      gridhub::webform::parse_urlencoded_post(gridhub::fuzz::as_view(data, size), "POST /h5", "1", options);
  gridhub::fuzz::check_crosses_wire(ke.event);
  return 0;
}
