#include "gridhub/core/normalizer.hpp"

#include <fmt/format.h>

#include "gridhub/common/public_reference.hpp"

namespace gridhub::core {

Status validate_event(const gridhub::v1::Event& event, const EventLimits& limits) {
  using gridhub::v1::Channel_IsValid;
  if (event.channel() == gridhub::v1::CHANNEL_UNSPECIFIED || !Channel_IsValid(event.channel())) {
    return Error(Errc::invalid_event, fmt::format("event.channel: {} is not a known channel", static_cast<int>(event.channel())));
  }
  if (event.source_key().empty()) return Error(Errc::invalid_event, "event.source_key: empty");
  if (event.source_key().size() > limits.max_key_bytes) {
    return Error(Errc::invalid_event,
                 fmt::format("event.source_key: {} bytes, limit {}", event.source_key().size(), limits.max_key_bytes));
  }
  if (event.adapter_id().empty()) return Error(Errc::invalid_event, "event.adapter_id: empty");
  if (event.fields().text().size() > limits.max_text_bytes) {
    return Error(Errc::invalid_event,
                 fmt::format("event.fields.text: {} bytes, limit {}", event.fields().text().size(), limits.max_text_bytes));
  }
  // No text is allowed: stickers, photos and location pings are records too. The classifier says
  // they are not tickets; the log keeps them.
  return Ok{};
}

gridhub::v1::Ticket ticket_from_event(const gridhub::v1::Event& event) {
  gridhub::v1::Ticket t;
  const auto& f = event.fields();
  t.mutable_reporter()->set_name(f.reporter_name());
  t.mutable_reporter()->set_phone(f.reporter_phone());
  t.set_text(f.text());
  t.mutable_location()->set_address_text(f.address_text());
  if (f.has_location()) *t.mutable_location()->mutable_point() = f.location();
  if (f.has_reported_at()) *t.mutable_reported_at() = f.reported_at();
  t.set_category_hint(f.category_hint());
  t.set_request_kind(f.request_kind());
  t.set_status(gridhub::v1::TICKET_STATUS_NEW);
  auto* p = t.add_provenance();
  p->set_channel(event.channel());
  p->set_adapter_id(event.adapter_id());
  p->set_source_key(event.source_key());
  p->set_source_name(event.source_name());
  if (event.has_received_at()) *p->mutable_received_at() = event.received_at();
  t.add_references(public_reference(event.channel(), event.source_key()));
  return t;
}

}  // namespace gridhub::core
