// The file importers' parse + map rate (issue target: >= 50,000 records/s each, hub excluded), on
// the example county's fixture files replicated to >= 100k records, next to a same-run baseline that
// only splits the same bytes into owned lines (for .xlsx: inflates every part and finds the rows).
#include <fmt/format.h>
#include <pugixml.hpp>
#include <zip.h>

#include <chrono>
#include <cstring>
#include <fstream>
#include <functional>
#include <sstream>

#include "bench.hpp"
#include "gridhub/hotline/hotline_mapping.hpp"
#include "gridhub/hotline/xlsx_reader.hpp"
#include "gridhub/webform/jinshuju.hpp"
#include "gridhub/wechat/memotrace.hpp"

namespace gridhub::bench {

namespace {

using Steady = std::chrono::steady_clock;

std::string slurp(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw BenchError("cannot read " + file.string());
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// Header line(s) kept once, the rest repeated `times`; the text ends with a line break.
std::string replicate_body(const std::string& text, std::size_t header_end, std::size_t times) {
  std::string body = text.substr(header_end);
  if (!body.empty() && body.back() != '\n') body += '\n';
  std::string out = text.substr(0, header_end);
  out.reserve(out.size() + body.size() * times);
  for (std::size_t i = 0; i < times; ++i) out += body;
  return out;
}

/// The baseline: the same bytes split into owned lines (what any reader does before parsing).
std::size_t split_lines(std::string_view bytes) {
  std::size_t lines = 0;
  std::string line;
  std::size_t pos = 0;
  while (pos < bytes.size()) {
    const void* nl = std::memchr(bytes.data() + pos, '\n', bytes.size() - pos);
    const std::size_t end = nl ? static_cast<std::size_t>(static_cast<const char*>(nl) - bytes.data()) : bytes.size();
    line.assign(bytes.substr(pos, end - pos));
    lines += line.empty() ? 0 : 1;
    pos = end + 1;
  }
  return lines;
}

std::vector<std::pair<std::string, std::string>> unzip_all(const std::string& bytes) {
  std::vector<std::pair<std::string, std::string>> parts;
  zip_error_t err;
  zip_error_init(&err);
  zip_source_t* src = zip_source_buffer_create(bytes.data(), bytes.size(), 0, &err);
  zip_t* z = src ? zip_open_from_source(src, ZIP_RDONLY, &err) : nullptr;
  zip_error_fini(&err);
  if (z == nullptr) {
    if (src) zip_source_free(src);
    throw BenchError("not a zip archive");
  }
  const zip_int64_t n = zip_get_num_entries(z, 0);
  for (zip_int64_t i = 0; i < n; ++i) {
    zip_stat_t st;
    zip_stat_index(z, static_cast<zip_uint64_t>(i), 0, &st);
    std::string content(static_cast<std::size_t>(st.size), '\0');
    zip_file_t* f = zip_fopen_index(z, static_cast<zip_uint64_t>(i), 0);
    if (f == nullptr) throw BenchError(fmt::format("cannot open zip entry {}", st.name));
    zip_fread(f, content.data(), st.size);
    zip_fclose(f);
    parts.emplace_back(st.name, std::move(content));
  }
  zip_close(z);
  return parts;
}

std::string zip_all(const std::vector<std::pair<std::string, std::string>>& parts) {
  zip_error_t err;
  zip_error_init(&err);
  zip_source_t* src = zip_source_buffer_create(nullptr, 0, 0, &err);
  zip_error_fini(&err);
  zip_t* z = zip_open_from_source(src, ZIP_TRUNCATE, nullptr);
  if (z == nullptr) throw BenchError("libzip: cannot create an archive");
  for (const auto& [name, content] : parts) {
    zip_source_t* s = zip_source_buffer(z, content.data(), content.size(), 0);
    if (s == nullptr || zip_file_add(z, name.c_str(), s, ZIP_FL_OVERWRITE | ZIP_FL_ENC_UTF_8) < 0) {
      throw BenchError("libzip: cannot add " + name);
    }
  }
  zip_source_keep(src);
  if (zip_close(z) != 0) throw BenchError("libzip: cannot write the archive");
  std::string out;
  zip_source_open(src);
  zip_source_seek(src, 0, SEEK_END);
  out.resize(static_cast<std::size_t>(zip_source_tell(src)));
  zip_source_seek(src, 0, SEEK_SET);
  zip_source_read(src, out.data(), out.size());
  zip_source_close(src);
  zip_source_free(src);
  return out;
}

/// The fixture workbook with its data rows repeated `times` (rows and cell references renumbered),
/// deflated like a real export.
std::string replicate_xlsx(const std::string& bytes, std::size_t times) {
  auto parts = unzip_all(bytes);
  for (auto& [name, content] : parts) {
    if (name.find("worksheets/sheet") == std::string::npos) continue;
    pugi::xml_document doc;
    if (!doc.load_buffer(content.data(), content.size())) throw BenchError("bad sheet xml in " + name);
    pugi::xml_node data = doc.document_element().child("sheetData");
    std::vector<pugi::xml_node> rows;
    for (pugi::xml_node r : data.children("row")) rows.push_back(r);
    if (rows.size() < 2) continue;
    unsigned next = rows.back().attribute("r").as_uint() + 1;
    for (std::size_t t = 1; t < times; ++t) {
      for (std::size_t i = 1; i < rows.size(); ++i) {
        pugi::xml_node copy = data.append_copy(rows[i]);
        copy.attribute("r").set_value(next);
        for (pugi::xml_node c : copy.children("c")) {
          std::string ref = c.attribute("r").value();
          const auto digit = ref.find_first_of("0123456789");
          if (digit != std::string::npos) c.attribute("r").set_value((ref.substr(0, digit) + std::to_string(next)).c_str());
        }
        ++next;
      }
    }
    std::ostringstream os;
    doc.save(os, "", pugi::format_raw);
    content = os.str();
  }
  return zip_all(parts);
}

struct Input {
  std::string name;
  std::string bytes;
  std::function<std::size_t(const std::string&)> parse;      // returns records
  std::function<std::size_t(const std::string&)> baseline;   // returns lines / rows
};

/// Times one call; throws if the parser read fewer records than expected.
double seconds_of(const std::function<std::size_t(const std::string&)>& fn, const std::string& bytes, std::size_t& count) {
  const auto t0 = Steady::now();
  count = fn(bytes);
  return std::chrono::duration<double>(Steady::now() - t0).count();
}

}  // namespace

std::vector<ImporterRate> importer_rates(const std::filesystem::path& wugong, std::size_t min_records) {
  hotline::ParseOptions hp;
  auto columns = hotline::ColumnMap::from_config({});
  if (!columns) throw BenchError(columns.error().message());
  hp.columns = columns.value();
  hp.adapter_id = "bench";
  wechat::ExportOptions wp;
  wp.adapter_id = "bench";
  wp.conversation = "bench_group";
  auto field_map = webform::FieldMap::from_json(slurp(wugong / "webform/field_map.json"), "field_map.json");
  if (!field_map) throw BenchError(field_map.error().message());
  webform::JinshujuOptions jp;
  jp.adapter_id = "bench";

  const auto hotline_csv = [hp](const std::string& b) -> std::size_t {
    auto r = hotline::parse_export(b, "bench.csv", hp);
    if (!r) throw BenchError(r.error().message());
    return r->events.size();
  };
  const auto hotline_xlsx = [hp](const std::string& b) -> std::size_t {
    auto r = hotline::parse_xlsx_export(b, "bench.xlsx", hp);
    if (!r) throw BenchError(r.error().message());
    return r->events.size();
  };
  const auto memo_csv = [wp](const std::string& b) -> std::size_t {
    auto r = wechat::parse_memotrace_csv(b, "bench.csv", wp);
    if (!r) throw BenchError(r.error().message());
    return r->events.size();
  };
  const auto memo_txt = [wp](const std::string& b) -> std::size_t {
    return wechat::parse_memotrace_txt(b, "bench.txt", wp).events.size();
  };
  const webform::FieldMap& fm = field_map.value();
  const auto jinshuju = [&fm, jp](const std::string& b) -> std::size_t {
    return webform::parse_jinshuju_file(b, fm, "bench.jsonl", jp).size();
  };
  const auto lines = [](const std::string& b) { return split_lines(b); };
  const auto xlsx_rows = [](const std::string& b) -> std::size_t {
    std::size_t rows = 0;
    for (const auto& [name, content] : unzip_all(b)) {
      for (auto p = content.find("<row"); p != std::string::npos; p = content.find("<row", p + 4)) ++rows;
    }
    return rows;
  };

  // Each fixture once, to learn its records per copy; then enough copies for min_records.
  auto text_input = [&](const std::string& name, const std::string& file, bool has_header,
                        const std::function<std::size_t(const std::string&)>& parse) {
    const std::string one = slurp(wugong / file);
    const std::size_t per_copy = std::max<std::size_t>(parse(one), 1);
    const std::size_t header_end = has_header ? one.find('\n') + 1 : 0;
    const std::size_t times = (min_records + per_copy - 1) / per_copy;
    std::string bytes = replicate_body(one, header_end, times);
    return Input{name, std::move(bytes), parse, lines};
  };
  std::vector<Input> inputs;
  inputs.push_back(text_input("hotline_csv_utf8", "hotline/export_20240517-20240526.csv", true, hotline_csv));
  inputs.push_back(text_input("hotline_csv_gb18030", "hotline/export_20240506-20240516.csv", true, hotline_csv));
  {
    const std::string one = slurp(wugong / "hotline/export_20240606-20240616.xlsx");
    const std::size_t per_copy = std::max<std::size_t>(hotline_xlsx(one), 1);
    inputs.push_back(Input{"hotline_xlsx", replicate_xlsx(one, (min_records + per_copy - 1) / per_copy), hotline_xlsx,
                           xlsx_rows});
  }
  inputs.push_back(text_input("memotrace_csv", "wechat/residents_group_B_utf8.csv", true, memo_csv));
  {
    // TXT blocks are separated by blank lines: repeat the whole file with one between copies.
    std::string one = slurp(wugong / "wechat/grid_group_C.txt");
    while (!one.empty() && one.back() == '\n') one.pop_back();
    one += "\n\n";
    const std::size_t per_copy = std::max<std::size_t>(memo_txt(one), 1);
    inputs.push_back(Input{"memotrace_txt", replicate_body(one, 0, (min_records + per_copy - 1) / per_copy), memo_txt, lines});
  }
  inputs.push_back(text_input("jinshuju_jsonl", "webform/jinshuju_push.jsonl", false, jinshuju));

  std::vector<ImporterRate> out;
  for (const auto& in : inputs) {
    ImporterRate r;
    r.name = in.name;
    r.bytes = in.bytes.size();
    std::size_t base_count = 0;
    // Baseline and parser back to back on the same bytes, so both see the same machine load.
    const double base_s = seconds_of(in.baseline, in.bytes, base_count);
    const double parse_s = seconds_of(in.parse, in.bytes, r.records);
    r.records_per_s = static_cast<double>(r.records) / parse_s;
    r.baseline_records_per_s = static_cast<double>(r.records) / base_s;
    r.baseline_mb_per_s = static_cast<double>(r.bytes) / base_s / 1e6;
    out.push_back(r);
  }
  return out;
}

}  // namespace gridhub::bench
