#include "gridhub/webform/record.hpp"

namespace gridhub::webform {

std::vector<RecordLine> split_record_lines(std::string_view file_bytes) {
  if (file_bytes.starts_with("\xEF\xBB\xBF")) file_bytes.remove_prefix(3);
  std::vector<RecordLine> lines;
  std::size_t number = 0;
  while (!file_bytes.empty()) {
    ++number;
    const std::size_t nl = file_bytes.find('\n');
    std::string_view line = file_bytes.substr(0, nl);
    if (line.ends_with('\r')) line.remove_suffix(1);
    if (line.find_first_not_of(" \t") != std::string_view::npos) lines.push_back({number, line});
    if (nl == std::string_view::npos) break;
    file_bytes.remove_prefix(nl + 1);
  }
  return lines;
}

}  // namespace gridhub::webform
