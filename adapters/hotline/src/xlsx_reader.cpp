#include "gridhub/hotline/xlsx_reader.hpp"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <utility>

#include <fmt/format.h>
#include <pugixml.hpp>
#include <zip.h>

namespace gridhub::hotline {
namespace {

// A worksheet part larger than this is not an export anybody clicked together; refusing it keeps
// a zip bomb from exhausting memory.
constexpr std::uint64_t kMaxPartBytes = 64ull * 1024 * 1024;
constexpr std::size_t kMaxColumns = 16384;  // Excel's limit: column XFD

struct ZipCloser {
  void operator()(zip_t* z) const noexcept { zip_discard(z); }
};
using ZipPtr = std::unique_ptr<zip_t, ZipCloser>;

struct ZipFileCloser {
  void operator()(zip_file_t* f) const noexcept { zip_fclose(f); }
};

Result<ZipPtr> open_zip(std::string_view bytes) {
  zip_error_t err;
  zip_error_init(&err);
  zip_source_t* src = zip_source_buffer_create(bytes.data(), bytes.size(), 0, &err);
  if (src == nullptr) {
    std::string msg = zip_error_strerror(&err);
    zip_error_fini(&err);
    return Error(Errc::malformed_frame, fmt::format("not an XLSX workbook: {}", msg));
  }
  zip_t* archive = zip_open_from_source(src, ZIP_RDONLY, &err);
  if (archive == nullptr) {
    zip_source_free(src);
    std::string msg = zip_error_strerror(&err);
    zip_error_fini(&err);
    return Error(Errc::malformed_frame,
                 fmt::format("not an XLSX workbook (the file is not a readable ZIP archive: {}); save it again "
                             "as Excel Workbook (*.xlsx)",
                             msg));
  }
  zip_error_fini(&err);
  return ZipPtr(archive);
}

/// The named part's bytes; nullopt when the archive has no such part.
Result<std::optional<std::string>> read_part(zip_t* archive, const std::string& name) {
  const zip_int64_t index = zip_name_locate(archive, name.c_str(), 0);
  if (index < 0) return std::optional<std::string>{};
  zip_stat_t st;
  zip_stat_init(&st);
  if (zip_stat_index(archive, static_cast<zip_uint64_t>(index), 0, &st) != 0 || (st.valid & ZIP_STAT_SIZE) == 0) {
    return Error(Errc::malformed_frame, fmt::format("part {} of the workbook is unreadable", name));
  }
  if (st.size > kMaxPartBytes) {
    return Error(Errc::too_large, fmt::format("part {} is {} bytes uncompressed, over the {} byte limit", name,
                                              st.size, kMaxPartBytes));
  }
  std::unique_ptr<zip_file_t, ZipFileCloser> file(zip_fopen_index(archive, static_cast<zip_uint64_t>(index), 0));
  if (!file) return Error(Errc::malformed_frame, fmt::format("part {} of the workbook cannot be opened", name));
  std::string data(static_cast<std::size_t>(st.size), '\0');
  std::size_t filled = 0;
  while (filled < data.size()) {
    const zip_int64_t n = zip_fread(file.get(), data.data() + filled, data.size() - filled);
    if (n < 0) return Error(Errc::malformed_frame, fmt::format("part {} of the workbook is corrupt", name));
    if (n == 0) break;
    filled += static_cast<std::size_t>(n);
  }
  data.resize(filled);
  return std::optional<std::string>(std::move(data));
}

Result<pugi::xml_document> parse_part(const std::string& name, const std::string& bytes) {
  pugi::xml_document doc;
  const pugi::xml_parse_result ok = doc.load_buffer(bytes.data(), bytes.size(), pugi::parse_default, pugi::encoding_utf8);
  if (!ok) {
    return Error(Errc::malformed_frame,
                 fmt::format("part {} is not well-formed XML ({} at byte {})", name, ok.description(), ok.offset));
  }
  return doc;
}

/// Element and attribute names without their namespace prefix: producers differ ("x:row", "row").
std::string_view local_name(const char* name) noexcept {
  const std::string_view s(name);
  const std::size_t colon = s.rfind(':');
  return colon == std::string_view::npos ? s : s.substr(colon + 1);
}

pugi::xml_node child(pugi::xml_node node, std::string_view name) {
  for (pugi::xml_node c = node.first_child(); c; c = c.next_sibling()) {
    if (c.type() == pugi::node_element && local_name(c.name()) == name) return c;
  }
  return {};
}

template <class F>
void for_each_child(pugi::xml_node node, std::string_view name, F&& f) {
  for (pugi::xml_node c = node.first_child(); c; c = c.next_sibling()) {
    if (c.type() == pugi::node_element && local_name(c.name()) == name) f(c);
  }
}

pugi::xml_attribute attribute(pugi::xml_node node, std::string_view name) {
  for (pugi::xml_attribute a = node.first_attribute(); a; a = a.next_attribute()) {
    if (local_name(a.name()) == name) return a;
  }
  return {};
}

void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

/// OOXML writes characters XML cannot carry (CR, other controls) as "_xHHHH_".
std::string unescape_ooxml(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '_' && i + 6 < s.size() && s[i + 1] == 'x' && s[i + 6] == '_') {
      std::uint32_t cp = 0;
      const auto [end, ec] = std::from_chars(s.data() + i + 2, s.data() + i + 6, cp, 16);
      if (ec == std::errc{} && end == s.data() + i + 6 && (cp < 0xD800 || cp > 0xDFFF)) {
        append_utf8(out, cp);
        i += 6;
        continue;
      }
    }
    out += s[i];
  }
  return out;
}

/// The text of a shared string or inline string: plain <t>, or the runs <r><t> of rich text;
/// phonetic guides (<rPh>) are annotations, not text.
std::string string_item_text(pugi::xml_node item) {
  std::string out;
  for (pugi::xml_node c = item.first_child(); c; c = c.next_sibling()) {
    if (c.type() != pugi::node_element) continue;
    const std::string_view name = local_name(c.name());
    if (name == "t") {
      out += c.text().get();
    } else if (name == "r") {
      if (pugi::xml_node t = child(c, "t")) out += t.text().get();
    }
  }
  return unescape_ooxml(out);
}

/// "xl/workbook.xml" + "worksheets/sheet1.xml" -> "xl/worksheets/sheet1.xml"; absolute targets
/// ("/xl/...") are archive paths.
std::string resolve_target(const std::string& base_part, std::string_view target) {
  if (!target.empty() && target.front() == '/') return std::string(target.substr(1));
  std::string dir = base_part.substr(0, base_part.rfind('/') + 1);
  while (target.starts_with("../")) {
    target.remove_prefix(3);
    if (!dir.empty()) dir.pop_back();
    dir = dir.substr(0, dir.rfind('/') + 1);
  }
  return dir + std::string(target);
}

std::string rels_part_of(const std::string& part) {
  const std::size_t slash = part.rfind('/');
  const std::string dir = slash == std::string::npos ? "" : part.substr(0, slash + 1);
  const std::string file = slash == std::string::npos ? part : part.substr(slash + 1);
  return dir + "_rels/" + file + ".rels";
}

struct Relationship {
  std::string type;    // the last path segment of the Type URI ("worksheet", "sharedStrings")
  std::string target;  // archive path
};

Result<std::map<std::string, Relationship>> read_rels(zip_t* archive, const std::string& part) {
  std::map<std::string, Relationship> rels;
  const std::string rels_name = rels_part_of(part);
  Result<std::optional<std::string>> bytes = read_part(archive, rels_name);
  if (!bytes.ok()) return bytes.error();
  if (!bytes->has_value()) return rels;
  Result<pugi::xml_document> doc = parse_part(rels_name, **bytes);
  if (!doc.ok()) return doc.error();
  for_each_child(child(*doc, "Relationships"), "Relationship", [&](pugi::xml_node r) {
    const std::string_view type = r.attribute("Type").value();
    rels[r.attribute("Id").value()] =
        Relationship{std::string(type.substr(type.rfind('/') + 1)), resolve_target(part, r.attribute("Target").value())};
  });
  return rels;
}

/// How a numeric cell's style shows it: a plain number, or a date and/or time.
struct NumberStyle {
  bool date = false;
  bool time = false;
};

NumberStyle classify_builtin(unsigned id) noexcept {
  if (id >= 14 && id <= 17) return {true, false};
  if (id == 22) return {true, true};
  if ((id >= 18 && id <= 21) || (id >= 45 && id <= 47)) return {false, true};
  // CJK locales' built-in date (27-31, 36, 50-54) and time (32-35, 55-58) formats.
  if ((id >= 27 && id <= 31) || id == 36 || (id >= 50 && id <= 54)) return {true, false};
  if ((id >= 32 && id <= 35) || (id >= 55 && id <= 58)) return {false, true};
  return {};
}

NumberStyle classify_format_code(std::string_view code) noexcept {
  bool y_or_d = false;
  bool m = false;
  bool h_or_s = false;
  for (std::size_t i = 0; i < code.size(); ++i) {
    const char c = code[i];
    if (c == '"') {  // literal text
      const std::size_t close = code.find('"', i + 1);
      if (close == std::string_view::npos) break;
      i = close;
    } else if (c == '\\' || c == '_' || c == '*') {  // escaped / padding character
      ++i;
    } else if (c == '[') {  // [Red], [$-804], but [h] [mm] [ss] are elapsed time
      const std::size_t close = code.find(']', i + 1);
      if (close == std::string_view::npos) break;
      const std::string_view inner = code.substr(i + 1, close - i - 1);
      if (!inner.empty() && (inner[0] == 'h' || inner[0] == 'H' || inner[0] == 's' || inner[0] == 'S' ||
                             inner[0] == 'm' || inner[0] == 'M')) {
        h_or_s = true;
      }
      i = close;
    } else if (c == 'y' || c == 'Y' || c == 'd' || c == 'D') {
      y_or_d = true;
    } else if (c == 'h' || c == 'H' || c == 's' || c == 'S') {
      h_or_s = true;
    } else if (c == 'm' || c == 'M') {
      m = true;
    }
  }
  // A lone "m" is a month only in a format without hours or seconds ("mm:ss" is minutes).
  return {y_or_d || (m && !h_or_s), h_or_s};
}

struct Styles {
  std::vector<NumberStyle> xf;  // by cellXfs index (a cell's `s`)
};

Result<Styles> read_styles(zip_t* archive, const std::string& part) {
  Styles styles;
  if (part.empty()) return styles;
  Result<std::optional<std::string>> bytes = read_part(archive, part);
  if (!bytes.ok()) return bytes.error();
  if (!bytes->has_value()) return styles;
  Result<pugi::xml_document> doc = parse_part(part, **bytes);
  if (!doc.ok()) return doc.error();
  const pugi::xml_node sheet = child(*doc, "styleSheet");
  std::map<unsigned, NumberStyle> custom;
  for_each_child(child(sheet, "numFmts"), "numFmt", [&](pugi::xml_node f) {
    custom[f.attribute("numFmtId").as_uint()] = classify_format_code(f.attribute("formatCode").value());
  });
  for_each_child(child(sheet, "cellXfs"), "xf", [&](pugi::xml_node xf) {
    const unsigned id = xf.attribute("numFmtId").as_uint();
    const auto it = custom.find(id);
    styles.xf.push_back(it != custom.end() ? it->second : classify_builtin(id));
  });
  return styles;
}

Result<std::vector<std::string>> read_shared_strings(zip_t* archive, const std::string& part) {
  std::vector<std::string> strings;
  if (part.empty()) return strings;
  Result<std::optional<std::string>> bytes = read_part(archive, part);
  if (!bytes.ok()) return bytes.error();
  if (!bytes->has_value()) return strings;
  Result<pugi::xml_document> doc = parse_part(part, **bytes);
  if (!doc.ok()) return doc.error();
  for_each_child(child(*doc, "sst"), "si", [&](pugi::xml_node si) { strings.push_back(string_item_text(si)); });
  return strings;
}

struct CivilDate {
  int year;
  unsigned month;
  unsigned day;
};

// Howard Hinnant's civil_from_days, the inverse of text::days_from_civil.
CivilDate civil_from_days(std::int64_t z) noexcept {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t y = static_cast<std::int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  return {static_cast<int>(y + (m <= 2 ? 1 : 0)), m, d};
}

/// An Excel serial date as local wall-clock text; nullopt outside years 1900-9999.
std::optional<std::string> format_serial(double serial, NumberStyle style, bool date1904) {
  if (!std::isfinite(serial) || serial < 0 || serial > 2958466.0) return std::nullopt;
  auto seconds = static_cast<std::int64_t>(std::llround(serial * 86400.0));
  std::int64_t days = seconds / 86400;
  seconds %= 86400;
  // Day 0 of the 1900 system is 1899-12-30 for every serial after Excel's phantom 1900-02-29
  // (serial 60); earlier serials are one day later than that epoch suggests.
  std::int64_t unix_days = days + (date1904 ? -24107 : -25569);
  if (!date1904 && days < 61) unix_days += 1;
  const CivilDate d = civil_from_days(unix_days);
  const auto hh = seconds / 3600;
  const auto mm = seconds / 60 % 60;
  const auto ss = seconds % 60;
  if (style.date && style.time) {
    return fmt::format("{:04}-{:02}-{:02} {:02}:{:02}:{:02}", d.year, d.month, d.day, hh, mm, ss);
  }
  if (style.date) return fmt::format("{:04}-{:02}-{:02}", d.year, d.month, d.day);
  return fmt::format("{:02}:{:02}:{:02}", hh, mm, ss);
}

/// Excel keeps a number's shortest round-trip text; phone numbers typed as numbers are integers
/// that a writer may still have stored as "1.3760230009E10".
std::string format_number(std::string_view stored) {
  if (stored.find_first_of("eE") == std::string_view::npos) return std::string(stored);
  double value = 0;
  const auto [end, ec] = std::from_chars(stored.data(), stored.data() + stored.size(), value);
  if (ec != std::errc{} || end != stored.data() + stored.size()) return std::string(stored);
  if (std::abs(value) < 1e17 && std::floor(value) == value) return fmt::format("{:.0f}", value);
  return std::string(stored);
}

/// "AB17" -> 27 (0-based column); npos for a reference without letters or beyond XFD.
std::size_t column_of(std::string_view ref) noexcept {
  std::size_t col = 0;
  std::size_t letters = 0;
  for (const char c : ref) {
    if (c >= 'A' && c <= 'Z') {
      col = col * 26 + static_cast<std::size_t>(c - 'A' + 1);
    } else if (c >= 'a' && c <= 'z') {
      col = col * 26 + static_cast<std::size_t>(c - 'a' + 1);
    } else {
      break;
    }
    if (++letters > 3) return std::string_view::npos;
  }
  if (letters == 0 || col > kMaxColumns) return std::string_view::npos;
  return col - 1;
}

struct SheetContext {
  const std::vector<std::string>& shared;
  const Styles& styles;
  bool date1904 = false;
};

std::string cell_text(pugi::xml_node c, const SheetContext& ctx) {
  const std::string_view type = c.attribute("t").value();
  const std::string_view v = child(c, "v").text().get();
  if (type == "s") {
    std::size_t index = 0;
    const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), index);
    if (ec != std::errc{} || end != v.data() + v.size() || index >= ctx.shared.size()) return {};
    return ctx.shared[index];
  }
  if (type == "inlineStr") return string_item_text(child(c, "is"));
  if (type == "str" || type == "e" || type == "d") return unescape_ooxml(v);
  if (type == "b") return v == "1" ? "TRUE" : v == "0" ? "FALSE" : std::string(v);
  if (v.empty()) return {};
  // A number ("n" or no type).
  const unsigned style_index = c.attribute("s").as_uint();
  if (style_index < ctx.styles.xf.size()) {
    const NumberStyle style = ctx.styles.xf[style_index];
    if (style.date || style.time) {
      double serial = 0;
      const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), serial);
      if (ec == std::errc{} && end == v.data() + v.size()) {
        if (auto text = format_serial(serial, style, ctx.date1904)) return *std::move(text);
      }
      return std::string(v);  // not a usable serial: the raw text, which the date check will reject
    }
  }
  return format_number(v);
}

Result<std::vector<XlsxRow>> read_rows(const pugi::xml_document& doc, const SheetContext& ctx,
                                       const std::string& part) {
  std::vector<XlsxRow> rows;
  const pugi::xml_node data = child(child(doc, "worksheet"), "sheetData");
  std::size_t next_row = 1;
  for (pugi::xml_node r = data.first_child(); r; r = r.next_sibling()) {
    if (r.type() != pugi::node_element || local_name(r.name()) != "row") continue;
    XlsxRow row;
    const std::size_t declared = r.attribute("r").as_ullong();
    row.row_number = declared != 0 ? declared : next_row;
    next_row = row.row_number + 1;
    std::size_t next_col = 0;
    bool any = false;
    for (pugi::xml_node c = r.first_child(); c; c = c.next_sibling()) {
      if (c.type() != pugi::node_element || local_name(c.name()) != "c") continue;
      const char* ref = c.attribute("r").value();
      std::size_t col = next_col;
      if (*ref != '\0') {
        col = column_of(ref);
        if (col == std::string_view::npos) {
          return Error(Errc::malformed_frame, fmt::format("{}: row {} has a cell with the invalid reference '{}'",
                                                          part, row.row_number, ref));
        }
      }
      if (col >= kMaxColumns) {
        return Error(Errc::malformed_frame, fmt::format("{}: row {} has more than {} columns", part,
                                                        row.row_number, kMaxColumns));
      }
      next_col = col + 1;
      std::string text = cell_text(c, ctx);
      if (text.empty()) continue;
      if (row.cells.size() <= col) row.cells.resize(col + 1);
      row.cells[col] = std::move(text);
      any = true;
    }
    if (any) rows.push_back(std::move(row));
  }
  return rows;
}

}  // namespace

Result<XlsxSheet> read_xlsx_sheet(std::string_view file_bytes, std::string_view sheet_name) {
  Result<ZipPtr> archive = open_zip(file_bytes);
  if (!archive.ok()) return archive.error();
  zip_t* zip = archive->get();

  // _rels/.rels names the workbook part; "xl/workbook.xml" is what every producer uses anyway.
  std::string workbook_part = "xl/workbook.xml";
  Result<std::map<std::string, Relationship>> root_rels = read_rels(zip, "");
  if (!root_rels.ok()) return root_rels.error();
  for (const auto& [id, rel] : *root_rels) {
    if (rel.type == "officeDocument") workbook_part = rel.target;
  }
  Result<std::optional<std::string>> workbook_bytes = read_part(zip, workbook_part);
  if (!workbook_bytes.ok()) return workbook_bytes.error();
  if (!workbook_bytes->has_value()) {
    return Error(Errc::malformed_frame, fmt::format("not an XLSX workbook: the archive has no {} (is it a .docx, or "
                                                    "an old .xls renamed?); save it again as Excel Workbook (*.xlsx)",
                                                    workbook_part));
  }
  Result<pugi::xml_document> workbook = parse_part(workbook_part, **workbook_bytes);
  if (!workbook.ok()) return workbook.error();
  Result<std::map<std::string, Relationship>> rels = read_rels(zip, workbook_part);
  if (!rels.ok()) return rels.error();

  const pugi::xml_node wb = child(*workbook, "workbook");
  const std::string_view date1904 = child(wb, "workbookPr").attribute("date1904").value();
  std::string shared_part;
  std::string styles_part;
  for (const auto& [id, rel] : *rels) {
    if (rel.type == "sharedStrings") shared_part = rel.target;
    if (rel.type == "styles") styles_part = rel.target;
  }

  XlsxSheet sheet;
  std::string sheet_part;
  std::string all_names;
  for_each_child(child(wb, "sheets"), "sheet", [&](pugi::xml_node s) {
    const std::string name = s.attribute("name").value();
    if (!all_names.empty()) all_names += ", ";
    all_names += name;
    if (!sheet_part.empty() || (!sheet_name.empty() && name != sheet_name)) return;
    const auto it = rels->find(attribute(s, "id").value());
    if (it == rels->end()) return;
    sheet.name = name;
    sheet_part = it->second.target;
  });
  if (sheet_part.empty()) {
    if (sheet_name.empty()) return Error(Errc::missing_field, "the workbook has no worksheet");
    return Error(Errc::missing_field, fmt::format("the workbook has no sheet named '{}'; its sheets are: {}",
                                                  sheet_name, all_names));
  }

  Result<std::vector<std::string>> shared = read_shared_strings(zip, shared_part);
  if (!shared.ok()) return shared.error();
  Result<Styles> styles = read_styles(zip, styles_part);
  if (!styles.ok()) return styles.error();
  Result<std::optional<std::string>> sheet_bytes = read_part(zip, sheet_part);
  if (!sheet_bytes.ok()) return sheet_bytes.error();
  if (!sheet_bytes->has_value()) {
    return Error(Errc::malformed_frame, fmt::format("sheet {} points to the missing part {}", sheet.name, sheet_part));
  }
  Result<pugi::xml_document> sheet_doc = parse_part(sheet_part, **sheet_bytes);
  if (!sheet_doc.ok()) return sheet_doc.error();

  const SheetContext ctx{*shared, *styles, date1904 == "1" || date1904 == "true"};
  Result<std::vector<XlsxRow>> rows = read_rows(*sheet_doc, ctx, sheet_part);
  if (!rows.ok()) return rows.error();
  sheet.rows = std::move(rows).value();
  return sheet;
}

std::string xlsx_row_as_csv(std::span<const std::string> cells) {
  std::string out;
  for (std::size_t i = 0; i < cells.size(); ++i) {
    if (i != 0) out += ',';
    const std::string& cell = cells[i];
    if (cell.find_first_of(",\"\r\n") == std::string::npos) {
      out += cell;
      continue;
    }
    out += '"';
    for (const char c : cell) {
      if (c == '"') out += '"';
      out += c;
    }
    out += '"';
  }
  return out;
}

}  // namespace gridhub::hotline
