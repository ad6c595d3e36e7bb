#include "gridhub/plugins/classifier_ngram.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "features.hpp"

namespace gridhub::classifier_ngram {
namespace {

// RFC 4180 fields of one logical row (quoted fields may hold commas, quotes and newlines).
bool read_row(std::istream& in, std::vector<std::string>& fields) {
  fields.clear();
  std::string field;
  bool quoted = false;
  bool any = false;
  char c = 0;
  while (in.get(c)) {
    any = true;
    if (quoted) {
      if (c == '"') {
        if (in.peek() == '"') {
          in.get(c);
          field += '"';
        } else {
          quoted = false;
        }
      } else {
        field += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      fields.push_back(std::move(field));
      field.clear();
    } else if (c == '\n') {
      break;
    } else if (c != '\r') {
      field += c;
    }
  }
  if (!any) return false;
  fields.push_back(std::move(field));
  return true;
}

// Splits on the enumeration separators of a description: 、，,；;
std::vector<std::string> clauses(const std::string& s) {
  static const std::vector<std::string> kSeps{"、", "，", ",", "；", ";"};
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= s.size()) {
    std::size_t best = std::string::npos;
    std::size_t len = 0;
    for (const auto& sep : kSeps) {
      const auto pos = s.find(sep, start);
      if (pos < best) {
        best = pos;
        len = sep.size();
      }
    }
    out.push_back(s.substr(start, best == std::string::npos ? std::string::npos : best - start));
    if (best == std::string::npos) break;
    start = best + len;
  }
  return out;
}

TrainingExample prior(std::string text, const std::string& code) {
  TrainingExample e;
  e.text = std::move(text);
  e.channel = std::string(kPriorChannel);
  e.label = code;
  return e;
}

}  // namespace

Result<std::vector<TrainingExample>> category_examples(const std::filesystem::path& categories_csv) {
  std::ifstream in(categories_csv, std::ios::binary);
  if (!in) return Error(Errc::io_failed, fmt::format("{}: cannot open category table", categories_csv.string()));
  if (in.peek() == 0xEF) in.ignore(3);   // UTF-8 BOM from spreadsheet exports

  std::vector<std::string> row;
  if (!read_row(in, row)) return Error(Errc::missing_field, fmt::format("{}: empty file", categories_csv.string()));
  auto column = [&](std::string_view name) -> std::ptrdiff_t {
    const auto it = std::find(row.begin(), row.end(), name);
    return it == row.end() ? -1 : it - row.begin();
  };
  const auto code_col = column("category_code");
  const auto name_col = column("category_name");
  const auto desc_col = column("description");
  if (code_col < 0 || name_col < 0 || desc_col < 0) {
    return Error(Errc::missing_field, fmt::format("{}: header needs category_code, category_name and description",
                                                  categories_csv.string()));
  }
  const auto need = static_cast<std::size_t>(std::max({code_col, name_col, desc_col}));

  std::vector<TrainingExample> out;
  std::size_t line = 1;
  while (read_row(in, row)) {
    ++line;
    if (row.size() == 1 && row[0].empty()) continue;
    if (row.size() <= need) {
      return Error(Errc::missing_field, fmt::format("{}:{}: {} columns, expected at least {}",
                                                    categories_csv.string(), line, row.size(), need + 1));
    }
    const std::string& code = row[static_cast<std::size_t>(code_col)];
    const std::string& name = row[static_cast<std::size_t>(name_col)];
    std::string desc = row[static_cast<std::size_t>(desc_col)];
    // "公用事业：停水、水压低…": the major class is shared by sibling categories, so it would teach
    // nothing that tells them apart; keep what follows it.
    for (std::string_view colon : {"：", ":"}) {
      const auto pos = desc.find(colon);
      if (pos != std::string::npos) {
        desc = desc.substr(pos + colon.size());
        break;
      }
    }
    out.push_back(prior(name, code));
    out.push_back(prior(desc, code));
    out.push_back(prior(name + "：" + desc, code));
    // Each enumerated clause alone ("停水", "水压低") — unless the list names what the category
    // excludes ("漏水、占道、噪声以外的邻里矛盾"), where the clauses belong to other categories.
    if (desc.find("以外") == std::string::npos && desc.find("除") == std::string::npos) {
      for (auto& c : clauses(desc)) {
        if (c.size() >= 3 && c.compare(c.size() - 3, 3, "等") == 0) c.resize(c.size() - 3);
        if (detail::content_length(c) >= 2) out.push_back(prior(std::move(c), code));
      }
    }
  }
  return out;
}

}  // namespace gridhub::classifier_ngram
