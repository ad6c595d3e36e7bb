#pragma once
/// A plain-text stand-in for an .xlsx archive, so hotline_xlsx_fuzz can mutate the workbook's XML
/// directly: a ZIP's deflate streams and CRCs turn nearly every byte-level mutation into "not a
/// ZIP archive", and the XML readers behind it would go unfuzzed.
///
/// Format: parts, each a line "==> <part name>" followed by the part's bytes up to the next
/// "\n==> " (or the end). Bytes before the first "==> " line are ignored. pack_parts builds a
/// valid (stored, uncompressed) ZIP from them; later parts with the same name replace earlier ones.

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <zip.h>

namespace gridhub::fuzz {

inline constexpr std::string_view kPartMarker = "==> ";

inline std::vector<std::pair<std::string, std::string_view>> split_parts(std::string_view in) {
  std::vector<std::pair<std::string, std::string_view>> parts;
  std::size_t pos = in.substr(0, kPartMarker.size()) == kPartMarker ? 0 : in.find("\n==> ");
  if (pos == std::string_view::npos) return parts;
  if (pos != 0 || in[0] == '\n') ++pos;  // skip the '\n' of "\n==> "
  while (pos != std::string_view::npos && parts.size() < 32) {
    pos += kPartMarker.size();
    const std::size_t eol = in.find('\n', pos);
    if (eol == std::string_view::npos) {
      parts.emplace_back(std::string(in.substr(pos)), std::string_view{});
      break;
    }
    const std::size_t next = in.find("\n==> ", eol);
    std::string_view content;
    if (next == std::string_view::npos) {
      content = in.substr(eol + 1);
    } else if (next > eol) {
      content = in.substr(eol + 1, next - eol - 1);
    }
    parts.emplace_back(std::string(in.substr(pos, eol - pos)), content);
    pos = next == std::string_view::npos ? next : next + 1;
  }
  return parts;
}

/// The parts as a stored ZIP archive; empty if libzip refuses (no parts, a bad name).
inline std::string pack_parts(const std::vector<std::pair<std::string, std::string_view>>& parts) {
  zip_error_t err;
  zip_error_init(&err);
  zip_source_t* src = zip_source_buffer_create(nullptr, 0, 0, &err);
  zip_error_fini(&err);
  if (src == nullptr) return {};
  zip_t* archive = zip_open_from_source(src, ZIP_TRUNCATE, nullptr);
  if (archive == nullptr) {
    zip_source_free(src);
    return {};
  }
  for (const auto& [name, content] : parts) {
    zip_source_t* s = zip_source_buffer(archive, content.data(), content.size(), 0);
    if (s == nullptr) continue;
    const zip_int64_t index = zip_file_add(archive, name.c_str(), s, ZIP_FL_OVERWRITE | ZIP_FL_ENC_UTF_8);
    if (index < 0) {
      zip_source_free(s);
      continue;
    }
    zip_set_file_compression(archive, static_cast<zip_uint64_t>(index), ZIP_CM_STORE, 0);
  }
  zip_source_keep(src);
  if (zip_close(archive) != 0) {
    zip_discard(archive);
    zip_source_free(src);
    return {};
  }
  std::string out;
  if (zip_source_open(src) == 0) {
    if (zip_source_seek(src, 0, SEEK_END) == 0) {
      const zip_int64_t size = zip_source_tell(src);
      if (size > 0 && zip_source_seek(src, 0, SEEK_SET) == 0) {
        out.resize(static_cast<std::size_t>(size));
        if (zip_source_read(src, out.data(), static_cast<zip_uint64_t>(size)) != size) out.clear();
      }
    }
    zip_source_close(src);
  }
  zip_source_free(src);
  return out;
}

}  // namespace gridhub::fuzz
