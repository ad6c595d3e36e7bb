#include "geo.hpp"

#include <cmath>
#include <cstdlib>
#include <string>

namespace gridhub::plugins::gazetteer {

namespace {

constexpr double kPi = 3.14159265358979324;
constexpr double kKrasovskyA = 6378245.0;
constexpr double kKrasovskyEe = 0.00669342162296594323;

bool outside_china(LonLat p) { return p.lon < 72.004 || p.lon > 137.8347 || p.lat < 0.8293 || p.lat > 55.8271; }

double transform_lat(double x, double y) {
  double r = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * std::sqrt(std::abs(x));
  r += (20.0 * std::sin(6.0 * x * kPi) + 20.0 * std::sin(2.0 * x * kPi)) * 2.0 / 3.0;
  r += (20.0 * std::sin(y * kPi) + 40.0 * std::sin(y / 3.0 * kPi)) * 2.0 / 3.0;
  r += (160.0 * std::sin(y / 12.0 * kPi) + 320.0 * std::sin(y * kPi / 30.0)) * 2.0 / 3.0;
  return r;
}

double transform_lon(double x, double y) {
  double r = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * std::sqrt(std::abs(x));
  r += (20.0 * std::sin(6.0 * x * kPi) + 20.0 * std::sin(2.0 * x * kPi)) * 2.0 / 3.0;
  r += (20.0 * std::sin(x * kPi) + 40.0 * std::sin(x / 3.0 * kPi)) * 2.0 / 3.0;
  r += (150.0 * std::sin(x / 12.0 * kPi) + 300.0 * std::sin(x / 30.0 * kPi)) * 2.0 / 3.0;
  return r;
}

}  // namespace

LonLat wgs84_to_gcj02(LonLat wgs) {
  if (outside_china(wgs)) return wgs;
  double d_lat = transform_lat(wgs.lon - 105.0, wgs.lat - 35.0);
  double d_lon = transform_lon(wgs.lon - 105.0, wgs.lat - 35.0);
  const double rad_lat = wgs.lat / 180.0 * kPi;
  double magic = std::sin(rad_lat);
  magic = 1 - kKrasovskyEe * magic * magic;
  const double sqrt_magic = std::sqrt(magic);
  d_lat = (d_lat * 180.0) / ((kKrasovskyA * (1 - kKrasovskyEe)) / (magic * sqrt_magic) * kPi);
  d_lon = (d_lon * 180.0) / (kKrasovskyA / sqrt_magic * std::cos(rad_lat) * kPi);
  return {wgs.lon + d_lon, wgs.lat + d_lat};
}

LonLat gcj02_to_wgs84(LonLat gcj) {
  LonLat wgs = gcj;
  for (int i = 0; i < 10; ++i) {
    const LonLat f = wgs84_to_gcj02(wgs);
    const double e_lon = f.lon - gcj.lon;
    const double e_lat = f.lat - gcj.lat;
    wgs.lon -= e_lon;
    wgs.lat -= e_lat;
    if (std::abs(e_lon) < 1e-9 && std::abs(e_lat) < 1e-9) break;
  }
  return wgs;
}

LonLat bd09_to_gcj02(LonLat bd) {
  constexpr double kXPi = kPi * 3000.0 / 180.0;
  const double x = bd.lon - 0.0065;
  const double y = bd.lat - 0.006;
  const double z = std::sqrt(x * x + y * y) - 0.00002 * std::sin(y * kXPi);
  const double theta = std::atan2(y, x) - 0.000003 * std::cos(x * kXPi);
  return {z * std::cos(theta), z * std::sin(theta)};
}

std::optional<Polygon> parse_wkt_polygon(std::string_view wkt) {
  const std::size_t open = wkt.find("((");
  const std::size_t close = wkt.rfind("))");
  if (wkt.substr(0, 7) != "POLYGON" || open == std::string_view::npos || close == std::string_view::npos ||
      close <= open) {
    return std::nullopt;
  }
  const std::string body(wkt.substr(open + 2, close - open - 2));
  Polygon poly;
  const char* p = body.c_str();
  const char* end = p + body.size();
  while (p < end) {
    char* next = nullptr;
    const double lon = std::strtod(p, &next);
    if (next == p) return std::nullopt;
    p = next;
    const double lat = std::strtod(p, &next);
    if (next == p) return std::nullopt;
    p = next;
    poly.ring.push_back({lon, lat});
    while (p < end && (*p == ' ' || *p == ',')) ++p;
  }
  if (poly.ring.size() < 4 || poly.ring.front().lon != poly.ring.back().lon ||
      poly.ring.front().lat != poly.ring.back().lat) {
    return std::nullopt;
  }
  poly.min_lon = poly.max_lon = poly.ring[0].lon;
  poly.min_lat = poly.max_lat = poly.ring[0].lat;
  for (const LonLat& v : poly.ring) {
    poly.min_lon = std::min(poly.min_lon, v.lon);
    poly.max_lon = std::max(poly.max_lon, v.lon);
    poly.min_lat = std::min(poly.min_lat, v.lat);
    poly.max_lat = std::max(poly.max_lat, v.lat);
  }
  return poly;
}

bool contains(const Polygon& polygon, LonLat p) {
  if (p.lon < polygon.min_lon || p.lon > polygon.max_lon || p.lat < polygon.min_lat || p.lat > polygon.max_lat) {
    return false;
  }
  bool inside = false;
  const auto& r = polygon.ring;
  for (std::size_t i = 0, j = r.size() - 1; i < r.size(); j = i++) {
    if ((r[i].lat > p.lat) != (r[j].lat > p.lat)) {
      const double x = (r[j].lon - r[i].lon) * (p.lat - r[i].lat) / (r[j].lat - r[i].lat) + r[i].lon;
      if (p.lon < x) inside = !inside;
    }
  }
  return inside;
}

}  // namespace gridhub::plugins::gazetteer
