#include "gridhub/sla/sla_policy.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <sstream>
#include <vector>

#include "gridhub/text/csv_reader.hpp"

namespace gridhub::sla {

namespace {

using config::ConfigError;
using config::Type;

constexpr int kMaxHours = 24 * 365;

v1::Tier tier_of(std::string_view s) {
  if (s == "grid") return v1::TIER_GRID;
  if (s == "community") return v1::TIER_COMMUNITY;
  if (s == "county") return v1::TIER_COUNTY;
  return v1::TIER_UNSPECIFIED;
}

}  // namespace

const config::Spec& SlaSettings::spec() {
  static const config::Spec kSpec = {
      {"sla.calendar", Type::kString, true, "working-hours calendar file (docs/lifecycle.md)"},
      {"sla.categories", Type::kString, true, "categories.csv with sla_hours_grid/community/county"},
      {"sla.max_returns", Type::kInteger, false,
       fmt::format("\"not ours\" returns before manual dispatch (default {})", kDefaultMaxReturns)},
      {"sla.center_code", Type::kString, false, "assignee code of the 12345 centre (default CTR_12345)"},
  };
  return kSpec;
}

SlaSettings SlaSettings::from_config(const config::Config& cfg) {
  SlaSettings s;
  s.calendar = cfg.get_path("sla.calendar");
  s.categories = cfg.get_path("sla.categories");
  s.max_returns = static_cast<int>(cfg.get_int("sla.max_returns", kDefaultMaxReturns, 0, 100));
  s.center_code = cfg.get_string("sla.center_code", "CTR_12345");
  if (s.center_code.empty()) throw ConfigError(fmt::format("{}: must not be empty", cfg.where("sla.center_code")));
  return s;
}

SlaPolicy SlaPolicy::load(const std::filesystem::path& file, int max_returns, std::string center_code) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw ConfigError(fmt::format("{}: cannot open categories file", file.string()));
  std::stringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  if (text.rfind("\xEF\xBB\xBF", 0) == 0) text.erase(0, 3);

  static constexpr const char* kCols[] = {"category_code",  "initial_tier",        "county_dept_code",
                                           "sla_hours_grid", "sla_hours_community", "sla_hours_county"};
  text::CsvReader reader(text);
  text::CsvRecord rec;
  std::vector<std::string> header;
  std::map<std::string, std::size_t> idx;
  std::map<std::string, CategorySla> out;
  const std::string name = file.string();
  while (reader.next(rec)) {
    if (header.empty()) {
      header = rec.fields;
      for (const char* c : kCols) {
        auto it = std::find(header.begin(), header.end(), c);
        if (it == header.end()) throw ConfigError(fmt::format("{}:{}: column '{}' is missing", name, rec.line, c));
        idx[c] = static_cast<std::size_t>(it - header.begin());
      }
      continue;
    }
    if (rec.error || rec.fields.size() != header.size()) {
      throw ConfigError(fmt::format("{}:{}: {} fields, header has {}", name, rec.line, rec.fields.size(), header.size()));
    }
    CategorySla c;
    c.code = rec.fields[idx["category_code"]];
    if (c.code.empty()) throw ConfigError(fmt::format("{}:{} (category_code): empty", name, rec.line));
    const std::string& tier = rec.fields[idx["initial_tier"]];
    c.initial_tier = tier_of(tier);
    if (c.initial_tier == v1::TIER_UNSPECIFIED) {
      throw ConfigError(fmt::format("{}:{} (initial_tier): '{}' is not grid, community or county", name, rec.line, tier));
    }
    c.county_dept = rec.fields[idx["county_dept_code"]];
    if (c.county_dept.empty()) throw ConfigError(fmt::format("{}:{} (county_dept_code): empty", name, rec.line));
    for (auto [col, dst] : {std::pair{"sla_hours_grid", &c.hours_grid}, std::pair{"sla_hours_community", &c.hours_community},
                            std::pair{"sla_hours_county", &c.hours_county}}) {
      const std::string& v = rec.fields[idx[col]];
      if (v.empty()) continue;
      int h = 0;
      auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), h);
      if (ec != std::errc{} || p != v.data() + v.size() || h <= 0 || h > kMaxHours) {
        throw ConfigError(fmt::format("{}:{} ({}): '{}' is not a number of hours in 1..{}", name, rec.line, col, v, kMaxHours));
      }
      *dst = h;
    }
    if (!out.emplace(c.code, c).second) {
      throw ConfigError(fmt::format("{}:{} (category_code): '{}' is listed twice", name, rec.line, c.code));
    }
  }
  if (out.empty()) throw ConfigError(fmt::format("{}: no categories", name));
  return SlaPolicy(std::move(out), max_returns, std::move(center_code));
}

const CategorySla* SlaPolicy::category(const std::string& code) const {
  auto it = categories_.find(code);
  return it == categories_.end() ? nullptr : &it->second;
}

std::optional<int> SlaPolicy::hours(const std::string& code, v1::Tier tier) const {
  const CategorySla* c = category(code);
  if (c == nullptr) return std::nullopt;
  switch (tier) {
    case v1::TIER_GRID: return c->hours_grid;
    case v1::TIER_COMMUNITY: return c->hours_community;
    case v1::TIER_COUNTY: return c->hours_county;
    case v1::TIER_UNSPECIFIED:
    case v1::TIER_CENTER:
    case v1::Tier_INT_MIN_SENTINEL_DO_NOT_USE_:
    case v1::Tier_INT_MAX_SENTINEL_DO_NOT_USE_:
      return std::nullopt;
  }
  return std::nullopt;
}

}  // namespace gridhub::sla
