#pragma once
/// Declared, validated TOML configuration.
///
/// Every component declares the keys it reads (path, type, required, one-line doc) in a Spec next to
/// its code. Loading checks the whole file against the Spec before anything starts: an unknown key,
/// a wrong type, a missing required key or a value out of range is a ConfigError whose message names
/// the file, the key and the line. Relative paths in values resolve against the config file's folder.

#include <cstdint>
#include <filesystem>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <toml++/toml.h>

namespace gridhub::config {

class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

enum class Type {
  kString,
  kInteger,
  kBoolean,
  kFloat,
  kStringArray,
  kStringMap,   // a table of string -> string whose keys are free (e.g. column mappings)
  kTable,       // a table validated by someone else (a plugin's own section)
};

struct KeySpec {
  std::string path;   // dotted: "ingest.endpoints"
  Type type;
  bool required;
  std::string doc;
};

using Spec = std::vector<KeySpec>;

class Config {
 public:
  static Config load_file(const std::filesystem::path& file, const Spec& spec);
  static Config parse(std::string_view text, std::string source_name, std::filesystem::path base_dir,
                      const Spec& spec);

  bool has(std::string_view path) const;
  std::string get_string(std::string_view path, std::string_view fallback = {}) const;
  /// One of `allowed`; anything else is a ConfigError naming the allowed values.
  std::string get_enum(std::string_view path, std::string_view fallback,
                       const std::vector<std::string>& allowed) const;
  std::int64_t get_int(std::string_view path, std::int64_t fallback, std::int64_t min,
                       std::int64_t max) const;
  bool get_bool(std::string_view path, bool fallback) const;
  double get_float(std::string_view path, double fallback, double min, double max) const;
  std::vector<std::string> get_strings(std::string_view path) const;
  std::map<std::string, std::string> get_string_map(std::string_view path) const;
  /// A file system path; relative values resolve against the config file's folder.
  std::filesystem::path get_path(std::string_view path, std::string_view fallback = {}) const;
  /// A kTable section re-serialized as TOML text (empty when absent), for a plugin to validate.
  std::string get_table_toml(std::string_view path) const;
  /// A ZeroMQ endpoint list; "ipc://relative" resolves against the config file's folder.
  std::vector<std::string> get_endpoints(std::string_view path) const;

  const std::string& source_name() const { return source_; }
  const std::filesystem::path& base_dir() const { return base_dir_; }

  /// Where a key sits, for error messages: "hub.toml:12 (ingest.max_batch)".
  std::string where(std::string_view path) const;

 private:
  Config(toml::table table, std::string source, std::filesystem::path base_dir)
      : table_(std::move(table)), source_(std::move(source)), base_dir_(std::move(base_dir)) {}

  toml::table table_;
  std::string source_;
  std::filesystem::path base_dir_;
};

/// Resolves "ipc://relative/path" against base; other endpoints are returned unchanged.
std::string resolve_endpoint(const std::string& endpoint, const std::filesystem::path& base);

}  // namespace gridhub::config
