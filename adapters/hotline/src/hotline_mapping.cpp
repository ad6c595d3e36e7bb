#include "gridhub/hotline/hotline_mapping.hpp"

#include <algorithm>
#include <array>
#include <string>
#include <utility>

#include <fmt/format.h>

#include "gridhub/hotline/xlsx_reader.hpp"
#include "gridhub/text/csv_reader.hpp"
#include "gridhub/text/datetime.hpp"
#include "gridhub/text/phone.hpp"
#include "gridhub/text/text_decode.hpp"
#include "gridhub/text/text_decode.hpp"

namespace gridhub::hotline {
namespace {

namespace v1 = gridhub::v1;

constexpr std::string_view kContentType = "text/csv; charset=utf-8";
constexpr std::size_t kAbsent = static_cast<std::size_t>(-1);

/// How a plain string column lands in ExtractedFields; null for the columns parse_export handles
/// itself (key, time).
using Setter = void (*)(v1::ExtractedFields&, std::string_view);

struct Slot {
  std::string_view name;
  std::string ColumnMap::*member;
  bool required;
  Setter set;
};

// The one table behind config validation, header lookup and field filling.
constexpr std::array kSlots{
    Slot{"record_key", &ColumnMap::record_key, true, nullptr},
    Slot{"reported_at", &ColumnMap::reported_at, true, nullptr},
    Slot{"reporter_name", &ColumnMap::reporter_name, false,
         [](v1::ExtractedFields& f, std::string_view v) { f.set_reporter_name(std::string(v)); }},
    Slot{"reporter_phone", &ColumnMap::reporter_phone, false,
         [](v1::ExtractedFields& f, std::string_view v) { f.set_reporter_phone(text::normalize_phone(v)); }},
    Slot{"intake_channel_detail", &ColumnMap::intake_channel_detail, false,
         [](v1::ExtractedFields& f, std::string_view v) { f.set_intake_channel_detail(std::string(v)); }},
    Slot{"request_kind", &ColumnMap::request_kind, false,
         [](v1::ExtractedFields& f, std::string_view v) { f.set_request_kind(std::string(v)); }},
    Slot{"category_hint", &ColumnMap::category_hint, false,
         [](v1::ExtractedFields& f, std::string_view v) { f.set_category_hint(std::string(v)); }},
    Slot{"text", &ColumnMap::text, true,
         [](v1::ExtractedFields& f, std::string_view v) { f.set_text(std::string(v)); }},
    Slot{"address_text", &ColumnMap::address_text, false,
         [](v1::ExtractedFields& f, std::string_view v) { f.set_address_text(std::string(v)); }},
    Slot{"remark", &ColumnMap::remark, false,
         [](v1::ExtractedFields& f, std::string_view v) { f.set_remark(std::string(v)); }},
};

bool is_space(char c) noexcept { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

std::string known_field_names() {
  std::string out;
  for (const Slot& slot : kSlots) {
    if (!out.empty()) out += ", ";
    out += slot.name;
  }
  return out;
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) out += ", ";
    out += item;
  }
  return out;
}

/// Where each mapped field sits in this file's header.
struct Layout {
  std::vector<std::string> header;
  std::array<std::size_t, kSlots.size()> column{};
  std::vector<bool> mapped;  // per header column: some slot reads it (the rest go to `extra`)

  std::size_t column_of(std::string ColumnMap::*member) const {
    for (std::size_t i = 0; i < kSlots.size(); ++i) {
      if (kSlots[i].member == member) return column[i];
    }
    return kAbsent;  // unreachable: every member is in kSlots
  }
};

Result<Layout> resolve_layout(const std::vector<std::string>& header_fields, const ColumnMap& columns,
                              const std::string& source_name) {
  Layout layout;
  layout.header.reserve(header_fields.size());
  for (const auto& name : header_fields) layout.header.emplace_back(trim(name));
  layout.mapped.assign(layout.header.size(), false);

  for (std::size_t i = 0; i < kSlots.size(); ++i) {
    const std::string& wanted = columns.*kSlots[i].member;
    layout.column[i] = kAbsent;
    for (std::size_t c = 0; c < layout.header.size() && !wanted.empty(); ++c) {
      if (layout.header[c] == wanted) {
        layout.column[i] = c;
        layout.mapped[c] = true;
        break;
      }
    }
    // Checked here too, not only in from_config: a ColumnMap can be built by hand, and map_row
    // relies on every required column being present.
    if (layout.column[i] == kAbsent && kSlots[i].required && wanted.empty()) {
      return Error(Errc::missing_field, fmt::format("{}: no header is mapped to the required field {}; set it in the "
                                                    "adapter's [columns] config",
                                                    source_name, kSlots[i].name));
    }
    if (layout.column[i] == kAbsent && kSlots[i].required) {
      return Error(Errc::missing_field,
                   fmt::format("{}: the header has no column '{}' (needed for {}); its columns are: {}. "
                               "Export that column, or map {} to the right header in the adapter's [columns] "
                               "config",
                               source_name, wanted, kSlots[i].name, join(layout.header), kSlots[i].name));
    }
  }
  return layout;
}

void reject(v1::Event& event, std::string_view reason, std::string_view field, std::string detail,
            const std::string& location) {
  auto* r = event.mutable_rejection();
  r->set_reason_code(std::string(reason));
  r->set_field(std::string(field));
  r->set_detail(std::move(detail));
  r->set_location(location);
}

/// One data row, whichever container (CSV file, XLSX sheet) it came from.
struct SourceRow {
  const std::vector<std::string>& fields;
  std::string_view raw;            // the row as CSV text (an XLSX row is rendered as one)
  bool error = false;              // the container could not read the row cleanly
  std::string_view error_message;  // why, when `error`
  std::string location;            // "<file>:<line>" or "<file>:<sheet>!R<row>"
  std::string_view error_reason = {};   // rejection reason when `error` (default: bad_csv)
};

v1::Event map_row(const SourceRow& row, const Layout& layout, const std::string& source_name,
                  const ParseOptions& options) {
  const auto cell = [&](std::size_t column) -> std::string_view {
    return column < row.fields.size() ? trim(row.fields[column]) : std::string_view{};
  };
  const std::string& location = row.location;

  v1::Event event;
  event.set_channel(v1::CHANNEL_HOTLINE);
  event.set_adapter_id(options.adapter_id);
  event.set_source_name(source_name);
  event.set_content_type(std::string(kContentType));
  event.set_original_payload(std::string(row.raw));

  const std::size_t key_col = layout.column_of(&ColumnMap::record_key);
  const std::size_t time_col = layout.column_of(&ColumnMap::reported_at);
  const std::size_t text_col = layout.column_of(&ColumnMap::text);
  const std::string_view key = cell(key_col);
  // A row without its own key still needs a stable identity, or re-importing the file would
  // duplicate it; its position in the named file is the best the source offers.
  event.set_source_key(key.empty() ? location : std::string(key));

  v1::ExtractedFields& fields = *event.mutable_fields();
  for (std::size_t i = 0; i < kSlots.size(); ++i) {
    if (kSlots[i].set == nullptr) continue;
    if (const std::string_view value = cell(layout.column[i]); !value.empty()) kSlots[i].set(fields, value);
  }
  const std::size_t named = std::min(layout.header.size(), row.fields.size());
  for (std::size_t c = 0; c < named; ++c) {
    if (layout.mapped[c] || layout.header[c].empty()) continue;
    if (const std::string_view value = trim(row.fields[c]); !value.empty()) {
      (*fields.mutable_extra())[layout.header[c]] = std::string(value);
    }
  }

  const std::string_view time_text = cell(time_col);
  Result<text::ParsedTime> time = text::parse_datetime(time_text, options.utc_offset_minutes);
  if (time.ok()) {
    fields.mutable_reported_at()->set_unix_micros(time->unix_micros);
    fields.mutable_reported_at()->set_utc_offset_minutes(time->utc_offset_minutes);
  }

  // One rejection per row, the most fundamental first: a broken row's other checks are noise.
  // Details name columns and counts only, never values, so they are safe to log (no PII).
  const std::string& time_header = layout.header[time_col];
  if (row.error) {
    reject(event, row.error_reason.empty() ? kReasonBadCsv : row.error_reason, "", std::string(row.error_message), location);
  } else if (row.fields.size() != layout.header.size()) {
    reject(event, kReasonColumnCount, "",
           fmt::format("row has {} fields but the header has {} columns", row.fields.size(), layout.header.size()),
           location);
  } else if (key.empty()) {
    reject(event, kReasonMissingField, layout.header[key_col],
           fmt::format("{} is empty", layout.header[key_col]), location);
  } else if (time_text.empty()) {
    reject(event, kReasonBadDate, time_header, fmt::format("{} is empty", time_header), location);
  } else if (!time.ok()) {
    reject(event, kReasonBadDate, time_header, fmt::format("{}: {}", time_header, time.error().detail), location);
  } else if (cell(text_col).empty()) {
    reject(event, kReasonMissingField, layout.header[text_col],
           fmt::format("{} is empty", layout.header[text_col]), location);
  }
  return event;
}

}  // namespace

Result<ColumnMap> ColumnMap::from_config(const std::map<std::string, std::string>& config) {
  ColumnMap map;
  for (const auto& [name, header] : config) {
    const Slot* slot = nullptr;
    for (const Slot& s : kSlots) {
      if (s.name == name) slot = &s;
    }
    if (slot == nullptr) {
      return Error(Errc::config_invalid,
                   fmt::format("unknown hotline column field '{}'; known fields: {}", name, known_field_names()));
    }
    const std::string_view trimmed = trim(header);
    if (trimmed.empty() && slot->required) {
      return Error(Errc::config_invalid,
                   fmt::format("column field '{}' is required and cannot map to an empty header", name));
    }
    map.*(slot->member) = std::string(trimmed);
  }
  return map;
}

std::vector<std::string_view> ColumnMap::field_names() {
  std::vector<std::string_view> names;
  names.reserve(kSlots.size());
  for (const Slot& s : kSlots) names.push_back(s.name);
  return names;
}

Result<ParseOutput> parse_export(std::string_view file_bytes, const std::string& source_name,
                                 const ParseOptions& options) {
  Result<text::DecodedText> decoded = text::decode_text(file_bytes, options.encoding);
  if (!decoded.ok()) {
    const Error& e = decoded.error();
    if (e.code == make_error_code(Errc::decode_failed)) {
      return Error(e.code, fmt::format("{}: {}. Re-save the export as UTF-8 or GB18030, or set the adapter's "
                                       "encoding to the file's real encoding",
                                       source_name, e.detail));
    }
    return Error(e.code, fmt::format("{}: {}", source_name, e.detail));
  }

  ParseOutput out;
  out.encoding = decoded->encoding_used;
  const std::string& utf8 = decoded->utf8;

  text::CsvReader reader(utf8);
  text::CsvRecord row;
  if (!reader.next(row)) {
    return Error(Errc::missing_field,
                 fmt::format("{}: no header row (the file is empty); export it again with column headers", source_name));
  }
  if (row.error) {
    return Error(Errc::bad_value, fmt::format("{}: header row: {}; fix the header line or export again", source_name,
                                              row.error_message));
  }
  Result<Layout> layout = resolve_layout(row.fields, options.columns, source_name);
  if (!layout.ok()) return layout.error();
  reader.expect_fields(layout->header.size());

  while (reader.next(row)) {
    const SourceRow source_row{row.fields, row.raw, row.error, row.error_message,
                               fmt::format("{}:{}", source_name, row.line)};
    out.events.push_back(map_row(source_row, *layout, source_name, options));
    if (out.events.back().has_rejection()) ++out.rejected_rows;
  }
  out.data_rows = out.events.size();
  return out;
}

// Defined here, not in xlsx_reader.cpp, so that CSV and XLSX rows share one row -> Event mapping.
Result<ParseOutput> parse_xlsx_export(std::string_view file_bytes, const std::string& source_name,
                                      const ParseOptions& options, std::string_view sheet_name) {
  Result<XlsxSheet> sheet = read_xlsx_sheet(file_bytes, sheet_name);
  if (!sheet.ok()) {
    return Error(sheet.error().code, fmt::format("{}: {}", source_name, sheet.error().detail));
  }
  if (sheet->rows.empty()) {
    return Error(Errc::missing_field, fmt::format("{}: sheet {} has no header row (it is empty); export it again "
                                                  "with column headers",
                                                  source_name, sheet->name));
  }
  // The sheet name goes into locations and positional keys: it must be valid text too.
  const std::string shown_sheet = text::replace_invalid_utf8(sheet->name);
  // Header names become keys of fields.extra (proto3 strings): broken bytes are replaced, not kept.
  std::vector<std::string> header = sheet->rows.front().cells;
  for (auto& h : header) {
    if (!text::is_valid_utf8(h)) h = text::replace_invalid_utf8(h);
  }
  Result<Layout> layout = resolve_layout(header, options.columns, source_name);
  if (!layout.ok()) return layout.error();

  ParseOutput out;
  out.encoding = "utf-8";  // OOXML parts are UTF-8 XML; there is nothing to detect
  std::vector<std::string> cells;
  for (std::size_t i = 1; i < sheet->rows.size(); ++i) {
    const XlsxRow& xrow = sheet->rows[i];
    // A sheet omits trailing empty cells, so a short row is not a broken row the way a short CSV
    // line is; only cells beyond the header's last column make the width wrong.
    cells = xrow.cells;
    if (cells.size() < layout->header.size()) cells.resize(layout->header.size());
    // XML parsers do not check UTF-8; a cell with broken bytes must not reach a proto3 string field.
    std::string bad_cell;
    for (std::size_t c = 0; c < cells.size(); ++c) {
      if (text::is_valid_utf8(cells[c])) continue;
      if (bad_cell.empty()) {
        bad_cell = fmt::format("column {} ('{}') is not valid UTF-8", c + 1,
                               c < layout->header.size() ? layout->header[c] : std::string("?"));
      }
      cells[c] = text::replace_invalid_utf8(cells[c]);
    }
    const std::string raw = xlsx_row_as_csv(xrow.cells);
    SourceRow source_row{cells, raw, !bad_cell.empty(), bad_cell,
                         fmt::format("{}:{}!R{}", source_name, shown_sheet, xrow.row_number)};
    if (!bad_cell.empty()) source_row.error_reason = "bad_encoding";
    out.events.push_back(map_row(source_row, *layout, source_name, options));
    if (out.events.back().has_rejection()) ++out.rejected_rows;
  }
  out.data_rows = out.events.size();
  return out;
}

}  // namespace gridhub::hotline
