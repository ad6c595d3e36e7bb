#pragma once
/// Who a stream peer is and what it may see and change: the seam between the stream endpoint and access
/// control. The stream server asks; it never decides entitlement itself, whatever a subscriber's filter says.

#include <memory>
#include <string>
#include <string_view>

#include "gridhub/v1/ticket.pb.h"

namespace gridhub::core {

/// A peer as the hub knows it. Opaque to the stream server beyond these fields.
struct Principal {
  std::string name;       // identity name (logged, stored with cursors and updates)
  std::string role;       // "department", "community", "grid_worker", "center", "auditor", "operator", ...
  bool pii = false;       // may read reporters' personal data unmasked
  bool all = false;       // may see every record (auditors, the centre, the operator): no per-record check
  bool subscribe = true;  // may open streams at all (adapters may not)
};

class Gatekeeper {
 public:
  virtual ~Gatekeeper() = default;
  /// The peer behind a message: `user_id` is the authenticated identity ZeroMQ reports (empty without
  /// security); `claimed` is the subscription name it asked for. Null: refuse the peer.
  virtual std::shared_ptr<const Principal> identify(std::string_view user_id, std::string_view claimed) const = 0;
  /// May this principal receive a record leaving `ticket` in this state (null: a record that made no ticket)?
  virtual bool may_see(const Principal& who, const gridhub::v1::Ticket* ticket) const = 0;
  /// May it report on this ticket now (accept, note, resolve, return, extend)? Must be thread-safe: the
  /// writer thread asks, against the ticket's state at that point in the log.
  virtual bool may_update(const Principal& who, const gridhub::v1::Ticket& ticket) const = 0;
};

/// Security mode "off": every peer is the local operator, who sees and may change everything. For a
/// single trusted machine only (docs/wire-protocol.md, "Security").
class OpenGatekeeper final : public Gatekeeper {
 public:
  std::shared_ptr<const Principal> identify(std::string_view user_id, std::string_view claimed) const override;
  bool may_see(const Principal&, const gridhub::v1::Ticket*) const override { return true; }
  bool may_update(const Principal&, const gridhub::v1::Ticket&) const override { return true; }
};

}  // namespace gridhub::core
