#pragma once
/// Reading an intake file whole, with an error that names it.

#include <fstream>
#include <sstream>
#include <string>

#include <fmt/format.h>

#include "gridhub/common/result.hpp"

namespace gridhub::adapter {

inline Result<std::string> read_whole_file(const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return Error(Errc::io_failed, fmt::format("{}: cannot open the file; skipped", file));
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace gridhub::adapter
