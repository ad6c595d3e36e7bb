#include "gridhub/pipeline/registry.hpp"

#include <dlfcn.h>
#include <fmt/format.h>

#include <algorithm>

#include "builtin_plugins.hpp"

namespace gridhub::pipeline {

std::string_view kind_name(plugin::Kind kind) {
  switch (kind) {
    case plugin::Kind::kResolver: return "resolver";
    case plugin::Kind::kClassifier: return "classifier";
    case plugin::Kind::kMerger: return "merger";
    case plugin::Kind::kRouter: return "router";
  }
  return "unknown";
}

Status check_descriptor(const plugin::Descriptor* d, const std::string& origin) {
  if (d == nullptr) return Error(Errc::config_invalid, fmt::format("{}: plugin returned no descriptor", origin));
  // abi_version and struct_size come first in every ABI version, so reading them is always safe.
  if (d->abi_version != plugin::kAbiVersion) {
    return Error(Errc::config_invalid,
                 fmt::format("{}: plugin ABI version {} but this hub speaks version {}; rebuild the plugin against "
                             "this hub's gridhub/plugin/api.hpp",
                             origin, d->abi_version, plugin::kAbiVersion));
  }
  if (d->struct_size < sizeof(plugin::Descriptor)) {
    return Error(Errc::config_invalid,
                 fmt::format("{}: plugin descriptor is {} bytes, expected at least {}; rebuild the plugin", origin,
                             d->struct_size, sizeof(plugin::Descriptor)));
  }
  if (d->name == nullptr || *d->name == '\0' || d->create == nullptr || d->destroy == nullptr) {
    return Error(Errc::config_invalid, fmt::format("{}: plugin descriptor lacks a name or entry points", origin));
  }
  const auto k = static_cast<std::uint32_t>(d->kind);
  if (k < 1 || k > 4) {
    return Error(Errc::config_invalid, fmt::format("{}: plugin '{}' has unknown kind {}", origin, d->name, k));
  }
  return Ok{};
}

Registry::Registry() = default;
Registry::Registry(Registry&&) noexcept = default;
Registry& Registry::operator=(Registry&&) noexcept = default;

Registry::~Registry() {
  plugins_.clear();
  for (void* h : handles_) dlclose(h);
}

Registry Registry::with_builtins() {
  Registry r;
  for (const plugin::Descriptor* d : builtin_plugin_descriptors()) {
    // In-tree plugins are built with this very header; a failure here is a build defect.
    if (auto s = r.add(d, "built-in"); !s) throw std::logic_error(s.error().message());
  }
  return r;
}

Status Registry::add(const plugin::Descriptor* descriptor, std::string origin) {
  if (auto s = check_descriptor(descriptor, origin); !s) return s;
  plugins_[descriptor->name] = PluginInfo{descriptor, std::move(origin)};
  return Ok{};
}

Status Registry::load_module(const std::filesystem::path& file) {
  void* h = dlopen(file.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (h == nullptr) {
    const char* err = dlerror();
    return Error(Errc::config_invalid, fmt::format("{}: cannot load plugin: {}", file.string(), err ? err : "?"));
  }
  auto entry = reinterpret_cast<plugin::EntryFn>(dlsym(h, plugin::kEntrySymbol));
  if (entry == nullptr) {
    dlclose(h);
    return Error(Errc::config_invalid, fmt::format("{}: not a gridhub plugin (no '{}' symbol)", file.string(),
                                                  plugin::kEntrySymbol));
  }
  const plugin::Descriptor* d = entry();
  if (auto s = add(d, file.string()); !s) {
    dlclose(h);
    return s;
  }
  handles_.push_back(h);
  return Ok{};
}

Status Registry::load_dir(const std::filesystem::path& dir) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    return Error(Errc::config_invalid, fmt::format("{}: plugin folder does not exist", dir.string()));
  }
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    if (e.path().extension() == ".so") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  for (const auto& f : files) {
    if (auto s = load_module(f); !s) return s;
  }
  return Ok{};
}

const PluginInfo* Registry::find(std::string_view name) const {
  auto it = plugins_.find(name);
  return it == plugins_.end() ? nullptr : &it->second;
}

std::vector<const PluginInfo*> Registry::all() const {
  std::vector<const PluginInfo*> out;
  for (const auto& [n, p] : plugins_) out.push_back(&p);
  return out;
}

}  // namespace gridhub::pipeline
