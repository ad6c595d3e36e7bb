#include "gridhub/auth/identity.hpp"

#include <algorithm>
#include <cstddef>
#include <iterator>

namespace gridhub::auth {

namespace {

// kRoles is indexed by the enumerator: its order must follow the enum.
constexpr bool roles_in_enum_order() {
  for (std::size_t i = 0; i < std::size(kRoles); ++i) {
    if (static_cast<std::size_t>(kRoles[i].role) != i) return false;
  }
  return true;
}
static_assert(roles_in_enum_order(), "kRoles must list every Role once, in enum order");
static_assert(std::size(kRoles) == static_cast<std::size_t>(Role::kOperator) + 1, "a Role has no row in kRoles");

}  // namespace

const RoleInfo& role_info(Role role) { return kRoles[static_cast<std::size_t>(role)]; }

std::optional<Role> parse_role(std::string_view name) {
  auto it = std::find_if(std::begin(kRoles), std::end(kRoles), [&](const RoleInfo& r) { return r.name == name; });
  if (it == std::end(kRoles)) return std::nullopt;
  return it->role;
}

std::string role_names() {
  std::string out;
  for (const auto& r : kRoles) {
    if (!out.empty()) out += ", ";
    out += r.name;
  }
  return out;
}

const Identity& local_operator() {
  // Off mode trusts everyone on the machine, as the hub did before access control existed.
  static const Identity id{"local-operator", Role::kOperator, {}, true, {}};
  return id;
}

}  // namespace gridhub::auth
