#pragma once
/// What an identity may see and do — pure functions, enforced by the hub whatever a subscriber's
/// filter asks for (docs/access-control.md).
///
/// | role        | tickets it receives                                                         |
/// |-------------|-----------------------------------------------------------------------------|
/// | auditor, center, operator | every ticket, and the intake records that made no ticket      |
/// | department  | tickets whose current or any past assignee is one of its codes              |
/// | community   | tickets whose community_code is one of its codes, or assigned to it (ever)  |
/// | grid_worker | tickets whose grid_code is one of its codes, or assigned to it (ever)       |
/// | adapter     | nothing                                                                     |

#include <array>
#include <string_view>

#include "gridhub/auth/identity.hpp"
#include "gridhub/v1/ticket.pb.h"

namespace gridhub::auth {

/// May `id` receive this ticket (and the log records about it)? Reads only kEntitlementFields.
bool entitled(const Identity& id, const gridhub::v1::Ticket& ticket);
/// The ticket fields `entitled` reads (a reader deciding many records may parse only these; a test
/// holds this list to the function).
inline constexpr std::array<std::string_view, 4> kEntitlementFields = {"assignee_code", "assignee_history", "community_code",
                                                                       "grid_code"};
/// May `id` receive records that carry no ticket (intake that was not a ticket)?
bool entitled_to_non_tickets(const Identity& id);
/// May `id` see reporters' names and phone numbers unmasked?
inline bool may_see_pii(const Identity& id) { return id.pii; }
/// May `id` submit events on the ingest endpoint?
inline bool may_submit(const Identity& id) { return id.role == Role::kAdapter; }
/// May `id` send control requests (status, reload)?
inline bool may_control(const Identity& id) { return id.role == Role::kOperator; }

}  // namespace gridhub::auth
