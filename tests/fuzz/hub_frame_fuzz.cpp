// libFuzzer target: what the hub's ingest endpoint does with one frame from an adapter, up to the
// event log: parse_bounded into AdapterToHub, then for a Submit validate_event and ticket_from_event
// (IngestServer::handle without sockets or storage).

#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_support.hpp"
#include "gridhub/core/normalizer.hpp"
#include "gridhub/transport/frames.hpp"
#include "gridhub/v1/wire.pb.h"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  gridhub::fuzz::init();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static constexpr std::size_t kMaxFrameBytes = 1 << 20;  // hub.toml's ingest.max_frame_bytes default
  static const gridhub::core::EventLimits limits;
  gridhub::v1::AdapterToHub in;
  if (!gridhub::transport::parse_bounded(data, size, kMaxFrameBytes, in)) return 0;
  if (in.msg_case() != gridhub::v1::AdapterToHub::kSubmit) return 0;
  gridhub::v1::Event* ev = in.mutable_submit()->mutable_event();
  ev->DiscardUnknownFields();
  auto status = gridhub::core::validate_event(*ev, limits);
  std::string stored;
  if (!status) {
    // The dead letter stores the event's bytes and the reason.
    stored = ev->SerializeAsString() + status.error().detail;
    return 0;
  }
  const auto ticket = gridhub::core::ticket_from_event(*ev);
  GRIDHUB_FUZZ_CHECK(ticket.SerializeToString(&stored), "the ticket serializes");
  gridhub::v1::Ticket back;
  GRIDHUB_FUZZ_CHECK(back.ParseFromString(stored), "a ticket built from an accepted event parses back");
  return 0;
}
