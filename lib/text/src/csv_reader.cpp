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

constexpr std::string_view kTooLongQuoted = "is not closed within 128 KiB";
static_assert(CsvReader::kMaxQuotedFieldBytes == 128 * 1024, "kTooLongQuoted names the limit");

std::size_t line_end_from(std::string_view text, std::size_t pos) noexcept {
  const std::size_t e = text.find_first_of("\r\n", pos);
  return e == std::string_view::npos ? text.size() : e;
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
  const Stray stray = read_record(out, n, false);
  if (stray.at == std::string_view::npos) return true;

  // A quote opened a field that never closes properly — most often one stray quote typed into a
  // cell. Read as a quoted field it would swallow the rest of the file (or everything up to the
  // next quote) into this one record. Instead the record is the line the quote is on, with quotes
  // that do not close on that line taken as text, and reading goes on at the next line: the rows
  // after it arrive, and their line numbers stay right.
  const std::size_t opened_on = out.line + count_line_breaks(text_, start, stray.at);
  const std::size_t line_end = line_end_from(text_, stray.at);
  pos_ = start;
  line_ = out.line;
  (void)read_record(out, line_end, true);
  out.raw = text_.substr(start, line_end - start);
  pos_ = line_end;
  line_ = opened_on;
  if (pos_ < n) {  // consume the line terminator
    if (text_[pos_] == '\r' && pos_ + 1 < n && text_[pos_ + 1] == '\n') ++pos_;
    ++pos_;
    ++line_;
  }
  out.error = true;
  out.error_message = "quoted field opened on line " + std::to_string(opened_on) + " " + std::string(stray.why) +
                      "; that line is read with the quote as text and reading goes on at the next line";
  return true;
}

CsvReader::Stray CsvReader::read_record(CsvRecord& out, std::size_t limit, bool one_line) {
  // `limit` is the end of the text, or (`one_line`: re-reading the line of a stray quote) the end of
  // that line: a quoted field must close before it, or its quote is text.
  const std::size_t start = pos_;
  std::size_t count = 0;
  std::size_t first_multiline_quote = std::string_view::npos;
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
    if (pos_ < limit && text_[pos_] == '"') {
      const std::size_t opening = pos_;
      const std::size_t lines_before = line_;
      ++pos_;
      bool closed = false;
      std::string_view why = "is never closed (runs to the end of the file)";
      while (!closed) {
        const std::size_t quote = text_.find('"', pos_);
        if (quote == std::string_view::npos || quote >= limit) break;
        if (quote - opening > kMaxQuotedFieldBytes) {
          why = kTooLongQuoted;
          break;
        }
        line_ += count_line_breaks(text_, pos_, quote);
        field.append(text_.data() + pos_, quote - pos_);
        if (quote + 1 < limit && text_[quote + 1] == '"') {  // "" is one literal quote
          field += '"';
          pos_ = quote + 2;
        } else {
          pos_ = quote + 1;
          closed = true;
        }
      }
      if (!closed) {
        if (!one_line) {
          out.fields.resize(count);
          return Stray{opening, why};
        }
        // Re-reading the stray quote's line: this quote is text, like any other character here.
        field.clear();
        pos_ = opening;
        line_ = lines_before;
      } else if (line_ != lines_before && !one_line) {
        // A cell with line breaks is real; one whose closing quote has text glued to it is another
        // row's opening quote closing a stray one.
        if (pos_ < limit && text_[pos_] != ',' && text_[pos_] != '\n' && text_[pos_] != '\r') {
          out.fields.resize(count);
          return Stray{opening, "spans lines and its closing quote is followed by text"};
        }
        if (first_multiline_quote == std::string_view::npos) first_multiline_quote = opening;
      }
    }
    // An unquoted field, or stray text after a closing quote, runs to the next separator.
    std::size_t end = pos_;
    while (end < limit && text_[end] != ',' && text_[end] != '\n' && text_[end] != '\r') ++end;
    field.append(text_.data() + pos_, end - pos_);
    pos_ = end;
    if (pos_ < limit && text_[pos_] == ',') {
      ++pos_;
      continue;
    }
    out.raw = text_.substr(start, pos_ - start);
    break;
  }
  out.fields.resize(count);
  if (!one_line && first_multiline_quote != std::string_view::npos && expected_fields_ != 0 &&
      count != expected_fields_) {
    // A quoted field ran over line breaks and the record came out the wrong width: far likelier a
    // stray quote closed by a later one than a real multi-line cell in a broken row.
    return Stray{first_multiline_quote, "spans lines and leaves the record with the wrong number of fields"};
  }
  const std::size_t n = text_.size();
  if (pos_ < n) {  // consume the line terminator
    if (text_[pos_] == '\r' && pos_ + 1 < n && text_[pos_ + 1] == '\n') ++pos_;
    ++pos_;
    ++line_;
  }
  return Stray{};
}

}  // namespace gridhub::text
