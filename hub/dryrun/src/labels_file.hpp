#pragma once
// What scoring and training share about a labels CSV: reading it, and matching its `file` column
// (relative to the sample folder) against the paths given on the command line.

#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "gridhub/common/result.hpp"

namespace gridhub::dryrun::detail {

/// The labels file's text, without a UTF-8 BOM; the error names the file.
inline Result<std::string> read_labels_text(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return Error(Errc::io_failed, fmt::format("{}: cannot open labels", file.string()));
  std::stringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  if (text.rfind("\xEF\xBB\xBF", 0) == 0) text.erase(0, 3);
  return text;
}

/// `path` is `suffix` or ends with "/" + `suffix` ("examples/wugong/hotline/a.csv" vs "hotline/a.csv").
inline bool ends_with_path(const std::string& path, const std::string& suffix) {
  if (path == suffix) return true;
  return path.size() > suffix.size() && path.compare(path.size() - suffix.size(), suffix.size(), suffix) == 0 &&
         path[path.size() - suffix.size() - 1] == '/';
}

}  // namespace gridhub::dryrun::detail
