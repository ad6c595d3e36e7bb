#pragma once
/// What the operations page draws and names, read from the county's world folder (the same files
/// the resolver and the router read):
///   grids.csv        grid_code, grid_name, community_code, polygon_wkt (POLYGON((lon lat, ...)))
///   communities.csv  community_code, community_name
///   departments.csv  dept_code, dept_name
///   categories.csv   through gridhub::categories (its one loader)
/// Columns are found by header name; others (the grid worker's name among them) are not read, so
/// nothing personal reaches the page. Every error names the file and the line.

#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "gridhub/common/result.hpp"

namespace gridhub::ops {

struct LonLat {
  double lon = 0;
  double lat = 0;
};

struct GridShape {
  std::string code;
  std::string name;
  std::string community;
  std::vector<LonLat> ring;   // closed: the first point again last
};

struct World {
  std::vector<GridShape> grids;                       // in file order
  std::map<std::string, std::string, std::less<>> communities;   // code -> name
  std::map<std::string, std::string, std::less<>> departments;   // code -> name
  std::map<std::string, std::string, std::less<>> categories;    // code -> name

  /// The name an assignee code stands for: a department, community or grid (the tier's assignee),
  /// the 12345 centre; the code itself when unknown.
  std::string assignee_name(std::string_view code) const;
  std::string community_name(std::string_view code) const;
  std::string grid_name(std::string_view code) const;
  std::string category_name(std::string_view code) const;
};

/// Reads the world folder. Errors name file:line ("…/grids.csv:7: polygon_wkt is not …").
Result<World> load_world(const std::filesystem::path& dir);

/// One "POLYGON((lon lat, lon lat, ...))"; false when it is not a closed ring of at least 4 points.
bool parse_polygon(std::string_view wkt, std::vector<LonLat>& ring);

}  // namespace gridhub::ops
