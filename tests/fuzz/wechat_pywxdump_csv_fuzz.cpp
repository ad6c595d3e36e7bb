// libFuzzer target: a PyWxDump group-chat CSV export (both header variants), and the header
// sniffing gridhub-wechat uses to route a .csv to its parser.

#include <cstddef>
#include <cstdint>

#include "fuzz_support.hpp"
#include "gridhub/wechat/pywxdump.hpp"

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
  const auto bytes = gridhub::fuzz::as_view(data, size);
  (void)gridhub::wechat::detect_chat_csv_format(bytes);
  auto out = gridhub::wechat::parse_pywxdump_csv(bytes, "25867612345@chatroom_0_5000.csv", options);
  if (!out) return 0;
  std::size_t rejected = 0;
  for (const auto& ke : out->events) {
    rejected += ke.event.has_rejection() ? 1 : 0;
    GRIDHUB_FUZZ_CHECK(!ke.record_key.empty(), "every message has a record key");
    GRIDHUB_FUZZ_CHECK(!ke.event.source_key().empty(), "every message has a source key");
    gridhub::fuzz::check_crosses_wire(ke.event);
  }
  GRIDHUB_FUZZ_CHECK(rejected == out->rejected, "rejected counts the events with a rejection");
  return 0;
}
