#pragma once
/// resolver_gazetteer: where a report is, from the county's reference world.
///
/// Resolves a record's address text, coordinates and chat context to a community and, when it is
/// certain, a grid of the street. It never guesses a grid: a compound split between grids and named
/// without a building, a vague community mention or a road without a number yield the community (or
/// nothing). Every Resolution names the rule that fired (why.rule) and the evidence (why.detail).
///
/// Config keys (the plugin's TOML table; paths resolve against base_dir):
/// | key             | type     | default                      | meaning                                         |
/// |-----------------|----------|------------------------------|-------------------------------------------------|
/// | world_dir       | string   | required                     | folder with communities/grids/compounds/roads.csv |
/// | county          | string   | "武功县"                     | this county's name (a local anchor)               |
/// | street          | string   | "普集街道"                   | the street the world covers (a local anchor)      |
/// | parent_areas    | [string] | ["陕西省", "咸阳市"]         | units that contain the county: neither in nor out |
/// | county_seat     | [string] | ["县城", "城区"]             | words meaning "this county's town" (local anchors) |
/// | other_towns     | [string] | the county's 7 other towns   | in the county, outside the street -> other_town  |
/// | outside_areas   | [string] | neighbouring counties/cities | always outside the county -> out_of_area         |
/// | detect_outside_admin | bool | true                        | also treat any other "X县/X市/X区/X省" followed by |
/// |                 |          |                              | an address as outside the county                |
///
/// `world_dir/outside.csv` (optional; `name,kind,part_of`): more places outside the county — the
/// neighbours' short names, towns and streets — as data beside the world; part of the data version.
/// A report naming only places outside goes out_of_area; one naming a place of the street stays in it.

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "gridhub/common/result.hpp"
#include "gridhub/plugin/api.hpp"

namespace gridhub::plugins {

/// Everything the gazetteer needs besides the world files. The defaults describe Wugong County.
struct GazetteerOptions {
  std::filesystem::path world_dir;
  std::string county = "武功县";
  std::string street = "普集街道";
  std::vector<std::string> parent_areas = {"陕西省", "咸阳市"};
  std::vector<std::string> county_seat = {"县城", "城区"};
  std::vector<std::string> other_towns = {"武功镇", "游凤镇", "贞元镇", "长宁镇", "小村镇", "大庄镇", "苏坊镇"};
  std::vector<std::string> outside_areas = {
      "扶风县", "乾县",   "兴平市", "杨凌示范区", "杨凌区", "杨陵区", "杨凌", "周至县", "眉县",
      "礼泉县", "永寿县", "秦都区", "渭城区",     "西咸新区", "西安市", "宝鸡市", "泾阳县", "三原县"};
  bool detect_outside_admin = true;
};

/// An immutable, precomputed index over one world. Cheap to move; resolve() is thread-safe.
class Gazetteer {
 public:
  /// Loads and validates the world files. Errors name the file, line and column at fault.
  static Result<Gazetteer> load(const GazetteerOptions& options);
  static Result<Gazetteer> load(const std::filesystem::path& world_dir);

  Gazetteer(Gazetteer&&) noexcept;
  Gazetteer& operator=(Gazetteer&&) noexcept;
  ~Gazetteer();

  /// Never throws; a record with nothing resolvable gets empty codes and why.rule "none".
  plugin::Resolution resolve(const plugin::Record& record) const noexcept;

  /// Short hash of the world files' bytes ("world-1a2b3c4d5e6f"), logged with every decision.
  std::string_view version() const noexcept;

  struct Index;

 private:
  explicit Gazetteer(std::unique_ptr<const Index> index);
  std::unique_ptr<const Index> index_;
};

/// Parses the plugin's TOML table (see the key table above). Unknown keys and wrong types are
/// Errc::config_invalid naming the key.
Result<GazetteerOptions> parse_gazetteer_config(std::string_view toml_text, const std::filesystem::path& base_dir);

}  // namespace gridhub::plugins

/// The plugin's descriptor (registered explicitly by the host; also exported by the module).
const gridhub::plugin::Descriptor* resolver_gazetteer_descriptor() noexcept;
