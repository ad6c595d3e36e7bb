#include "gridhub/text/csv_reader.hpp"

#include <string>

namespace gridhub::text {
namespace {

/// Line breaks in text[begin, end): LF, CRLF (counted once) and a lone CR.
std::size_t count_line_breaks(std::string_view text, std::size_t begin, std::size_t end) noexcept {
  std::size_t lines = 0;
  for (std::size_t k = begin; k < end; ++k) {
    if (text[k] == '\n') {
      ++lines;
    } else if (text[k] == '\r' && (k + 1 >= text.size() || text[k + 1] != '\n')) {
      ++lines;
    }
  }
  return lines;
}

}  // namespace

bool CsvReader::next(CsvRecord& out) {
  const std::size_t n = text_.size();
  out.error = false;
  out.error_message.clear();

  while (pos_ < n && (text_[pos_] == '\n' || text_[pos_] == '\r')) {
    if (text_[pos_] == '\r' && pos_ + 1 < n && text_[pos_ + 1] == '\n') ++pos_;
    ++pos_;
    ++line_;
  }
  if (pos_ >= n) {
    out.line = line_;
    out.fields.clear();
    out.raw = {};
    return false;
  }

  out.line = line_;
  const std::size_t start = pos_;
  std::size_t count = 0;
  // Reuse the record's strings (clear() keeps capacity) so a long file allocates only while the
  // widest field grows.
  const auto next_field = [&]() -> std::string& {
    if (count == out.fields.size()) out.fields.emplace_back();
    std::string& f = out.fields[count++];
    f.clear();
    return f;
  };

  for (;;) {
    std::string& field = next_field();
    if (pos_ < n && text_[pos_] == '"') {
      const std::size_t opened_on = line_;
      ++pos_;
      bool closed = false;
      while (!closed) {
        const std::size_t quote = text_.find('"', pos_);
        const std::size_t chunk_end = quote == std::string_view::npos ? n : quote;
        line_ += count_line_breaks(text_, pos_, chunk_end);
        field.append(text_.data() + pos_, chunk_end - pos_);
        if (quote == std::string_view::npos) {
          pos_ = n;
          break;
        }
        if (quote + 1 < n && text_[quote + 1] == '"') {  // "" is one literal quote
          field += '"';
          pos_ = quote + 2;
        } else {
          pos_ = quote + 1;
          closed = true;
        }
      }
      if (!closed) {
        out.fields.resize(count);
        out.raw = text_.substr(start);
        out.error = true;
        out.error_message = "quoted field opened on line " + std::to_string(opened_on) +
                            " is never closed (runs to the end of the file)";
        return true;
      }
    }
    // An unquoted field, or stray text after a closing quote, runs to the next separator.
    std::size_t end = pos_;
    while (end < n && text_[end] != ',' && text_[end] != '\n' && text_[end] != '\r') ++end;
    field.append(text_.data() + pos_, end - pos_);
    pos_ = end;
    if (pos_ < n && text_[pos_] == ',') {
      ++pos_;
      continue;
    }
    out.raw = text_.substr(start, pos_ - start);
    if (pos_ < n) {  // consume the line terminator
      if (text_[pos_] == '\r' && pos_ + 1 < n && text_[pos_ + 1] == '\n') ++pos_;
      ++pos_;
      ++line_;
    }
    break;
  }
  out.fields.resize(count);
  return true;
}

}  // namespace gridhub::text
