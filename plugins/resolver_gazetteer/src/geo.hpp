#pragma once
/// Datum conversion and point-in-polygon for the grid rectangles.

#include <optional>
#include <string_view>
#include <vector>

namespace gridhub::plugins::gazetteer {

struct LonLat {
  double lon = 0;
  double lat = 0;
};

/// The public WGS-84 -> GCJ-02 transform (Krasovsky ellipsoid; the "eviltransform" formulas).
/// Points outside mainland China's rough bounding box are returned unchanged, as the original does.
LonLat wgs84_to_gcj02(LonLat wgs);
/// Inverse by fixed-point iteration of the forward transform; converges to < 1e-7 degrees
/// (about 1 cm) in a few steps because the offset changes slowly with position.
LonLat gcj02_to_wgs84(LonLat gcj);
/// Baidu's BD-09 on top of GCJ-02.
LonLat bd09_to_gcj02(LonLat bd);

struct Polygon {
  std::vector<LonLat> ring;   // closed: first == last
  double min_lon = 0, max_lon = 0, min_lat = 0, max_lat = 0;
};

/// Parses "POLYGON((lon lat, lon lat, ...))" (one outer ring, no holes). nullopt when malformed.
std::optional<Polygon> parse_wkt_polygon(std::string_view wkt);

/// Even-odd ray casting. A point exactly on a shared edge belongs to the polygon whose interior is
/// to its right/top by the half-open convention, so it is never counted in two tiles.
bool contains(const Polygon& polygon, LonLat p);

}  // namespace gridhub::plugins::gazetteer
