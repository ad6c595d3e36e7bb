#pragma once
/// What an event may carry to the hub. A rejected record keeps an excerpt of what the source had,
/// once: the first kRejectedExcerptBytes of `original_payload` (cut on a UTF-8 boundary) and no
/// extracted fields — the hub's dead letter keeps only the payload, and a broken record's fields are
/// the same bytes again. An event too large for one hub frame becomes such a rejection
/// (`too_large`), so it is still dead-lettered, findable by its key, instead of refused at the
/// socket and resent for ever.

#include <cstddef>

#include "gridhub/v1/event.pb.h"

namespace gridhub::adapter {

inline constexpr std::size_t kRejectedExcerptBytes = 4096;

/// Bounds `ev` for a hub that takes frames of at most `max_frame_bytes`.
void bound_event(gridhub::v1::Event& ev, std::size_t max_frame_bytes);

}  // namespace gridhub::adapter
