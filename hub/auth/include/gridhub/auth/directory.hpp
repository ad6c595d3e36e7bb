#pragma once
/// The identities file: every key the hub accepts, who it belongs to and in which role.
///
/// ```toml
/// [[identity]]
/// name = "cgj"                      # unique; what logs and Subscribed name
/// role = "department"               # adapter | grid_worker | community | department | center | auditor | operator
/// codes = ["CTY_CGJ"]               # assignee / community / grid codes it acts for
/// pii = true                        # optional; default by role (see identity.hpp kRoles)
/// public_key = "Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID"   # CURVE public key, Z85
/// ```
///
/// Loading validates everything and names file:line:key on the first problem: an unknown key or
/// role, a duplicate name or public key, a key that is not 40 characters of Z85.

#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "gridhub/auth/identity.hpp"
#include "gridhub/common/result.hpp"

namespace gridhub::auth {

class Directory {
 public:
  Directory() = default;

  static Result<Directory> load_file(const std::filesystem::path& file);
  /// `source_name` is what errors call the text (normally the file name).
  static Result<Directory> parse(std::string_view text, const std::string& source_name);

  /// The identity holding this CURVE public key (Z85), or null.
  const Identity* find_by_key(std::string_view public_key_z85) const;
  /// The identity with this name, or null.
  const Identity* find_by_name(std::string_view name) const;

  const std::vector<Identity>& identities() const { return identities_; }
  std::size_t size() const { return identities_.size(); }

 private:
  std::vector<Identity> identities_;
  std::map<std::string, std::size_t, std::less<>> by_key_;
  std::map<std::string, std::size_t, std::less<>> by_name_;
};

}  // namespace gridhub::auth
