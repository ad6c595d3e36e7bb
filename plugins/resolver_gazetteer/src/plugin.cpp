#include <cstdio>
#include <cstring>
#include <exception>
#include <string>

#include "gridhub/common/config.hpp"
#include "gridhub/plugins/resolver_gazetteer.hpp"

namespace gridhub::plugins {

namespace {

constexpr const char* kName = "resolver_gazetteer";
constexpr const char* kVersion = "1.0.0";

/// The plugin's configuration, declared next to its code.
const config::Spec& gazetteer_spec() {
  static const config::Spec spec = {
      {"world_dir", config::Type::kString, true, "folder with communities.csv, grids.csv, compounds.csv, roads.csv"},
      {"county", config::Type::kString, false, "this county's name, e.g. 武功县"},
      {"street", config::Type::kString, false, "the street the world covers, e.g. 普集街道"},
      {"parent_areas", config::Type::kStringArray, false, "units containing the county (province, prefecture)"},
      {"county_seat", config::Type::kStringArray, false, "words meaning the county's own town (县城)"},
      {"other_towns", config::Type::kStringArray, false, "the county's other towns -> other_town"},
      {"outside_areas", config::Type::kStringArray, false, "places outside the county -> out_of_area"},
      {"detect_outside_admin", config::Type::kBoolean, false, "also treat any other X县/X市/X区 + address as outside"},
  };
  return spec;
}

class GazetteerStage final : public plugin::Resolver {
 public:
  explicit GazetteerStage(Gazetteer gazetteer) : gazetteer_(std::move(gazetteer)) {}
  std::string_view data_version() const noexcept override { return gazetteer_.version(); }
  plugin::Resolution resolve(const plugin::Record& record) noexcept override { return gazetteer_.resolve(record); }

 private:
  Gazetteer gazetteer_;
};

void write_error(char* buf, std::size_t size, const std::string& message) noexcept {
  if (buf == nullptr || size == 0) return;
  std::snprintf(buf, size, "%s", message.c_str());
}

plugin::Stage* create(const char* config_toml, const char* base_dir, char* error, std::size_t error_size) noexcept {
  try {
    auto options = parse_gazetteer_config(config_toml == nullptr ? "" : config_toml,
                                          base_dir == nullptr ? "" : base_dir);
    if (!options) {
      write_error(error, error_size, options.error().detail);
      return nullptr;
    }
    auto gazetteer = Gazetteer::load(*options);
    if (!gazetteer) {
      write_error(error, error_size, std::string(kName) + ": world_dir: " + gazetteer.error().detail);
      return nullptr;
    }
    return new GazetteerStage(std::move(gazetteer).value());
  } catch (const std::exception& e) {
    write_error(error, error_size, std::string(kName) + ": " + e.what());
  } catch (...) {
    write_error(error, error_size, std::string(kName) + ": unknown error");
  }
  return nullptr;
}

void destroy(plugin::Stage* stage) noexcept { delete stage; }

}  // namespace

Result<GazetteerOptions> parse_gazetteer_config(std::string_view toml_text, const std::filesystem::path& base_dir) {
  try {
    const auto cfg = config::Config::parse(toml_text, kName, base_dir, gazetteer_spec());
    GazetteerOptions o;
    o.world_dir = cfg.get_path("world_dir");
    o.county = cfg.get_string("county", o.county);
    o.street = cfg.get_string("street", o.street);
    if (cfg.has("parent_areas")) o.parent_areas = cfg.get_strings("parent_areas");
    if (cfg.has("county_seat")) o.county_seat = cfg.get_strings("county_seat");
    if (cfg.has("other_towns")) o.other_towns = cfg.get_strings("other_towns");
    if (cfg.has("outside_areas")) o.outside_areas = cfg.get_strings("outside_areas");
    o.detect_outside_admin = cfg.get_bool("detect_outside_admin", o.detect_outside_admin);
    if (o.world_dir.empty()) return Error(Errc::config_invalid, std::string(kName) + ": world_dir is empty");
    return o;
  } catch (const config::ConfigError& e) {
    return Error(Errc::config_invalid, e.what());
  } catch (const std::exception& e) {
    return Error(Errc::config_invalid, std::string(kName) + ": " + e.what());
  }
}

}  // namespace gridhub::plugins

const gridhub::plugin::Descriptor* resolver_gazetteer_descriptor() noexcept {
  static const gridhub::plugin::Descriptor descriptor{
      gridhub::plugin::kAbiVersion,
      sizeof(gridhub::plugin::Descriptor),
      gridhub::plugins::kName,
      gridhub::plugin::Kind::kResolver,
      gridhub::plugins::kVersion,
      &gridhub::plugins::create,
      &gridhub::plugins::destroy,
  };
  return &descriptor;
}
