// libFuzzer target: one jinshuju webhook body, mapped with the Wugong deployment's field map.
//
// The field map is read once from GRIDHUB_FUZZ_FIELD_MAP, else from the source tree's
// examples/wugong/webform/field_map.json.

#include <cstddef>
#include <cstdint>
#include <fstream>
#include <optional>
#include <sstream>

#include "fuzz_support.hpp"
#include "gridhub/webform/jinshuju.hpp"

namespace {

std::optional<gridhub::webform::FieldMap> g_field_map;

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  gridhub::fuzz::init();
  const char* env = std::getenv("GRIDHUB_FUZZ_FIELD_MAP");
  const std::string path = env != nullptr ? env : GRIDHUB_SOURCE_DIR "/examples/wugong/webform/field_map.json";
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  auto map = gridhub::webform::FieldMap::from_json(text.str(), path);
  if (!in || !map) {
    std::fprintf(stderr, "webform_jinshuju_fuzz: cannot load the field map %s: %s\n", path.c_str(),
                 map ? "unreadable" : map.error().detail.c_str());
    std::exit(2);
  }
  g_field_map = std::move(*map);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const gridhub::webform::JinshujuOptions options{"webform-fuzz"};
  const auto ke = gridhub::webform::parse_jinshuju_push(gridhub::fuzz::as_view(data, size), *g_field_map,
                                                        "POST /jinshuju", 0, options);
  gridhub::fuzz::check_crosses_wire(ke.event);
  return 0;
}
