#include "gridhub/categories/categories.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <fstream>
#include <sstream>
#include <tuple>
#include <vector>

#include "gridhub/text/csv_reader.hpp"

namespace gridhub::categories {

namespace {

std::optional<Tier> tier_of(std::string_view s) {
  if (s == "grid") return Tier::kGrid;
  if (s == "community") return Tier::kCommunity;
  if (s == "county") return Tier::kCounty;
  return std::nullopt;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Column indexes by header name.
struct Columns {
  std::size_t code, initial_tier, county_dept, hours_grid, hours_community, hours_county;
  std::optional<std::size_t> name;
};

}  // namespace

std::string_view tier_name(Tier tier) noexcept {
  switch (tier) {
    case Tier::kGrid: return "grid";
    case Tier::kCommunity: return "community";
    case Tier::kCounty: return "county";
  }
  return "grid";
}

std::optional<int> Category::hours(Tier tier) const noexcept {
  switch (tier) {
    case Tier::kGrid: return hours_grid;
    case Tier::kCommunity: return hours_community;
    case Tier::kCounty: return hours_county;
  }
  return std::nullopt;
}

Result<CategoryTable> parse_categories(std::string_view text, const std::string& file) {
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
  text::CsvReader reader(text);
  text::CsvRecord rec;
  std::vector<std::string> header;
  Columns col{};
  CategoryTable out;
  const auto bad = [&](std::string_view field, std::string what) {
    return Error(Errc::bad_value, fmt::format("{}:{} ({}): {}", file, rec.line, field, what));
  };
  while (reader.next(rec)) {
    if (rec.fields.size() == 1 && trim(rec.fields[0]).empty()) continue;   // a blank line
    if (header.empty()) {
      header = rec.fields;
      const auto find = [&](std::string_view c) -> std::optional<std::size_t> {
        auto it = std::find(header.begin(), header.end(), c);
        if (it == header.end()) return std::nullopt;
        return static_cast<std::size_t>(it - header.begin());
      };
      std::array<std::pair<const char*, std::size_t*>, 6> required{{{"category_code", &col.code},
                                                                    {"initial_tier", &col.initial_tier},
                                                                    {"county_dept_code", &col.county_dept},
                                                                    {"sla_hours_grid", &col.hours_grid},
                                                                    {"sla_hours_community", &col.hours_community},
                                                                    {"sla_hours_county", &col.hours_county}}};
      for (auto [name, dst] : required) {
        auto i = find(name);
        if (!i) return Error(Errc::missing_field, fmt::format("{}:{}: column '{}' is missing", file, rec.line, name));
        *dst = *i;
      }
      col.name = find("category_name");
      reader.expect_fields(header.size());
      continue;
    }
    if (rec.error) return Error(Errc::bad_value, fmt::format("{}:{}: {}", file, rec.line, rec.error_message));
    if (rec.fields.size() != header.size()) {
      return Error(Errc::bad_value,
                   fmt::format("{}:{}: {} fields, header has {}", file, rec.line, rec.fields.size(), header.size()));
    }
    Category c;
    c.code = trim(rec.fields[col.code]);
    if (c.code.empty()) return bad("category_code", "empty");
    if (col.name) c.name = rec.fields[*col.name];
    const std::string_view tier = trim(rec.fields[col.initial_tier]);
    auto t = tier_of(tier);
    if (!t) return bad("initial_tier", fmt::format("'{}' is not grid, community or county", tier));
    c.initial_tier = *t;
    c.county_dept = trim(rec.fields[col.county_dept]);
    if (c.county_dept.empty()) return bad("county_dept_code", "empty");
    for (auto [name, idx, dst] : {std::tuple{"sla_hours_grid", col.hours_grid, &c.hours_grid},
                                  std::tuple{"sla_hours_community", col.hours_community, &c.hours_community},
                                  std::tuple{"sla_hours_county", col.hours_county, &c.hours_county}}) {
      const std::string_view v = trim(rec.fields[idx]);
      if (v.empty() || v == "-") continue;
      int h = 0;
      auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), h);
      if (ec != std::errc{} || p != v.data() + v.size() || h <= 0 || h > kMaxHours) {
        return bad(name, fmt::format("'{}' is not a number of hours in 1..{} (empty or '-': no clock)", v, kMaxHours));
      }
      *dst = h;
    }
    if (out.contains(c.code)) return bad("category_code", fmt::format("'{}' is listed twice", c.code));
    std::string key = c.code;
    out.emplace(std::move(key), std::move(c));
  }
  if (out.empty()) return Error(Errc::bad_value, fmt::format("{}: no categories", file));
  return out;
}

Result<CategoryTable> load_categories(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return Error(Errc::io_failed, fmt::format("{}: cannot open categories file", file.string()));
  std::stringstream ss;
  ss << in.rdbuf();
  return parse_categories(ss.str(), file.string());
}

}  // namespace gridhub::categories
