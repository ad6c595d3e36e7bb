#include "gridhub/dryrun/dry_run.hpp"

#include <fmt/format.h>

#include <fstream>
#include <sstream>

#include "gridhub/hotline/hotline_mapping.hpp"
#include "gridhub/hotline/xlsx_reader.hpp"
#include "gridhub/webform/jinshuju.hpp"
#include "gridhub/webform/urlencoded.hpp"
#include "gridhub/wechat/memotrace.hpp"
#include "gridhub/wechat/location_pairing.hpp"
#include "gridhub/wechat/oa_message.hpp"

#include <algorithm>
#include <unordered_map>
#include "gridhub/log/event_log.hpp"

namespace gridhub::dryrun {

namespace v1 = gridhub::v1;

namespace {

Result<std::string> slurp(const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return Error(Errc::io_failed, fmt::format("{}: cannot open", file));
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

Format detect(const std::string& file, std::string_view bytes) {
  if (ends_with(file, ".xlsx")) return Format::kHotlineXlsx;
  if (ends_with(file, ".xml")) return Format::kOaXml;
  if (ends_with(file, ".jsonl") || ends_with(file, ".ndjson")) return Format::kJinshujuJsonl;
  std::string_view head = bytes.substr(0, 512);
  if (head.rfind("\xEF\xBB\xBF", 0) == 0) head.remove_prefix(3);
  if (head.rfind("<xml", 0) == 0) return Format::kOaXml;
  if (ends_with(file, ".csv")) return head.rfind("localId,", 0) == 0 ? Format::kMemotraceCsv : Format::kHotlineCsv;
  // .txt and others: urlencoded bodies start with key=value&…; MemoTrace TXT starts with a date.
  const auto first_line = head.substr(0, head.find('\n'));
  if (first_line.find('=') != std::string_view::npos && first_line.find('&') != std::string_view::npos) {
    return Format::kUrlencoded;
  }
  return Format::kMemotraceTxt;
}

const char* channel_of(v1::Channel c) {
  switch (c) {
    case v1::CHANNEL_HOTLINE: return "hotline";
    case v1::CHANNEL_WECHAT: return "wechat";
    case v1::CHANNEL_WEBFORM: return "webform";
    default: return "unknown";
  }
}

}  // namespace

Result<Format> parse_format(std::string_view name) {
  for (Format f : {Format::kAuto, Format::kHotlineCsv, Format::kHotlineXlsx, Format::kMemotraceCsv, Format::kMemotraceTxt,
                   Format::kOaXml, Format::kJinshujuJsonl, Format::kUrlencoded}) {
    if (format_name(f) == name) return f;
  }
  return Error(Errc::bad_value, fmt::format("unknown format '{}' (auto, hotline-csv, hotline-xlsx, memotrace-csv, "
                                            "memotrace-txt, oa-xml, jinshuju-jsonl, urlencoded)", name));
}

std::string_view format_name(Format f) {
  switch (f) {
    case Format::kAuto: return "auto";
    case Format::kHotlineCsv: return "hotline-csv";
    case Format::kHotlineXlsx: return "hotline-xlsx";
    case Format::kMemotraceCsv: return "memotrace-csv";
    case Format::kMemotraceTxt: return "memotrace-txt";
    case Format::kOaXml: return "oa-xml";
    case Format::kJinshujuJsonl: return "jinshuju-jsonl";
    case Format::kUrlencoded: return "urlencoded";
  }
  return "?";
}

Result<std::vector<InputRecord>> read_input(const std::string& file, const ReadOptions& options) {
  auto bytes = slurp(file);
  if (!bytes) return bytes.error();
  const Format f = options.format == Format::kAuto ? detect(file, bytes.value()) : options.format;
  std::vector<InputRecord> out;
  switch (f) {
    case Format::kHotlineCsv: {
      hotline::ParseOptions po;
      po.adapter_id = "dry-run";
      po.utc_offset_minutes = options.utc_offset_minutes;
      auto parsed = hotline::parse_export(bytes.value(), file, po);
      if (!parsed) return parsed.error();
      for (auto& ev : parsed->events) {
        // Rows without a work-order number get "<file>:<line>"; the label key is the 工单编号.
        std::string key = ev.source_key();
        out.push_back(InputRecord{file, std::move(key), std::move(ev)});
      }
      return out;
    }
    case Format::kHotlineXlsx: {
      hotline::ParseOptions po;
      po.adapter_id = "dry-run";
      po.utc_offset_minutes = options.utc_offset_minutes;
      auto parsed = hotline::parse_xlsx_export(bytes.value(), file, po);
      if (!parsed) return parsed.error();
      for (auto& ev : parsed->events) {
        std::string key = ev.source_key();
        out.push_back(InputRecord{file, std::move(key), std::move(ev)});
      }
      return out;
    }
    case Format::kMemotraceCsv:
    case Format::kMemotraceTxt: {
      wechat::ExportOptions eo;
      eo.adapter_id = "dry-run";
      eo.utc_offset_minutes = options.utc_offset_minutes;
      wechat::ExportOutput parsed;
      if (f == Format::kMemotraceCsv) {
        auto r = wechat::parse_memotrace_csv(bytes.value(), file, eo);
        if (!r) return r.error();
        parsed = std::move(r.value());
      } else {
        parsed = wechat::parse_memotrace_txt(bytes.value(), file, eo);
      }
      for (auto& k : parsed.events) out.push_back(InputRecord{file, std::move(k.record_key), std::move(k.event)});
      return out;
    }
    case Format::kOaXml: {
      wechat::OaOptions oo;
      oo.adapter_id = "dry-run";
      oo.utc_offset_minutes = options.utc_offset_minutes;
      auto k = wechat::parse_oa_message(bytes.value(), file, oo);
      out.push_back(InputRecord{file, std::move(k.record_key), std::move(k.event)});
      return out;
    }
    case Format::kJinshujuJsonl: {
      // The field map says what each form's field_N means; by default it sits beside the input.
      std::filesystem::path map_file = options.field_map;
      if (map_file.empty()) map_file = std::filesystem::path(file).parent_path() / "field_map.json";
      auto map_bytes = slurp(map_file.string());
      if (!map_bytes) {
        return Error(Errc::io_failed, fmt::format("{}: needs the form field map; {} cannot be read (use --field-map)",
                                                  file, map_file.string()));
      }
      auto fm = webform::FieldMap::from_json(map_bytes.value(), map_file.string());
      if (!fm) return fm.error();
      webform::JinshujuOptions jo;
      jo.adapter_id = "dry-run";
      for (auto& k : webform::parse_jinshuju_file(bytes.value(), fm.value(), file, jo)) {
        out.push_back(InputRecord{file, std::move(k.record_key), std::move(k.event)});
      }
      return out;
    }
    case Format::kUrlencoded: {
      webform::UrlencodedOptions uo;
      uo.adapter_id = "dry-run";
      uo.utc_offset_minutes = options.utc_offset_minutes;
      for (auto& k : webform::parse_urlencoded_file(bytes.value(), file, uo)) {
        out.push_back(InputRecord{file, std::move(k.record_key), std::move(k.event)});
      }
      return out;
    }
    case Format::kAuto:
      break;
  }
  return Error(Errc::bad_value, fmt::format("{}: cannot tell the format; give --format", file));
}

std::vector<InputRecord> pair_locations(std::vector<InputRecord> records) {
  // As the WeChat adapter does live: in time order, a location then a text from the same sender.
  std::vector<std::size_t> order;
  for (std::size_t i = 0; i < records.size(); ++i) {
    if (records[i].event.channel() == v1::CHANNEL_WECHAT) order.push_back(i);
  }
  auto at = [&](std::size_t i) { return records[i].event.fields().reported_at().unix_micros(); };
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return at(a) < at(b); });
  wechat::LocationPairer pairer;
  for (std::size_t i : order) pairer.feed(records[i].event);
  return records;
}

namespace {

// The router's own names for the tiers (plugin::Routing::tier).
std::string tier_name(v1::Tier t) {
  switch (t) {
    case v1::TIER_GRID: return "grid";
    case v1::TIER_COMMUNITY: return "community";
    case v1::TIER_COUNTY: return "county";
    case v1::TIER_CENTER: return "center";
    default: return "";
  }
}

}  // namespace

std::vector<RouteRow> run(pipeline::Pipeline& pipeline, const std::vector<InputRecord>& records) {
  std::vector<RouteRow> rows;
  rows.reserve(records.size());
  std::uint64_t seq = 0;
  // A WeChat location that a text took (extra["location_msg"]) is part of that text's report: its row
  // names the text's incident, as the labels do (it opens no ticket of its own).
  std::unordered_map<std::string, std::string> location_incident;
  for (const auto& in : records) {
    RouteRow r;
    r.channel = channel_of(in.event.channel());
    r.file = in.file;
    r.record_key = in.record_key;
    if (in.event.has_rejection()) {
      r.malformed = true;
      rows.push_back(std::move(r));
      continue;
    }
    auto a = pipeline.assess(in.event);
    const std::string ticket_id = log::ticket_id_for_seq(++seq);
    auto m = pipeline.merge(a, ticket_id);
    r.is_ticket = a.classification.is_ticket;
    if (r.is_ticket) {
      r.category_code = a.classification.category_code;
      r.community_code = a.resolution.community_code;
      r.grid_code = a.resolution.grid_code;
      r.tier = a.routing.tier;
      r.assignee_code = a.routing.assignee_code;
      r.incident_id = m.incident_id;
      r.out_of_area = a.resolution.out_of_area;
      r.confidence = a.classification.confidence;
      r.abstained = !a.suggestions.empty();
      for (const auto& sg : a.suggestions) {
        r.suggestions.push_back({sg.category_code(), tier_name(sg.tier()), sg.assignee_code(), sg.confidence()});
      }
      const auto& extra = in.event.fields().extra();
      if (auto it = extra.find("location_msg"); it != extra.end()) location_incident[it->second] = m.incident_id;
    }
    rows.push_back(std::move(r));
  }
  for (std::size_t i = 0; i < rows.size(); ++i) {
    if (rows[i].is_ticket || rows[i].malformed) continue;
    if (auto it = location_incident.find(records[i].event.source_key()); it != location_incident.end()) {
      rows[i].incident_id = it->second;
    }
  }
  return rows;
}

}  // namespace gridhub::dryrun
