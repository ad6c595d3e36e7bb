#include "gridhub/ops/world.hpp"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "gridhub/categories/categories.hpp"
#include "gridhub/text/csv_reader.hpp"

namespace gridhub::ops {

namespace {

Result<std::string> read_file(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return Error(Errc::io_failed, fmt::format("{}: cannot read the file", file.string()));
  std::ostringstream s;
  s << in.rdbuf();
  if (in.bad()) return Error(Errc::io_failed, fmt::format("{}: read failed", file.string()));
  std::string text = s.str();
  if (text.starts_with("\xEF\xBB\xBF")) text.erase(0, 3);   // a spreadsheet's byte-order mark
  return text;
}

/// Reads a CSV with a header; `row(record, columns)` sees each data row with the header's
/// column positions for `wanted`. Errors name file:line.
template <class Row>
Status read_table(const std::filesystem::path& file, const std::vector<std::string_view>& wanted, Row row) {
  auto text = read_file(file);
  if (!text) return text.error();
  text::CsvReader reader(text.value());
  text::CsvRecord rec;
  if (!reader.next(rec)) return Error(Errc::missing_field, fmt::format("{}:1: the file is empty (a header row is needed)", file.string()));
  std::vector<std::size_t> columns;
  for (auto name : wanted) {
    std::size_t at = rec.fields.size();
    for (std::size_t i = 0; i < rec.fields.size(); ++i) {
      if (rec.fields[i] == name) at = i;
    }
    if (at == rec.fields.size()) {
      return Error(Errc::missing_field, fmt::format("{}:{}: the header has no column '{}'", file.string(), rec.line, name));
    }
    columns.push_back(at);
  }
  reader.expect_fields(rec.fields.size());
  while (reader.next(rec)) {
    if (rec.error) return Error(Errc::bad_value, fmt::format("{}:{}: {}", file.string(), rec.line, rec.error_message));
    if (!rec.fields.empty() && rec.fields[0].starts_with("#")) continue;
    std::vector<std::string_view> cells;
    for (std::size_t c : columns) {
      if (c >= rec.fields.size() || rec.fields[c].empty()) {
        return Error(Errc::missing_field, fmt::format("{}:{}: {} is empty", file.string(), rec.line, wanted[cells.size()]));
      }
      cells.emplace_back(rec.fields[c]);
    }
    if (auto st = row(rec.line, cells); !st) {
      return Error(st.error().code, fmt::format("{}:{}: {}", file.string(), rec.line, st.error().detail));
    }
  }
  return Ok{};
}

std::string name_or_code(const std::map<std::string, std::string, std::less<>>& m, std::string_view code) {
  auto it = m.find(code);
  return it == m.end() ? std::string(code) : it->second;
}

}  // namespace

bool parse_polygon(std::string_view wkt, std::vector<LonLat>& ring) {
  ring.clear();
  const std::size_t open = wkt.find("((");
  const std::size_t close = wkt.rfind("))");
  if (!wkt.starts_with("POLYGON") || open == std::string_view::npos || close == std::string_view::npos || close <= open) {
    return false;
  }
  const std::string body(wkt.substr(open + 2, close - open - 2));
  const char* p = body.c_str();
  const char* end = p + body.size();
  while (p < end) {
    char* next = nullptr;
    const double lon = std::strtod(p, &next);
    if (next == p) return false;
    p = next;
    const double lat = std::strtod(p, &next);
    if (next == p) return false;
    p = next;
    ring.push_back({lon, lat});
    while (p < end && (*p == ' ' || *p == ',')) ++p;
  }
  return ring.size() >= 4 && ring.front().lon == ring.back().lon && ring.front().lat == ring.back().lat;
}

std::string World::assignee_name(std::string_view code) const {
  if (auto it = departments.find(code); it != departments.end()) return it->second;
  if (auto it = communities.find(code); it != communities.end()) return it->second;
  if (code == categories::kDefaultCenterCode) return "12345热线中心";
  return grid_name(code);
}

std::string World::community_name(std::string_view code) const { return name_or_code(communities, code); }

std::string World::grid_name(std::string_view code) const {
  for (const auto& g : grids) {
    if (g.code == code) return g.name;
  }
  return std::string(code);
}

std::string World::category_name(std::string_view code) const { return name_or_code(categories, code); }

Result<World> load_world(const std::filesystem::path& dir) {
  World w;
  if (auto st = read_table(dir / "communities.csv", {"community_code", "community_name"},
                           [&](std::size_t, const std::vector<std::string_view>& c) -> Status {
                             if (!w.communities.emplace(std::string(c[0]), std::string(c[1])).second) {
                               return Error(Errc::bad_value, fmt::format("community_code {} appears twice", c[0]));
                             }
                             return Ok{};
                           });
      !st) {
    return st.error();
  }
  if (auto st = read_table(dir / "departments.csv", {"dept_code", "dept_name"},
                           [&](std::size_t, const std::vector<std::string_view>& c) -> Status {
                             w.departments.emplace(std::string(c[0]), std::string(c[1]));
                             return Ok{};
                           });
      !st) {
    return st.error();
  }
  if (auto st = read_table(dir / "grids.csv", {"grid_code", "grid_name", "community_code", "polygon_wkt"},
                           [&](std::size_t, const std::vector<std::string_view>& c) -> Status {
                             GridShape g{std::string(c[0]), std::string(c[1]), std::string(c[2]), {}};
                             if (!w.communities.contains(g.community)) {
                               return Error(Errc::bad_value, fmt::format("community_code {} is not in communities.csv", c[2]));
                             }
                             if (!parse_polygon(c[3], g.ring)) {
                               return Error(Errc::bad_value, "polygon_wkt is not a closed POLYGON((lon lat, ...)) of 4 or more points");
                             }
                             w.grids.push_back(std::move(g));
                             return Ok{};
                           });
      !st) {
    return st.error();
  }
  auto cats = categories::load_categories(dir / "categories.csv");
  if (!cats) return cats.error();
  for (const auto& [code, c] : cats.value()) w.categories.emplace(code, c.name.empty() ? code : c.name);
  return w;
}

}  // namespace gridhub::ops
