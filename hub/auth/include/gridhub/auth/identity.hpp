#pragma once
/// Who a peer is: an identity from the identities file (docs/access-control.md), its role and the
/// codes (assignee / community / grid) it acts for.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gridhub::auth {

enum class Role {
  kAdapter,      // submits events on the ingest endpoint; receives nothing
  kGridWorker,   // tickets of its grids (and tickets assigned to it)
  kCommunity,    // tickets of its communities (and tickets assigned to it)
  kDepartment,   // tickets assigned to it, now or before
  kCenter,       // the 12345 centre: everything (manual dispatch)
  kAuditor,      // everything, read-only
  kOperator,     // everything, and control requests (status, reload)
};

/// The one table of roles: its name in config and on the wire, and what it implies.
struct RoleInfo {
  Role role;
  std::string_view name;
  bool sees_everything;   // every ticket and the records that made none
  bool default_pii;       // may see reporters' personal data unless the identity says otherwise
};

inline constexpr RoleInfo kRoles[] = {
    {Role::kAdapter, "adapter", false, false},
    {Role::kGridWorker, "grid_worker", false, true},
    {Role::kCommunity, "community", false, true},
    {Role::kDepartment, "department", false, true},
    {Role::kCenter, "center", true, true},
    {Role::kAuditor, "auditor", true, false},
    {Role::kOperator, "operator", true, false},
};

/// The row of `role` (every enumerator has one: checked at compile time in identity.cpp).
const RoleInfo& role_info(Role role);
inline std::string_view role_name(Role role) { return role_info(role).name; }
std::optional<Role> parse_role(std::string_view name);
/// "adapter, grid_worker, ..." for error messages.
std::string role_names();

struct Identity {
  std::string name;                // unique; the ZAP User-Id and the name subscribers see in Subscribed
  Role role = Role::kAdapter;
  std::vector<std::string> codes;  // assignee / community / grid codes this identity acts for
  bool pii = false;                // may see personal data (default: by role)
  std::string public_key;          // CURVE public key, Z85 (40 characters)
};

/// The identity every peer has when security is off (a single trusted machine): full rights.
const Identity& local_operator();

}  // namespace gridhub::auth
