#include "world.hpp"

#include <charconv>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <memory>
#include <set>
#include <sstream>

#include "gridhub/text/csv_reader.hpp"
#include "gridhub/text/text_decode.hpp"

namespace gridhub::plugins::gazetteer {

namespace {

/// One world CSV, read whole, with its header's column positions.
class Table {
 public:
  static Result<Table> open(const std::filesystem::path& file, std::vector<std::string> columns) {
    std::ifstream in(file, std::ios::binary);
    if (!in) return Error(Errc::io_failed, file.string() + ": cannot open");
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto decoded = text::decode_text(bytes, "utf-8");
    if (!decoded) return Error(Errc::decode_failed, file.string() + ": " + decoded.error().detail);
    Table t;
    t.name_ = file.filename().string();
    t.bytes_ = std::move(bytes);
    t.text_ = std::make_unique<std::string>(std::move(decoded->utf8));
    t.reader_ = std::make_unique<text::CsvReader>(*t.text_);
    text::CsvRecord header;
    if (!t.reader_->next(header) || header.error) {
      return Error(Errc::missing_field, t.name_ + ": no header row");
    }
    t.width_ = header.size();
    for (const auto& c : columns) {
      std::size_t pos = header.size();
      for (std::size_t i = 0; i < header.size(); ++i) {
        if (header.fields[i] == c) pos = i;
      }
      if (pos == header.size()) {
        return Error(Errc::missing_field, t.name_ + ":" + std::to_string(header.line) + ": missing column '" + c + "'");
      }
      t.positions_.push_back(pos);
    }
    return t;
  }

  /// Next data row; fills `fields` in the requested column order. Errors name the line.
  Result<bool> next(std::vector<std::string>& fields) {
    if (!reader_->next(record_)) return false;
    if (record_.error) return Error(Errc::malformed_frame, where() + ": " + record_.error_message);
    if (record_.size() != width_) {
      return Error(Errc::malformed_frame, where() + ": expected " + std::to_string(width_) + " fields, found " +
                                              std::to_string(record_.size()));
    }
    fields.clear();
    for (std::size_t p : positions_) fields.push_back(record_.fields[p]);
    return true;
  }

  std::string where() const { return name_ + ":" + std::to_string(record_.line); }
  const std::string& bytes() const { return bytes_; }

 private:
  std::string name_;
  std::string bytes_;
  std::unique_ptr<std::string> text_;   // stable address: the reader points into it
  std::unique_ptr<text::CsvReader> reader_;
  text::CsvRecord record_;
  std::size_t width_ = 0;
  std::vector<std::size_t> positions_;
};

std::optional<int> to_int(const std::string& s) {
  int v = 0;
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || p != s.data() + s.size()) return std::nullopt;
  return v;
}

std::vector<std::string> split_aliases(const std::string& s) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= s.size()) {
    const std::size_t bar = s.find('|', start);
    std::string part = s.substr(start, bar == std::string::npos ? std::string::npos : bar - start);
    if (!part.empty()) out.push_back(std::move(part));
    if (bar == std::string::npos) break;
    start = bar + 1;
  }
  return out;
}

/// FNV-1a 64: a stable, dependency-free fingerprint of the reference data.
void fnv1a(std::uint64_t& h, std::string_view bytes) {
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
}

using IndexPtr = std::unique_ptr<Gazetteer::Index>;

Status add_name(Gazetteer::Index& idx, const std::string& name, std::uint32_t payload, const std::string& where) {
  if (!idx.matcher.add(to_u32(name), payload)) {
    return Error(Errc::bad_value, where + ": name '" + name + "' is already used by another place");
  }
  return Ok{};
}

}  // namespace

Result<std::unique_ptr<const Gazetteer::Index>> load_index(const GazetteerOptions& options) {
  auto idx = std::make_unique<Gazetteer::Index>();
  idx->options = options;
  const auto& dir = options.world_dir;
  std::uint64_t hash = 0xcbf29ce484222325ULL;
  std::vector<std::string> f;

  {
    auto t = Table::open(dir / "communities.csv", {"community_code", "community_name"});
    if (!t) return t.error();
    fnv1a(hash, t->bytes());
    while (true) {
      auto more = t->next(f);
      if (!more) return more.error();
      if (!*more) break;
      if (f[0].empty() || f[1].empty()) return Error(Errc::missing_field, t->where() + ": empty code or name");
      const auto id = static_cast<std::uint32_t>(idx->communities.size());
      if (!idx->community_by_code.emplace(f[0], id).second) {
        return Error(Errc::bad_value, t->where() + ": duplicate community_code '" + f[0] + "'");
      }
      idx->community_by_name.emplace(f[1], id);
      if (auto s = add_name(*idx, f[1], make_payload(NameKind::kCommunity, id), t->where()); !s) return s.error();
      idx->communities.push_back({f[0], f[1]});
    }
  }
  {
    auto t = Table::open(dir / "grids.csv", {"grid_code", "grid_name", "community_code", "polygon_wkt"});
    if (!t) return t.error();
    fnv1a(hash, t->bytes());
    while (true) {
      auto more = t->next(f);
      if (!more) return more.error();
      if (!*more) break;
      const auto c = idx->community_by_code.find(f[2]);
      if (c == idx->community_by_code.end()) {
        return Error(Errc::bad_value, t->where() + ": unknown community_code '" + f[2] + "'");
      }
      auto poly = parse_wkt_polygon(f[3]);
      if (!poly) return Error(Errc::bad_value, t->where() + ": polygon_wkt is not a closed POLYGON((lon lat, ...))");
      const auto id = static_cast<std::uint32_t>(idx->grids.size());
      if (!idx->grid_by_code.emplace(f[0], id).second) {
        return Error(Errc::bad_value, t->where() + ": duplicate grid_code '" + f[0] + "'");
      }
      idx->grids.push_back({f[0], f[1], c->second, std::move(*poly)});
    }
  }
  const auto find_grid = [&](const std::string& code) {
    const auto it = idx->grid_by_code.find(code);
    return it == idx->grid_by_code.end() ? kNone : it->second;
  };
  {
    auto t = Table::open(dir / "compounds.csv", {"compound_name", "aliases", "community_code", "grid_code",
                                                 "building_from", "building_to"});
    if (!t) return t.error();
    fnv1a(hash, t->bytes());
    while (true) {
      auto more = t->next(f);
      if (!more) return more.error();
      if (!*more) break;
      const std::uint32_t grid = find_grid(f[3]);
      if (grid == kNone) return Error(Errc::bad_value, t->where() + ": unknown grid_code '" + f[3] + "'");
      const auto c = idx->community_by_code.find(f[2]);
      if (c == idx->community_by_code.end()) {
        return Error(Errc::bad_value, t->where() + ": unknown community_code '" + f[2] + "'");
      }
      if (idx->grids[grid].community != c->second) {
        return Error(Errc::bad_value, t->where() + ": grid_code '" + f[3] + "' is not in community '" + f[2] + "'");
      }
      const auto from = to_int(f[4]);
      const auto to = to_int(f[5]);
      if (!from || !to || *from < 0 || *to < *from) {
        return Error(Errc::bad_value, t->where() + ": building_from/building_to must be integers with from <= to");
      }
      auto [it, added] = idx->compound_by_name.emplace(f[0], static_cast<std::uint32_t>(idx->compounds.size()));
      if (added) idx->compounds.push_back({f[0], {}});
      const std::uint32_t id = it->second;
      if (idx->compounds[id].name != f[0]) {
        return Error(Errc::bad_value, t->where() + ": compound_name '" + f[0] + "' is an alias of '" +
                                          idx->compounds[id].name + "'");
      }
      for (const auto& row : idx->compounds[id].rows) {
        if (*from <= row.building_to && row.building_from <= *to) {
          return Error(Errc::bad_value, t->where() + ": building range overlaps another row of '" + f[0] + "'");
        }
      }
      idx->compounds[id].rows.push_back({grid, c->second, *from, *to});
      if (auto s = add_name(*idx, f[0], make_payload(NameKind::kCompound, id), t->where()); !s) return s.error();
      for (const auto& alias : split_aliases(f[1])) {
        const auto [a, fresh] = idx->compound_by_name.emplace(alias, id);
        if (!fresh && a->second != id) {
          return Error(Errc::bad_value, t->where() + ": alias '" + alias + "' already names '" +
                                            idx->compounds[a->second].name + "'");
        }
        if (auto s = add_name(*idx, alias, make_payload(NameKind::kCompound, id), t->where()); !s) return s.error();
      }
    }
  }
  {
    auto t = Table::open(dir / "roads.csv", {"road_name", "no_from", "no_to", "parity", "grid_code"});
    if (!t) return t.error();
    fnv1a(hash, t->bytes());
    std::unordered_map<std::string, std::uint32_t> road_by_name;
    while (true) {
      auto more = t->next(f);
      if (!more) return more.error();
      if (!*more) break;
      const std::uint32_t grid = find_grid(f[4]);
      if (grid == kNone) return Error(Errc::bad_value, t->where() + ": unknown grid_code '" + f[4] + "'");
      const auto from = to_int(f[1]);
      const auto to = to_int(f[2]);
      if (!from || !to || *from < 1 || *to < *from) {
        return Error(Errc::bad_value, t->where() + ": no_from/no_to must be positive integers with from <= to");
      }
      Parity parity;
      if (f[3] == "all") {
        parity = Parity::kAll;
      } else if (f[3] == "odd") {
        parity = Parity::kOdd;
      } else if (f[3] == "even") {
        parity = Parity::kEven;
      } else {
        return Error(Errc::bad_value, t->where() + ": parity '" + f[3] + "' is not all, odd or even");
      }
      auto [it, added] = road_by_name.emplace(f[0], static_cast<std::uint32_t>(idx->roads.size()));
      if (added) {
        idx->roads.push_back({f[0], {}});
        if (auto s = add_name(*idx, f[0], make_payload(NameKind::kRoad, it->second), t->where()); !s) {
          return s.error();
        }
      }
      auto& road = idx->roads[it->second];
      for (const auto& row : road.rows) {
        for (int n = std::max(row.no_from, *from); n <= std::min(row.no_to, *to); ++n) {
          const bool a = row.parity == Parity::kAll || (row.parity == Parity::kOdd) == (n % 2 != 0);
          const bool b = parity == Parity::kAll || (parity == Parity::kOdd) == (n % 2 != 0);
          if (a && b) {
            return Error(Errc::bad_value, t->where() + ": " + f[0] + " " + std::to_string(n) +
                                              " is already mapped by another row");
          }
        }
      }
      road.rows.push_back({*from, *to, parity, grid});
    }
  }

  // Place words from the config. They go after the world's names so that a configured word that
  // collides with a world name is reported against the config, not the file.
  const auto add_places = [&](const std::vector<std::string>& names, NameKind kind, const char* key) -> Status {
    for (const auto& n : names) {
      if (n.empty()) continue;
      const auto id = static_cast<std::uint32_t>(idx->place_names.size());
      idx->place_names.push_back(n);
      if (auto s = add_name(*idx, n, make_payload(kind, id), std::string("config ") + key); !s) return s.error();
    }
    return Ok{};
  };
  if (auto s = add_places({options.county, options.street}, NameKind::kLocal, "county/street"); !s) return s.error();
  if (auto s = add_places(options.county_seat, NameKind::kSeat, "county_seat"); !s) return s.error();
  if (auto s = add_places(options.parent_areas, NameKind::kParent, "parent_areas"); !s) return s.error();
  if (auto s = add_places(options.other_towns, NameKind::kOtherTown, "other_towns"); !s) return s.error();
  if (auto s = add_places(options.outside_areas, NameKind::kOutside, "outside_areas"); !s) return s.error();

  // What lies outside, as data beside the world (optional): neighbouring counties and cities, their
  // short names and their towns. A name the config already lists is taken once.
  if (std::error_code ec; std::filesystem::exists(dir / "outside.csv", ec)) {
    auto t = Table::open(dir / "outside.csv", {"name", "kind", "part_of"});
    if (!t) return t.error();
    fnv1a(hash, t->bytes());
    const std::set<std::string> configured(options.outside_areas.begin(), options.outside_areas.end());
    std::set<std::string> seen;
    while (true) {
      auto more = t->next(f);
      if (!more) return more.error();
      if (!*more) break;
      if (f[0].empty()) return Error(Errc::missing_field, t->where() + ": empty name");
      if (configured.count(f[0]) != 0 || !seen.insert(f[0]).second) continue;
      const auto id = static_cast<std::uint32_t>(idx->place_names.size());
      idx->place_names.push_back(f[0]);
      if (auto s = add_name(*idx, f[0], make_payload(NameKind::kOutside, id), t->where()); !s) return s.error();
    }
  }
  idx->matcher.build();

  char buf[32];
  std::snprintf(buf, sizeof buf, "world-%012llx", static_cast<unsigned long long>(hash >> 16));
  idx->version = buf;
  return std::unique_ptr<const Gazetteer::Index>(std::move(idx));
}

}  // namespace gridhub::plugins::gazetteer
