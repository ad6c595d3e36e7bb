// libFuzzer target: a 12345 hotline export saved as .xlsx, first sheet.
//
// An input starting with "PK" is the archive itself (fuzzes the ZIP layer); anything else is read
// as the parts format of xlsx_parts.hpp and packed into a valid archive first (fuzzes the
// workbook, styles, shared strings and sheet readers and the column mapping).

#include <cstddef>
#include <cstdint>

#include "fuzz_support.hpp"
#include "gridhub/hotline/xlsx_reader.hpp"
#include "xlsx_parts.hpp"

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
  const std::string_view input = gridhub::fuzz::as_view(data, size);
  std::string packed;
  std::string_view file = input;
  if (input.substr(0, 2) != "PK") {
    packed = gridhub::fuzz::pack_parts(gridhub::fuzz::split_parts(input));
    file = packed;
  }
  auto out = gridhub::hotline::parse_xlsx_export(file, "fuzz.xlsx", options);
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
