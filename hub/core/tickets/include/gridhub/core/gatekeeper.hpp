#pragma once
/// Who a stream peer is and what it may see and change: the seam between the stream endpoint and access
/// control. The stream server asks; it never decides entitlement itself, whatever a subscriber's filter says.

#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "gridhub/auth/entitlement.hpp"
#include "gridhub/auth/security.hpp"
#include "gridhub/transport/frames.hpp"
#include "gridhub/v1/ticket.pb.h"

namespace gridhub::core {

/// A peer as the hub knows it. Opaque to the stream server beyond these fields.
struct Principal {
  std::string name;       // identity name (logged, stored with cursors and updates)
  std::string role;       // "department", "community", "grid_worker", "center", "auditor", "operator", ...
  bool pii = false;       // may read reporters' personal data unmasked
  bool all = false;       // may see every record (auditors, the centre, the operator): no per-record check
  bool subscribe = true;  // may open streams at all (adapters may not)
  const void* handle = nullptr;   // the gatekeeper's own reference to the identity behind it
};

class Gatekeeper {
 public:
  virtual ~Gatekeeper() = default;
  /// The peer behind a message (its authenticated identity, if security is on); `claimed` is the
  /// subscription name it asked for. Null: refuse the peer.
  virtual std::shared_ptr<const Principal> identify(const transport::RouterMessage& msg, std::string_view claimed) const = 0;
  /// May this principal receive a record leaving `ticket` in this state (null: a record that made no ticket)?
  /// The ticket may hold only the fields decision_fields() names.
  virtual bool may_see(const Principal& who, const gridhub::v1::Ticket* ticket) const = 0;
  /// The names of the ticket fields may_see reads: the stream parses no others from a record.
  virtual std::vector<std::string_view> decision_fields() const = 0;
  /// May it report on this ticket now (accept, note, resolve, return, extend)? Must be thread-safe: the
  /// writer thread asks, against the ticket's state at that point in the log.
  virtual bool may_update(const Principal& who, const gridhub::v1::Ticket& ticket) const = 0;
};

/// The hub's gatekeeper: identities and entitlement from [security] (hub/auth). With security off,
/// every peer is the local operator unless its subscription name claims a configured identity (for
/// trying out what a department would see on a trusted machine; not authentication).
class SecurityGatekeeper final : public Gatekeeper {
 public:
  explicit SecurityGatekeeper(const auth::Security& security) : security_(security) {}
  std::shared_ptr<const Principal> identify(const transport::RouterMessage& msg, std::string_view claimed) const override;
  bool may_see(const Principal& who, const gridhub::v1::Ticket* ticket) const override;
  std::vector<std::string_view> decision_fields() const override {
    return {auth::kEntitlementFields.begin(), auth::kEntitlementFields.end()};
  }
  /// The centre and the operator may report on any ticket; others only on tickets now assigned to one of
  /// their codes; auditors on none.
  bool may_update(const Principal& who, const gridhub::v1::Ticket& ticket) const override;

 private:
  const auth::Security& security_;
  mutable std::unordered_map<const auth::Identity*, std::shared_ptr<const Principal>> principals_;  // io thread only
};

}  // namespace gridhub::core
