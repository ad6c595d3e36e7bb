#include "gridhub/common/config.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <sstream>

namespace gridhub::config {
namespace {

std::string type_name(Type t) {
  switch (t) {
    case Type::kString: return "a string";
    case Type::kInteger: return "an integer";
    case Type::kBoolean: return "a boolean";
    case Type::kFloat: return "a number";
    case Type::kStringArray: return "an array of strings";
    case Type::kStringMap: return "a table of strings";
    case Type::kTable: return "a table";
  }
  return "?";
}

bool matches(const toml::node& node, Type t) {
  switch (t) {
    case Type::kString: return node.is_string();
    case Type::kInteger: return node.is_integer();
    case Type::kBoolean: return node.is_boolean();
    case Type::kFloat: return node.is_floating_point() || node.is_integer();
    case Type::kStringArray: {
      const auto* arr = node.as_array();
      return arr != nullptr && std::all_of(arr->begin(), arr->end(), [](const toml::node& n) { return n.is_string(); });
    }
    case Type::kTable: return node.is_table();
    case Type::kStringMap: {
      const auto* tbl = node.as_table();
      if (tbl == nullptr) return false;
      for (const auto& [k, v] : *tbl) {
        if (!v.is_string()) return false;
      }
      return true;
    }
  }
  return false;
}

std::string line_of(const toml::node& node) {
  const auto& src = node.source();
  return src.begin.line > 0 ? fmt::format(":{}", src.begin.line) : std::string{};
}

class Validator {
 public:
  Validator(const Spec& spec, const std::string& source) : spec_(spec), source_(source) {}

  void walk(const toml::table& table, const std::string& prefix) {
    for (const auto& [key, node] : table) {
      std::string path = prefix.empty() ? std::string(key.str()) : prefix + "." + std::string(key.str());
      const KeySpec* ks = find(path);
      if (ks != nullptr) {
        if (ks->type == Type::kStringMap && node.is_table()) {
          // Point at the offending entry, not at the table's header.
          for (const auto& [k, v] : *node.as_table()) {
            if (!v.is_string()) {
              throw ConfigError(fmt::format("{}{}: key '{}.{}' must be a string ({})", source_, line_of(v), path,
                                            k.str(), ks->doc));
            }
          }
        }
        if (!matches(node, ks->type)) {
          throw ConfigError(fmt::format("{}{}: key '{}' must be {} ({})", source_, line_of(node), path,
                                        type_name(ks->type), ks->doc));
        }
        continue;
      }
      if (node.is_table() && is_parent(path)) {
        walk(*node.as_table(), path);
        continue;
      }
      throw ConfigError(fmt::format("{}{}: unknown key '{}'{}", source_, line_of(node), path, suggestions(prefix)));
    }
  }

  void check_required(const toml::table& root) const {
    for (const auto& ks : spec_) {
      if (ks.required && !root.at_path(ks.path)) {
        throw ConfigError(fmt::format("{}: required key '{}' is missing ({})", source_, ks.path, ks.doc));
      }
    }
  }

 private:
  const KeySpec* find(const std::string& path) const {
    auto it = std::find_if(spec_.begin(), spec_.end(), [&](const KeySpec& k) { return k.path == path; });
    return it == spec_.end() ? nullptr : &*it;
  }
  bool is_parent(const std::string& path) const {
    const std::string p = path + ".";
    return std::any_of(spec_.begin(), spec_.end(), [&](const KeySpec& k) { return k.path.rfind(p, 0) == 0; });
  }
  std::string suggestions(const std::string& prefix) const {
    std::vector<std::string> names;
    const std::string p = prefix.empty() ? "" : prefix + ".";
    for (const auto& k : spec_) {
      if (k.path.rfind(p, 0) != 0) continue;
      std::string rest = k.path.substr(p.size());
      rest = rest.substr(0, rest.find('.'));
      if (std::find(names.begin(), names.end(), rest) == names.end()) names.push_back(rest);
    }
    if (names.empty()) return {};
    return fmt::format(" (known keys{}: {})", prefix.empty() ? "" : " in [" + prefix + "]", fmt::join(names, ", "));
  }

  const Spec& spec_;
  const std::string& source_;
};

}  // namespace

Config Config::load_file(const std::filesystem::path& file, const Spec& spec) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw ConfigError(fmt::format("{}: cannot open config file", file.string()));
  std::stringstream ss;
  ss << in.rdbuf();
  auto base = std::filesystem::absolute(file).parent_path();
  return parse(ss.str(), file.string(), base, spec);
}

Config Config::parse(std::string_view text, std::string source_name, std::filesystem::path base_dir,
                     const Spec& spec) {
  toml::table table;
  try {
    table = toml::parse(text, source_name);
  } catch (const toml::parse_error& err) {
    throw ConfigError(fmt::format("{}:{}: {}", source_name, err.source().begin.line, err.description()));
  }
  Validator v(spec, source_name);
  v.walk(table, "");
  v.check_required(table);
  return Config(std::move(table), std::move(source_name), std::move(base_dir));
}

bool Config::has(std::string_view path) const { return static_cast<bool>(table_.at_path(path)); }

std::string Config::where(std::string_view path) const {
  auto node = table_.at_path(path);
  if (!node) return fmt::format("{} ({})", source_, path);
  return fmt::format("{}{} ({})", source_, line_of(*node.node()), path);
}

std::string Config::get_string(std::string_view path, std::string_view fallback) const {
  return table_.at_path(path).value_or(std::string(fallback));
}

std::string Config::get_enum(std::string_view path, std::string_view fallback,
                             const std::vector<std::string>& allowed) const {
  std::string v = get_string(path, fallback);
  if (std::find(allowed.begin(), allowed.end(), v) == allowed.end()) {
    throw ConfigError(fmt::format("{}: '{}' is not one of: {}", where(path), v, fmt::join(allowed, ", ")));
  }
  return v;
}

std::int64_t Config::get_int(std::string_view path, std::int64_t fallback, std::int64_t min,
                             std::int64_t max) const {
  std::int64_t v = table_.at_path(path).value_or(fallback);
  if (v < min || v > max) {
    throw ConfigError(fmt::format("{}: {} is out of range [{}, {}]", where(path), v, min, max));
  }
  return v;
}

double Config::get_float(std::string_view path, double fallback, double min, double max) const {
  auto node = table_.at_path(path);
  double v = fallback;
  if (node.is_integer()) v = static_cast<double>(node.value_or(std::int64_t{0}));
  else if (node.is_floating_point()) v = node.value_or(fallback);
  if (v < min || v > max) {
    throw ConfigError(fmt::format("{}: {} is out of range [{}, {}]", where(path), v, min, max));
  }
  return v;
}

bool Config::get_bool(std::string_view path, bool fallback) const { return table_.at_path(path).value_or(fallback); }

std::vector<std::string> Config::get_strings(std::string_view path) const {
  std::vector<std::string> out;
  if (const auto* arr = table_.at_path(path).as_array()) {
    for (const auto& n : *arr) out.emplace_back(n.value_or(std::string{}));
  }
  return out;
}

std::map<std::string, std::string> Config::get_string_map(std::string_view path) const {
  std::map<std::string, std::string> out;
  if (const auto* tbl = table_.at_path(path).as_table()) {
    for (const auto& [k, v] : *tbl) out.emplace(std::string(k.str()), v.value_or(std::string{}));
  }
  return out;
}

std::string Config::get_table_toml(std::string_view path) const {
  const auto* tbl = table_.at_path(path).as_table();
  if (tbl == nullptr) return {};
  std::ostringstream out;
  out << *tbl;
  return out.str();
}

std::filesystem::path Config::get_path(std::string_view path, std::string_view fallback) const {
  std::filesystem::path p = get_string(path, fallback);
  if (p.empty() || p.is_absolute()) return p;
  return (base_dir_ / p).lexically_normal();
}

std::vector<std::string> Config::get_endpoints(std::string_view path) const {
  std::vector<std::string> out;
  for (const auto& e : get_strings(path)) {
    if (e.find("://") == std::string::npos) {
      throw ConfigError(fmt::format("{}: '{}' is not a ZeroMQ endpoint (tcp://host:port or ipc://path)", where(path), e));
    }
    out.push_back(resolve_endpoint(e, base_dir_));
  }
  return out;
}

std::string resolve_endpoint(const std::string& endpoint, const std::filesystem::path& base) {
  constexpr std::string_view kIpc = "ipc://";
  if (endpoint.rfind(kIpc, 0) != 0) return endpoint;
  std::filesystem::path p = endpoint.substr(kIpc.size());
  // Absolute paths, Linux abstract sockets (ipc://@name) and the wildcard (ipc://*) stay as written.
  if (p.is_absolute() || base.empty() || endpoint[kIpc.size()] == '@' || p == "*") return endpoint;
  return std::string(kIpc) + (base / p).lexically_normal().string();
}

}  // namespace gridhub::config
