// libFuzzer target: one multipart/form-data post as `gridhub-webform serve` reads it. The input's
// first line is the request's Content-Type (so boundaries and charsets are fuzzed too), the rest
// the body. Properties: parts are views inside the body; every text field that decodes maps into
// an Event that crosses the wire.

#include <cstddef>
#include <cstdint>

#include "fuzz_support.hpp"
#include "gridhub/webform/multipart.hpp"
#include "gridhub/webform/photo_store.hpp"
#include "gridhub/webform/urlencoded.hpp"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  gridhub::fuzz::init();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace wf = gridhub::webform;
  const std::string_view input = gridhub::fuzz::as_view(data, size);
  const std::size_t nl = input.find('\n');
  if (nl == std::string_view::npos) return 0;
  const std::string_view content_type = input.substr(0, nl);
  const std::string_view body = input.substr(nl + 1);
  auto boundary = wf::multipart_boundary(content_type);
  if (!boundary) return 0;
  auto parts = wf::parse_multipart(body, boundary.value(), 16);
  if (!parts) return 0;
  GRIDHUB_FUZZ_CHECK(parts->size() <= 16, "the part limit holds");
  std::string charset = wf::content_type_param(content_type, "charset");
  for (const auto& p : parts.value()) {
    GRIDHUB_FUZZ_CHECK(p.data.empty() || (p.data.data() >= body.data() && p.data.data() + p.data.size() <= body.data() + body.size()),
                       "a part's data lies inside the body");
    if (!p.has_filename && p.name == "_charset_") charset = std::string(p.data);
  }
  std::string_view encoding = wf::form_text_encoding(charset);
  if (encoding.empty()) encoding = "utf-8";
  gridhub::v1::Event event;
  event.set_channel(gridhub::v1::CHANNEL_WEBFORM);
  event.set_source_key("fuzz");
  std::vector<wf::FormPair> pairs;
  for (const auto& p : parts.value()) {
    if (p.has_filename) {
      (void)wf::sniff_image(p.data);
      continue;
    }
    auto name = wf::decode_form_text(p.name, encoding);
    auto value = wf::decode_form_text(p.data, encoding);
    if (name && value) pairs.push_back({std::move(name.value()), std::move(value.value())});
  }
  wf::UrlencodedOptions options;
  options.now_micros = 1718000000000000;
  wf::map_form_fields(pairs, event, "POST /form", options);
  gridhub::fuzz::check_crosses_wire(event);
  return 0;
}
