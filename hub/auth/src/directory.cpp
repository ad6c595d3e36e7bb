#include "gridhub/auth/directory.hpp"

#include <fmt/format.h>
#include <toml++/toml.h>
#include <fstream>
#include <sstream>

#include "gridhub/transport/curve.hpp"

namespace gridhub::auth {

namespace {

Error bad(const std::string& source, const toml::node& at, std::string_view key, const std::string& why) {
  return Error(Errc::config_invalid, fmt::format("{}:{}: {}: {}", source, at.source().begin.line, key, why));
}

}  // namespace

Result<Directory> Directory::load_file(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return Error(Errc::config_invalid, fmt::format("{}: identities file cannot be read", file.string()));
  std::ostringstream text;
  text << in.rdbuf();
  return parse(text.str(), file.string());
}

Result<Directory> Directory::parse(std::string_view text, const std::string& source) {
  toml::table root;
  try {
    root = toml::parse(text, source);
  } catch (const toml::parse_error& e) {
    return Error(Errc::config_invalid,
                 fmt::format("{}:{}: {}", source, e.source().begin.line, std::string(e.description())));
  }
  Directory d;
  for (const auto& [key, node] : root) {
    if (key.str() != "identity") return bad(source, node, key.str(), "unknown key (expected [[identity]] tables)");
  }
  const toml::node* list_node = root.get("identity");
  if (list_node == nullptr) return d;   // no identities: every key is unknown
  const toml::array* list = list_node->as_array();
  if (list == nullptr) return bad(source, *list_node, "identity", "must be an array of tables ([[identity]])");
  for (const toml::node& entry : *list) {
    const toml::table* t = entry.as_table();
    if (t == nullptr) return bad(source, entry, "identity", "must be a table ([[identity]])");
    Identity id;
    bool have_role = false;
    std::optional<bool> pii;
    for (const auto& [k, v] : *t) {
      const std::string_view key = k.str();
      const std::string path = fmt::format("identity.{}", key);
      if (key == "name") {
        if (!v.is_string() || v.as_string()->get().empty()) return bad(source, v, path, "must be a non-empty string");
        id.name = v.as_string()->get();
      } else if (key == "role") {
        if (!v.is_string()) return bad(source, v, path, "must be a string");
        auto r = parse_role(v.as_string()->get());
        if (!r) return bad(source, v, path, fmt::format("unknown role \"{}\" (one of: {})", v.as_string()->get(), role_names()));
        id.role = *r;
        have_role = true;
      } else if (key == "codes") {
        const toml::array* a = v.as_array();
        if (a == nullptr) return bad(source, v, path, "must be an array of strings");
        for (const auto& c : *a) {
          if (!c.is_string() || c.as_string()->get().empty()) return bad(source, c, path, "must hold non-empty strings");
          id.codes.push_back(c.as_string()->get());
        }
      } else if (key == "pii") {
        if (!v.is_boolean()) return bad(source, v, path, "must be true or false");
        pii = v.as_boolean()->get();
      } else if (key == "public_key") {
        if (!v.is_string() || !transport::is_z85_key(v.as_string()->get())) {
          return bad(source, v, path, "must be a CURVE public key: 40 characters of Z85 (gridhubctl keygen --curve)");
        }
        id.public_key = v.as_string()->get();
      } else {
        return bad(source, v, path, "unknown key (name, role, codes, pii, public_key)");
      }
    }
    if (id.name.empty()) return bad(source, entry, "identity.name", "missing");
    if (!have_role) return bad(source, entry, "identity.role", fmt::format("missing for \"{}\"", id.name));
    if (id.public_key.empty()) return bad(source, entry, "identity.public_key", fmt::format("missing for \"{}\"", id.name));
    id.pii = pii.value_or(role_info(id.role).default_pii);
    if (d.by_name_.count(id.name) != 0) {
      return bad(source, entry, "identity.name", fmt::format("\"{}\" is defined twice", id.name));
    }
    if (auto it = d.by_key_.find(id.public_key); it != d.by_key_.end()) {
      return bad(source, entry, "identity.public_key",
                 fmt::format("\"{}\" has the same key as \"{}\"", id.name, d.identities_[it->second].name));
    }
    d.by_name_.emplace(id.name, d.identities_.size());
    d.by_key_.emplace(id.public_key, d.identities_.size());
    d.identities_.push_back(std::move(id));
  }
  return d;
}

const Identity* Directory::find_by_key(std::string_view public_key_z85) const {
  auto it = by_key_.find(public_key_z85);
  return it == by_key_.end() ? nullptr : &identities_[it->second];
}

const Identity* Directory::find_by_name(std::string_view name) const {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : &identities_[it->second];
}

}  // namespace gridhub::auth
