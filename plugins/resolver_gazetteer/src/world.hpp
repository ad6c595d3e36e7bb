#pragma once
/// The gazetteer's precomputed index over one world (private to the plugin).

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "geo.hpp"
#include "gridhub/common/result.hpp"
#include "gridhub/plugins/resolver_gazetteer.hpp"
#include "text_index.hpp"

namespace gridhub::plugins::gazetteer {

inline constexpr std::uint32_t kNone = UINT32_MAX;

struct Community {
  std::string code;
  std::string name;
};

struct Grid {
  std::string code;
  std::string name;
  std::uint32_t community = kNone;
  Polygon polygon;
};

struct CompoundRow {
  std::uint32_t grid = kNone;
  std::uint32_t community = kNone;
  int building_from = 0;
  int building_to = 0;
};

struct Compound {
  std::string name;
  std::vector<CompoundRow> rows;
};

enum class Parity : std::uint8_t { kAll, kOdd, kEven };

struct RoadRow {
  int no_from = 0;
  int no_to = 0;
  Parity parity = Parity::kAll;
  std::uint32_t grid = kNone;
};

struct Road {
  std::string name;
  std::vector<RoadRow> rows;
};

/// What a name in the matcher stands for (high byte of the payload; the rest is an index).
enum class NameKind : std::uint8_t {
  kCompound = 1,
  kCommunity,
  kRoad,
  kOtherTown,
  kLocal,     // this county or street: what follows is inside the street
  kSeat,      // "县城": the county's own town; yields to a longer outside name
  kParent,    // a unit containing the county (province, prefecture): neither in nor out
  kOutside,   // a configured place outside the county
  kOutsideAdmin,   // an "X县/X市/X区/X省" recognised by shape (not a matcher name)
};

inline std::uint32_t make_payload(NameKind kind, std::uint32_t index) {
  return (static_cast<std::uint32_t>(kind) << 24) | (index & 0xFFFFFFu);
}
inline NameKind kind_of(std::uint32_t payload) { return static_cast<NameKind>(payload >> 24); }
inline std::uint32_t index_of(std::uint32_t payload) { return payload & 0xFFFFFFu; }

}  // namespace gridhub::plugins::gazetteer

namespace gridhub::plugins {

struct Gazetteer::Index {
  GazetteerOptions options;
  std::vector<gazetteer::Community> communities;
  std::vector<gazetteer::Grid> grids;
  std::vector<gazetteer::Compound> compounds;
  std::vector<gazetteer::Road> roads;
  std::vector<std::string> place_names;   // kOtherTown/kLocal/kSeat/kParent/kOutside names by index
  std::unordered_map<std::string, std::uint32_t> community_by_code;
  std::unordered_map<std::string, std::uint32_t> community_by_name;
  std::unordered_map<std::string, std::uint32_t> grid_by_code;
  std::unordered_map<std::string, std::uint32_t> compound_by_name;   // canonical names and aliases
  gazetteer::NameMatcher matcher;
  std::string version;
};

namespace gazetteer {
/// Reads and validates the four world files and builds the matcher.
Result<std::unique_ptr<const Gazetteer::Index>> load_index(const GazetteerOptions& options);
}  // namespace gazetteer

}  // namespace gridhub::plugins
