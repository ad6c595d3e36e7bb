#pragma once
/// `gridhubctl state`: what tickets looked like at a past moment, computed from the log alone
/// (docs/audit.md). The `tickets` projection holds only the present; this answers "what did the hub
/// know at T?" without trusting it.

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "gridhub/common/progress.hpp"
#include "gridhub/common/result.hpp"
#include "gridhub/v1/ticket.pb.h"

namespace gridhub::audit {

struct TicketAsOf {
  std::string ticket_id;
  std::uint64_t last_seq = 0;   // the last record at or before T that changed the ticket; 0: it did not exist yet
  gridhub::v1::Ticket ticket;
};

/// Applies every record with recorded_at <= as_of in seq order, by the projection's rule
/// (log::projection_step): NEW_TICKET creates its ticket; a merged report, an update (accept, note,
/// resolve, return, extend), an escalation and an erasure each replace the ticket's state. Returns the tickets sorted by id; with `only` non-empty, just
/// those (in the order given, a ticket that did not exist yet with last_seq 0). Memory: the tickets
/// kept, never the log.
Result<std::vector<TicketAsOf>> state_as_of(const std::filesystem::path& db_file, std::int64_t as_of_micros,
                                            const std::vector<std::string>& only = {}, Progress* progress = nullptr);

/// One JSON line per ticket: {"ticket_id","as_of","last_seq","ticket"}; "ticket":null for a named
/// ticket that did not exist at T. Personal data masked unless `show_pii`.
Result<std::uint64_t> write_state(const std::filesystem::path& db_file, std::int64_t as_of_micros,
                                  const std::vector<std::string>& only, bool show_pii, std::FILE* out,
                                  Progress* progress = nullptr);

}  // namespace gridhub::audit
