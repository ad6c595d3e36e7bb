// libFuzzer target: a MemoTrace group-chat CSV export.

#include <cstddef>
#include <cstdint>

#include "fuzz_support.hpp"
#include "gridhub/wechat/memotrace.hpp"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  gridhub::fuzz::init();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const gridhub::wechat::ExportOptions options = [] {
    gridhub::wechat::ExportOptions o;
    o.adapter_id = "wechat-fuzz";
    return o;
  }();
  auto out = gridhub::wechat::parse_memotrace_csv(gridhub::fuzz::as_view(data, size), "owners_group_A_utf8.csv",
                                                  options);
  if (!out) return 0;
  std::size_t rejected = 0;
  for (const auto& ke : out->events) {
    rejected += ke.event.has_rejection() ? 1 : 0;
    gridhub::fuzz::check_crosses_wire(ke.event);
  }
  GRIDHUB_FUZZ_CHECK(rejected == out->rejected, "rejected counts the events with a rejection");
  return 0;
}
