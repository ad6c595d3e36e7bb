#pragma once
/// Turns an intake event into the ticket it creates. This is the fixed first stage of the pipeline;
/// resolution, classification, merging and routing plugins run after it.

#include "gridhub/common/result.hpp"
#include "gridhub/v1/event.pb.h"
#include "gridhub/v1/ticket.pb.h"

namespace gridhub::core {

struct EventLimits {
  std::size_t max_key_bytes = 256;
  std::size_t max_text_bytes = 64 * 1024;
};

/// Checks what every stored event must have; the error names the field.
Status validate_event(const gridhub::v1::Event& event, const EventLimits& limits);

/// The ticket an accepted event creates (status NEW; id and seq are set by the log).
gridhub::v1::Ticket ticket_from_event(const gridhub::v1::Event& event);

}  // namespace gridhub::core
