#pragma once
/// An RFC 4180 CSV reader over UTF-8 text that remembers where each record starts.
///
/// Operators fix exports by opening them in an editor, so every record carries the 1-based line on
/// which it starts (quoted fields may span lines) and its exact text. The reader never throws.
///
/// A stray quote (one `"` typed into a cell) must not turn the rest of the file into one record. A
/// quoted field is taken as stray when it never closes, when it does not close within
/// kMaxQuotedFieldBytes (more than a spreadsheet cell holds), or — with expect_fields() set — when
/// it spans lines and the record comes out the wrong width. Then the record is only the line the
/// quote opened on, read with such quotes as text, marked `error`, and reading resumes at the next
/// line, so the following rows arrive with their right line numbers.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace gridhub::text {

struct CsvRecord {
  std::size_t line = 0;              // 1-based line on which the record starts
  std::vector<std::string> fields;   // unquoted values; embedded newlines kept verbatim
  std::string_view raw;              // the record's exact text, without its line terminator;
                                     // points into the text given to CsvReader
  bool error = false;                // the record is malformed (see error_message)
  std::string error_message;         // why, with line numbers; no field values

  std::size_t size() const noexcept { return fields.size(); }
};

/// Reads records one at a time. Fields are separated by ',', records by LF, CRLF or a lone CR.
/// Quoted fields may hold commas, line breaks and doubled quotes. Blank lines are skipped (they are
/// not records; spreadsheet tools append them freely). Text that follows a closing quote before the
/// next separator is kept as part of the field, as spreadsheet programs do.
///
/// `text` must outlive the reader and every CsvRecord::raw it hands out. Reusing one CsvRecord for
/// all calls reuses its buffers, so steady-state reading does not allocate.
class CsvReader {
 public:
  explicit CsvReader(std::string_view text) noexcept : text_(text) {}

  /// Fills `out` with the next record; false at the end of the text (then `out` is left cleared).
  bool next(CsvRecord& out);

  /// The 1-based line at which the next record would start.
  std::size_t line() const noexcept { return line_; }

  /// Every record should have `n` fields (the header's width; 0: unknown, the default). Lets the
  /// reader recognise a stray quote that a later quote closed (see above).
  void expect_fields(std::size_t n) noexcept { expected_fields_ = n; }

  /// A quoted field longer than this is a stray quote's doing: a spreadsheet cell holds at most
  /// 32,767 characters (under 96 KiB of UTF-8).
  static constexpr std::size_t kMaxQuotedFieldBytes = 128 * 1024;

 private:
  /// Where a stray quote opened (npos: none) and why it is taken as stray.
  struct Stray {
    std::size_t at = std::string_view::npos;
    std::string_view why;
  };
  Stray read_record(CsvRecord& out, std::size_t limit, bool one_line);

  std::string_view text_;
  std::size_t pos_ = 0;
  std::size_t line_ = 1;
  std::size_t expected_fields_ = 0;
};

}  // namespace gridhub::text
