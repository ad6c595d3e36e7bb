#include "gridhub/adapter/event_bounds.hpp"

#include <fmt/format.h>

namespace gridhub::adapter {

void bound_event(gridhub::v1::Event& ev, std::size_t max_frame_bytes) {
  // The Submit around the event: correlation id, tags and lengths.
  constexpr std::size_t kEnvelopeBytes = 32;
  if (!ev.has_rejection()) {
    const std::size_t size = ev.ByteSizeLong();
    if (size + kEnvelopeBytes <= max_frame_bytes) return;
    auto* r = ev.mutable_rejection();
    r->set_reason_code("too_large");
    r->set_detail(fmt::format("the record is {} bytes encoded, over the hub's frame limit of {} bytes", size,
                              max_frame_bytes));
    r->set_location(ev.source_name());
  }
  ev.clear_fields();
  std::string& payload = *ev.mutable_original_payload();
  if (payload.size() <= kRejectedExcerptBytes) return;
  const std::size_t whole = payload.size();
  std::size_t cut = kRejectedExcerptBytes;
  while (cut > 0 && (static_cast<unsigned char>(payload[cut]) & 0xC0) == 0x80) --cut;  // not inside a UTF-8 sequence
  payload.resize(cut);
  auto* r = ev.mutable_rejection();
  r->set_detail(fmt::format("{} (the dead letter keeps the first {} of the record's {} bytes)", r->detail(), cut, whole));
}

}  // namespace gridhub::adapter
