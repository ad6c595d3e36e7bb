#pragma once
/// What the web-form parsers return, and the line splitting their file helpers share.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "gridhub/v1/event.pb.h"

namespace gridhub::webform {

/// One submission. `record_key` is the source's own name for it (jinshuju: serial_number, unique
/// per form; urlencoded file: the 1-based line), the key operators and labels use;
/// Event::source_key is the hub's identity (see each parser).
struct KeyedEvent {
  std::string record_key;
  gridhub::v1::Event event;
};

/// AdapterRejection.reason_code values used by this library.
inline constexpr std::string_view kReasonBadJson = "bad_json";                  // truncated / invalid JSON
inline constexpr std::string_view kReasonBadPercentEscape = "bad_percent_escape";  // '%' without two hex digits
inline constexpr std::string_view kReasonBadEncoding = "bad_encoding";          // not valid in the charset
inline constexpr std::string_view kReasonUnknownCharset = "unknown_charset";
inline constexpr std::string_view kReasonUnknownForm = "unknown_form";          // form id not in the field map
inline constexpr std::string_view kReasonMissingField = "missing_field";
inline constexpr std::string_view kReasonBadValue = "bad_value";
inline constexpr std::string_view kReasonBadDate = "bad_date";

/// One line of a one-record-per-line file.
struct RecordLine {
  std::size_t number = 0;  // 1-based
  std::string_view text;   // without its LF / CRLF
};

/// Splits a file holding one record per line (JSONL, urlencoded bodies). Lines are separated by LF
/// or CRLF; blank lines are not records and are skipped (line numbers still count them).
std::vector<RecordLine> split_record_lines(std::string_view file_bytes);

}  // namespace gridhub::webform
