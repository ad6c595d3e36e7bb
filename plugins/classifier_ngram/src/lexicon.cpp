// The county's category lexicon (world/lexicon.csv): words people actually use, as prior examples.
#include "gridhub/plugins/classifier_ngram.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <fstream>

#include "features.hpp"

namespace gridhub::classifier_ngram {
namespace {

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

}  // namespace

Result<std::vector<TrainingExample>> lexicon_examples(const std::filesystem::path& lexicon_csv,
                                                      const std::vector<std::string>& known_codes) {
  const std::string file = lexicon_csv.string();
  std::ifstream in(lexicon_csv, std::ios::binary);
  if (!in) return Error(Errc::io_failed, fmt::format("{}: cannot open category lexicon", file));
  if (in.peek() == 0xEF) in.ignore(3);   // UTF-8 BOM from spreadsheet exports

  std::vector<TrainingExample> out;
  std::string raw;
  std::size_t line = 0;
  bool header = false;
  while (std::getline(in, raw)) {
    ++line;
    const std::string_view row = trim(raw);
    if (row.empty() || row.front() == '#') continue;
    const auto comma = row.find(',');
    if (comma == std::string_view::npos || row.find(',', comma + 1) != std::string_view::npos) {
      return Error(Errc::bad_value,
                   fmt::format("{}:{}: expected 2 fields (category_code,term), got '{}'", file, line, row));
    }
    const std::string_view code = trim(row.substr(0, comma));
    const std::string_view term = trim(row.substr(comma + 1));
    if (!header) {
      if (code != "category_code" || term != "term") {
        return Error(Errc::missing_field,
                     fmt::format("{}:{}: header must be 'category_code,term', got '{}'", file, line, row));
      }
      header = true;
      continue;
    }
    if (code.empty()) return Error(Errc::missing_field, fmt::format("{}:{}: field category_code is empty", file, line));
    if (!known_codes.empty() && std::find(known_codes.begin(), known_codes.end(), code) == known_codes.end()) {
      return Error(Errc::bad_value,
                   fmt::format("{}:{}: field category_code '{}' is not a category of the table", file, line, code));
    }
    if (detail::content_length(term) == 0) {
      return Error(Errc::missing_field, fmt::format("{}:{}: field term is empty", file, line));
    }
    TrainingExample e;
    e.text = std::string(term);
    e.channel = std::string(kPriorChannel);
    e.label = std::string(code);
    out.push_back(std::move(e));
  }
  if (!header) return Error(Errc::missing_field, fmt::format("{}: no 'category_code,term' header", file));
  return out;
}

}  // namespace gridhub::classifier_ngram
