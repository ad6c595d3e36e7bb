#pragma once
/// Which plugins the hub can use: the in-tree ones, registered explicitly at build time, plus
/// modules loaded from a folder. A module is checked before anything else is touched: its
/// descriptor's abi_version must equal ours and its struct_size must cover what we read, or it is
/// refused with an error naming the file and both versions.

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "gridhub/common/result.hpp"
#include "gridhub/plugin/api.hpp"

namespace gridhub::pipeline {

struct PluginInfo {
  const plugin::Descriptor* descriptor = nullptr;
  std::string origin;   // "built-in" or the module's path
};

class Registry {
 public:
  /// The in-tree plugins this build includes.
  static Registry with_builtins();

  Registry();
  Registry(Registry&&) noexcept;
  Registry& operator=(Registry&&) noexcept;
  ~Registry();   // unloads modules

  /// dlopen + ABI check + registration; a module may replace a built-in of the same name.
  Status load_module(const std::filesystem::path& file);
  /// Every *.so in `dir` (sorted by name); stops at the first refused module.
  Status load_dir(const std::filesystem::path& dir);
  Status add(const plugin::Descriptor* descriptor, std::string origin);

  const PluginInfo* find(std::string_view name) const;
  std::vector<const PluginInfo*> all() const;

 private:
  std::map<std::string, PluginInfo, std::less<>> plugins_;
  std::vector<void*> handles_;
};

/// Checks a descriptor from anywhere; the error says what is wrong and what to do.
Status check_descriptor(const plugin::Descriptor* d, const std::string& origin);

std::string_view kind_name(plugin::Kind kind);

}  // namespace gridhub::pipeline
