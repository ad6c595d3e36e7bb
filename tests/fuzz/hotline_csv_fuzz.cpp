// libFuzzer target: a 12345 hotline CSV export (any bytes: UTF-8 or GB18030 as "auto" decides).

#include <cstddef>
#include <cstdint>

#include "fuzz_support.hpp"
#include "gridhub/hotline/hotline_mapping.hpp"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  gridhub::fuzz::init();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const gridhub::hotline::ParseOptions options = [] {
    gridhub::hotline::ParseOptions o;
    o.adapter_id = "hotline-fuzz";
    return o;
  }();
  auto out = gridhub::hotline::parse_export(gridhub::fuzz::as_view(data, size), "fuzz.csv", options);
  if (!out) return 0;
  GRIDHUB_FUZZ_CHECK(out->events.size() == out->data_rows, "one event per data row");
  std::size_t rejected = 0;
  for (const auto& ev : out->events) {
    rejected += ev.has_rejection() ? 1 : 0;
    gridhub::fuzz::check_crosses_wire(ev);
  }
  GRIDHUB_FUZZ_CHECK(rejected == out->rejected_rows, "rejected_rows counts the events with a rejection");
  return 0;
}
