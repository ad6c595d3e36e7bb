#pragma once
/// 12345 work-order exports saved as Excel workbooks (.xlsx, Office Open XML).
///
/// Two layers: read_xlsx_sheet turns one worksheet into rows of display strings (what an operator
/// sees in Excel), and parse_xlsx_export feeds those rows through the same column mapping as
/// parse_export, so a CSV and an XLSX export of the same work orders give the same Events.
///
/// Cell values as strings:
///   shared / inline / formula strings  the text
///   numbers                            Excel's stored text ("13760230009"); an integral value
///                                      stored in exponent form is written out in full
///   numbers with a date/time format    local "yyyy-mm-dd hh:mm:ss" (or "yyyy-mm-dd" for a
///                                      date-only format): Excel serial dates have no zone, they
///                                      are the export's local time (ParseOptions::utc_offset_minutes
///                                      then applies, as for CSV text dates)
///   booleans                           "TRUE" / "FALSE"
///   errors                             the error text ("#N/A")
/// Rejection locations are "<source_name>:<sheet>!R<row>" (Excel's own row number).

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "gridhub/common/result.hpp"
#include "gridhub/hotline/hotline_mapping.hpp"

namespace gridhub::hotline {

/// One non-empty row of a worksheet.
struct XlsxRow {
  std::size_t row_number = 0;       // 1-based, as Excel shows it
  std::vector<std::string> cells;   // column A first, up to the last cell present; gaps are ""
};

struct XlsxSheet {
  std::string name;                 // the sheet's tab name ("新工单")
  std::vector<XlsxRow> rows;        // in sheet order; rows without any cell are left out
};

/// Reads the worksheet named `sheet_name` (empty: the workbook's first sheet). Never throws.
/// Whole-file problems are an Error without the file name (the caller adds it): not a ZIP
/// archive or not a workbook (Errc::malformed_frame), no such sheet (Errc::missing_field, the
/// detail lists the sheets), a part over 64 MiB uncompressed (Errc::too_large).
Result<XlsxSheet> read_xlsx_sheet(std::string_view file_bytes, std::string_view sheet_name = {});

/// `cells` as one RFC 4180 CSV line (quoted where needed); the original_payload of XLSX rows.
std::string xlsx_row_as_csv(std::span<const std::string> cells);

/// Parses an XLSX export: the first non-empty row of the sheet is the header, every later
/// non-empty row one Event, mapped exactly as parse_export maps CSV rows (same reason codes).
/// Rows are never short of columns (Excel leaves out trailing empty cells); a row with cells
/// beyond the header's last column is rejected with kReasonColumnCount.
/// ParseOptions::encoding is ignored (OOXML is UTF-8); ParseOutput::encoding is "utf-8".
Result<ParseOutput> parse_xlsx_export(std::string_view file_bytes, const std::string& source_name,
                                      const ParseOptions& options, std::string_view sheet_name = {});

}  // namespace gridhub::hotline
