#include "gridhub/wechat/memotrace.hpp"

#include <array>
#include <utility>

#include <fmt/format.h>
#include <pugixml.hpp>

#include "event_util.hpp"
#include "gridhub/text/csv_reader.hpp"
#include "gridhub/text/text_decode.hpp"

namespace gridhub::wechat {
namespace {

using detail::parse_int;
using detail::reject;
using detail::trim;

constexpr std::string_view kContentType = "text/csv; charset=utf-8";
constexpr std::size_t kAbsent = detail::kNoColumn;

// MemoTrace's header, in its order. Required columns are the ones without which a message has no
// identity, time, kind or content.
enum Column : std::size_t {
  kLocalId, kTalkerId, kType, kSubType, kIsSender, kCreateTime, kStatus, kStrContent, kStrTime,
  kRemark, kNickName, kSender, kColumnCount
};
struct ColumnSpec {
  std::string_view name;
  bool required;
};
constexpr std::array<ColumnSpec, kColumnCount> kColumns{{
    {"localId", true}, {"TalkerId", false}, {"Type", true}, {"SubType", false}, {"IsSender", true},
    {"CreateTime", true}, {"Status", false}, {"StrContent", true}, {"StrTime", false}, {"Remark", false},
    {"NickName", false}, {"Sender", false},
}};
constexpr auto kColumnNames = [] {
  std::array<std::string_view, kColumnCount> names{};
  for (std::size_t c = 0; c < kColumnCount; ++c) names[c] = kColumns[c].name;
  return names;
}();

struct Layout {
  std::array<std::size_t, kColumnCount> at{};
  std::size_t width = 0;
};

/// Type 49 rows may carry the app message XML (MemoTrace versions differ; the CSV exporter often
/// leaves StrContent empty for them): its title is the visible text, a quote's target and a
/// link's URL go to extra.
void read_app_message(std::string_view xml, v1::ExtractedFields& fields) {
  const std::string_view body = trim(xml);
  if (body.empty() || body.front() != '<') {
    if (!body.empty()) fields.set_text(std::string(body));
    return;
  }
  pugi::xml_document doc;
  if (!doc.load_buffer(body.data(), body.size(), pugi::parse_default, pugi::encoding_utf8)) return;
  const pugi::xml_node appmsg = doc.select_node("//appmsg").node();
  if (!appmsg) return;
  if (const char* title = appmsg.child_value("title"); *title != '\0') fields.set_text(title);
  if (const char* url = appmsg.child_value("url"); *url != '\0') (*fields.mutable_extra())["url"] = url;
  if (const pugi::xml_node refer = appmsg.child("refermsg")) {
    if (const char* quoted = refer.child_value("content"); *quoted != '\0') {
      (*fields.mutable_extra())["quoted_text"] = quoted;
    }
    if (const char* who = refer.child_value("displayname"); *who != '\0') {
      (*fields.mutable_extra())["quoted_sender"] = who;
    }
  }
}

KeyedEvent map_row(const text::CsvRecord& row, const Layout& layout, const std::string& source_name,
                   const std::string& conversation, const ExportOptions& options) {
  const auto cell = [&](Column c) -> std::string_view {
    const std::size_t i = layout.at[c];
    return i < row.fields.size() ? std::string_view(row.fields[i]) : std::string_view{};
  };
  const std::string location = fmt::format("{}:{}", source_name, row.line);

  KeyedEvent out;
  v1::Event& event = out.event;
  event.set_channel(v1::CHANNEL_WECHAT);
  event.set_adapter_id(options.adapter_id);
  event.set_source_name(source_name);
  event.set_content_type(std::string(kContentType));
  event.set_original_payload(std::string(row.raw));

  const std::string_view local_id = trim(cell(kLocalId));
  // Without a localId the position in the file is the only identity there is.
  out.record_key = local_id.empty() ? location : std::string(local_id);
  event.set_source_key(local_id.empty() ? location : fmt::format("{}:{}", conversation, local_id));

  v1::ExtractedFields& fields = *event.mutable_fields();
  fields.set_conversation(conversation);
  const std::optional<std::int64_t> type = parse_int(trim(cell(kType)));
  const std::string_view sub_text = trim(cell(kSubType));
  const std::optional<std::int64_t> sub_type = sub_text.empty() ? std::optional<std::int64_t>(0) : parse_int(sub_text);
  const std::string_view is_sender = trim(cell(kIsSender));
  const std::optional<std::int64_t> create_time = detail::parse_unix_seconds(trim(cell(kCreateTime)));

  if (type && sub_type) {
    const std::string_view kind = message_kind_of(*type, *sub_type);
    fields.set_message_kind(std::string(kind));
    const std::string_view content = cell(kStrContent);
    if (kind == "text" || kind == "system") {
      fields.set_text(std::string(content));
    } else if (*type == 49) {
      read_app_message(content, fields);
    }
    // Media rows hold the media's XML descriptor: it stays in original_payload only.
  }
  fields.set_from_staff(is_sender == "1");
  if (const auto v = trim(cell(kSender)); !v.empty()) fields.set_sender_id(std::string(v));
  if (const auto v = trim(cell(kNickName)); !v.empty()) fields.set_reporter_name(std::string(v));
  auto& extra = *fields.mutable_extra();
  for (const Column c : {kTalkerId, kType, kSubType, kRemark}) {
    if (const auto v = trim(cell(c)); !v.empty()) extra[std::string(kColumns[c].name)] = std::string(v);
  }
  if (create_time) detail::set_unix_seconds(*fields.mutable_reported_at(), *create_time, options.utc_offset_minutes);

  // One rejection per row, the most fundamental first. Details name columns, never values.
  const auto column = [](Column c) { return kColumns[c].name; };
  if (row.error) {
    reject(event, kReasonBadCsv, "", row.error_message, location);
  } else if (row.fields.size() != layout.width) {
    reject(event, kReasonColumnCount, "",
           fmt::format("row has {} fields but the header has {} columns", row.fields.size(), layout.width), location);
  } else if (local_id.empty()) {
    reject(event, kReasonMissingField, column(kLocalId), "localId is empty", location);
  } else if (!parse_int(local_id)) {
    reject(event, kReasonBadValue, column(kLocalId), "localId is not an integer", location);
  } else if (!type) {
    reject(event, kReasonBadValue, column(kType), "Type is not an integer", location);
  } else if (!sub_type) {
    reject(event, kReasonBadValue, column(kSubType), "SubType is not an integer", location);
  } else if (is_sender != "0" && is_sender != "1") {
    reject(event, kReasonBadValue, column(kIsSender), "IsSender is neither 0 nor 1", location);
  } else if (trim(cell(kCreateTime)).empty()) {
    reject(event, kReasonBadDate, column(kCreateTime), "CreateTime is empty", location);
  } else if (!create_time || *create_time <= 0) {
    reject(event, kReasonBadDate, column(kCreateTime), "CreateTime is not a positive unix time in seconds before year 10000",
           location);
  }
  return out;
}

}  // namespace

std::string conversation_from_file_name(std::string_view source_name) {
  std::string_view name = source_name;
  if (const std::size_t slash = name.find_last_of("/\\"); slash != std::string_view::npos) {
    name.remove_prefix(slash + 1);
  }
  if (const std::size_t dot = name.rfind('.'); dot != std::string_view::npos && dot > 0) {
    name = name.substr(0, dot);
  }
  if (name.ends_with("_utf8")) name.remove_suffix(5);
  return std::string(name);
}

std::string_view message_kind_of(std::int64_t type, std::int64_t sub_type) noexcept {
  switch (type) {
    case 1: return "text";
    case 3: return "image";
    case 34: return "voice";
    case 43: return "video";
    case 47: return "sticker";
    case 48: return "location";
    case 50: return "call";
    case 10000:
    case 10002: return "system";
    case 49:
      switch (sub_type) {
        case 3: return "music";
        case 5: return "link";
        case 6: return "file";
        case 57: return "quote";
        case 2000: return "transfer";
        default: return "app";
      }
    default: return "other";
  }
}

Result<ExportOutput> parse_memotrace_csv(std::string_view file_bytes, const std::string& source_name,
                                         const ExportOptions& options) {
  // MemoTrace always writes utf-8-sig; anything else is not one of its exports.
  Result<std::string> utf8 = detail::decode_export_utf8(file_bytes, source_name, "MemoTrace");
  if (!utf8.ok()) return utf8.error();
  text::CsvReader reader(utf8.value());
  Layout layout;
  if (auto header = detail::read_csv_header(reader, source_name, kColumnNames, layout.at, layout.width); !header) {
    return header.error();
  }
  for (std::size_t c = 0; c < kColumnCount; ++c) {
    if (layout.at[c] == kAbsent && kColumns[c].required) {
      return Error(Errc::missing_field,
                   fmt::format("{}: the header has no column '{}'; a MemoTrace CSV export starts with "
                               "localId,TalkerId,Type,SubType,IsSender,CreateTime,Status,StrContent,StrTime,Remark,"
                               "NickName,Sender",
                               source_name, kColumns[c].name));
    }
  }

  ExportOutput out;
  text::CsvRecord row;
  out.conversation = options.conversation.empty() ? conversation_from_file_name(source_name) : options.conversation;
  while (reader.next(row)) {
    out.events.push_back(map_row(row, layout, source_name, out.conversation, options));
    if (out.events.back().event.has_rejection()) ++out.rejected;
  }
  return out;
}

}  // namespace gridhub::wechat
