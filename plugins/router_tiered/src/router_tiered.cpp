#include "gridhub/plugins/router_tiered.hpp"

#include <fmt/format.h>

#include <cstring>
#include <fstream>
#include <algorithm>
#include <sstream>

#include "gridhub/common/config.hpp"
#include "gridhub/common/fingerprint.hpp"
#include "gridhub/common/time_math.hpp"
#include "gridhub/text/csv_reader.hpp"

namespace gridhub::plugins {

namespace {

std::string read_file(const std::filesystem::path& file, bool& ok) {
  std::ifstream in(file, std::ios::binary);
  ok = static_cast<bool>(in);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  if (s.rfind("\xEF\xBB\xBF", 0) == 0) s.erase(0, 3);
  return s;
}

}  // namespace

Result<std::map<std::string, CategoryRule>> load_categories(const std::filesystem::path& file) {
  bool ok = false;
  const std::string text = read_file(file, ok);
  if (!ok) return Error(Errc::io_failed, fmt::format("{}: cannot open categories file", file.string()));
  text::CsvReader reader(text);
  text::CsvRecord rec;
  std::vector<std::string> header;
  std::map<std::string, CategoryRule> out;
  const char* cols[] = {"category_code", "category_name", "initial_tier", "county_dept_code",
                        "sla_hours_grid", "sla_hours_community", "sla_hours_county"};
  std::map<std::string, std::size_t> idx;
  while (reader.next(rec)) {
    if (header.empty()) {
      header = rec.fields;
      for (const char* c : cols) {
        auto it = std::find(header.begin(), header.end(), c);
        if (it == header.end()) return Error(Errc::missing_field, fmt::format("{}:{}: column '{}' is missing", file.string(), rec.line, c));
        idx[c] = static_cast<std::size_t>(it - header.begin());
      }
      continue;
    }
    if (rec.error || rec.fields.size() != header.size()) {
      return Error(Errc::bad_value, fmt::format("{}:{}: {} fields, header has {}", file.string(), rec.line, rec.fields.size(), header.size()));
    }
    CategoryRule r;
    r.code = rec.fields[idx["category_code"]];
    r.name = rec.fields[idx["category_name"]];
    r.initial_tier = rec.fields[idx["initial_tier"]];
    r.county_dept = rec.fields[idx["county_dept_code"]];
    if (r.initial_tier != "grid" && r.initial_tier != "community" && r.initial_tier != "county") {
      return Error(Errc::bad_value, fmt::format("{}:{}: initial_tier '{}' is not grid, community or county", file.string(), rec.line, r.initial_tier));
    }
    for (auto [col, dst] : {std::pair{"sla_hours_grid", &r.sla_hours_grid}, std::pair{"sla_hours_community", &r.sla_hours_community},
                            std::pair{"sla_hours_county", &r.sla_hours_county}}) {
      const std::string& v = rec.fields[idx[col]];
      if (v.empty() || v == "-") continue;
      char* end = nullptr;
      long h = std::strtol(v.c_str(), &end, 10);
      if (end == v.c_str() || *end != '\0' || h <= 0 || h > 24 * 365) {
        return Error(Errc::bad_value, fmt::format("{}:{}: {} '{}' is not a number of hours", file.string(), rec.line, col, v));
      }
      *dst = static_cast<int>(h);
    }
    if (r.code.empty()) return Error(Errc::missing_field, fmt::format("{}:{}: empty category_code", file.string(), rec.line));
    out[r.code] = r;
  }
  if (out.empty()) return Error(Errc::bad_value, fmt::format("{}: no categories", file.string()));
  return out;
}

TieredRouter::TieredRouter(std::map<std::string, CategoryRule> categories, std::string center_code, std::string data_version)
    : categories_(std::move(categories)), center_code_(std::move(center_code)), data_version_(std::move(data_version)) {}

plugin::Routing TieredRouter::route(const plugin::Record& record, const plugin::Resolution& res,
                                    const plugin::Classification& cls) noexcept {
  plugin::Routing r;
  auto sla = [&](int hours) {
    return hours > 0 && record.reported_at_us > 0 ? add_micros_saturated(record.reported_at_us, hours_to_micros_saturated(hours)) : 0;
  };
  if (res.out_of_area) {
    r.tier = "center";
    r.assignee_code = center_code_;
    r.why = {"out_of_area", "address outside the county: manual dispatch by the 12345 centre"};
    return r;
  }
  auto it = categories_.find(cls.category_code);
  if (it == categories_.end()) {
    r.tier = "center";
    r.assignee_code = center_code_;
    r.why = {"unknown_category", fmt::format("category '{}' is not in the category table", cls.category_code)};
    return r;
  }
  const CategoryRule& c = it->second;
  if (c.initial_tier == "county") {
    r.tier = "county";
    r.assignee_code = c.county_dept;
    r.sla_due_us = sla(c.sla_hours_county);
    r.why = {"category_county", fmt::format("{} {} is handled at county tier by {}", c.code, c.name, c.county_dept)};
    return r;
  }
  if (c.initial_tier == "grid" && !res.grid_code.empty()) {
    r.tier = "grid";
    r.assignee_code = res.grid_code;
    r.sla_due_us = sla(c.sla_hours_grid);
    r.why = {"category_grid", fmt::format("{} {} stays in grid {}", c.code, c.name, res.grid_code)};
    return r;
  }
  if (!res.community_code.empty()) {
    r.tier = "community";
    r.assignee_code = res.community_code;
    r.sla_due_us = sla(c.sla_hours_community);
    r.why = {c.initial_tier == "grid" ? "category_grid_no_grid" : "category_community",
             c.initial_tier == "grid"
                 ? fmt::format("{} {} is a grid matter but only community {} is known", c.code, c.name, res.community_code)
                 : fmt::format("{} {} stays in community {}", c.code, c.name, res.community_code)};
    return r;
  }
  r.tier = "center";
  r.assignee_code = center_code_;
  r.why = {"place_unknown", fmt::format("{} {} needs a place and none is known: manual dispatch", c.code, c.name)};
  return r;
}

}  // namespace gridhub::plugins

namespace {

using gridhub::plugins::TieredRouter;

gridhub::plugin::Stage* create(const char* config_toml, const char* base_dir, char* error, std::size_t error_size) noexcept {
  try {
    using gridhub::config::Type;
    const gridhub::config::Spec spec = {
        {"categories", Type::kString, true, "path to categories.csv"},
        {"center_code", Type::kString, false, "assignee for manual dispatch"},
    };
    auto cfg = gridhub::config::Config::parse(config_toml, "[plugins.router_tiered]", base_dir, spec);
    auto path = cfg.get_path("categories");
    auto cats = gridhub::plugins::load_categories(path);
    if (!cats) throw std::runtime_error(cats.error().detail);
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    const auto version = gridhub::fingerprint("categories", ss.str());
    return new TieredRouter(std::move(cats.value()), cfg.get_string("center_code", "CTR_12345"), version);
  } catch (const std::exception& e) {
    std::snprintf(error, error_size, "%s", e.what());
    return nullptr;
  }
}

void destroy(gridhub::plugin::Stage* s) noexcept { delete s; }

const gridhub::plugin::Descriptor kDescriptor{
    gridhub::plugin::kAbiVersion, sizeof(gridhub::plugin::Descriptor), "router_tiered",
    gridhub::plugin::Kind::kRouter, "1.0", &create, &destroy};

}  // namespace

const gridhub::plugin::Descriptor* router_tiered_descriptor() noexcept { return &kDescriptor; }
