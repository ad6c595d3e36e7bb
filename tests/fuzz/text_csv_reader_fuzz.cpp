// libFuzzer target: the RFC 4180 CsvReader.

#include <cstddef>
#include <cstdint>
#include <functional>

#include "fuzz_support.hpp"
#include "gridhub/text/csv_reader.hpp"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  gridhub::fuzz::init();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = gridhub::fuzz::as_view(data, size);
  gridhub::text::CsvReader reader(text);
  gridhub::text::CsvRecord rec;
  std::size_t last_line = 0;
  const char* last_end = text.data();
  std::size_t records = 0;
  while (reader.next(rec)) {
    ++records;
    GRIDHUB_FUZZ_CHECK(records <= size, "at most one record per input byte (the reader makes progress)");
    GRIDHUB_FUZZ_CHECK(rec.line > last_line, "record lines increase");
    GRIDHUB_FUZZ_CHECK(std::less_equal<>()(last_end, rec.raw.data()) &&
                           std::less_equal<>()(rec.raw.data() + rec.raw.size(), text.data() + text.size()),
                       "raw lies inside the text, after the previous record");
    GRIDHUB_FUZZ_CHECK(rec.error || !rec.fields.empty(), "a good record has at least one field");
    std::size_t field_bytes = 0;
    for (const auto& f : rec.fields) field_bytes += f.size();
    GRIDHUB_FUZZ_CHECK(field_bytes <= rec.raw.size(), "unquoted fields are no longer than the record's text");
    last_line = rec.line;
    last_end = rec.raw.data() + rec.raw.size();
  }
  GRIDHUB_FUZZ_CHECK(rec.fields.empty(), "at the end the record is left cleared");
  return 0;
}
