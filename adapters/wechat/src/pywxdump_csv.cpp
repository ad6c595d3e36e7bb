#include "gridhub/wechat/pywxdump.hpp"

#include <array>
#include <optional>
#include <utility>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <fmt/format.h>

#include "event_util.hpp"
#include "gridhub/text/csv_reader.hpp"
#include "gridhub/text/datetime.hpp"
#include "gridhub/text/text_decode.hpp"

namespace gridhub::wechat {
namespace {

using detail::parse_double;
using detail::reject;
using detail::trim;

constexpr std::string_view kContentType = "text/csv; charset=utf-8";
constexpr std::size_t kAbsent = detail::kNoColumn;

enum Column : std::size_t {
  kId, kMsgSvrId, kTypeName, kIsSender, kTalker, kRoomName, kMsg, kSrc, kContent, kCreateTime, kColumnCount
};
constexpr std::array<std::string_view, kColumnCount> kNames{
    "id", "MsgSvrID", "type_name", "is_sender", "talker", "room_name", "msg", "src", "content", "CreateTime"};
constexpr std::string_view kHeaderHelp =
    "a PyWxDump CSV export starts with id,MsgSvrID,type_name,is_sender,talker,room_name,msg,src,CreateTime "
    "(older versions: ...,room_name,content,CreateTime)";

struct Layout {
  std::array<std::size_t, kColumnCount> at{};
  std::size_t width = 0;
  bool json_content = false;  // the older variant: msg and src inside `content`
};

bool all_digits(std::string_view s) noexcept {
  if (s.empty()) return false;
  for (const char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

/// The text between `open` and the next `close` after it.
std::optional<std::string_view> between(std::string_view s, std::string_view open, std::string_view close) {
  const std::size_t b = s.find(open);
  if (b == std::string_view::npos) return std::nullopt;
  const std::size_t from = b + open.size();
  const std::size_t e = s.find(close, from);
  if (e == std::string_view::npos) return std::nullopt;
  return s.substr(from, e - from);
}

/// PyWxDump renders a location as "纬度:【{x}】 经度:【{y}】\n位置：{label} {poiname}\n其他信息：…".
/// Returns false when the coordinates are there but are not degrees.
bool read_location(std::string_view msg, v1::ExtractedFields& fields) {
  const auto lat_text = between(msg, "纬度:【", "】");
  const auto lon_text = between(msg, "经度:【", "】");
  if (const auto place = between(msg, "位置：", "\n")) {
    if (const auto p = trim(*place); !p.empty()) fields.set_address_text(std::string(p));
  } else if (const std::size_t at = msg.find("位置："); at != std::string_view::npos) {
    if (const auto p = trim(msg.substr(at + std::string_view("位置：").size())); !p.empty()) {
      fields.set_address_text(std::string(p));
    }
  }
  if (!lat_text || !lon_text) return true;  // no coordinates in this rendering: nothing to check
  const auto lat = parse_double(trim(*lat_text));
  const auto lon = parse_double(trim(*lon_text));
  if (!lat || !lon || *lat < -90 || *lat > 90 || *lon < -180 || *lon > 180) return false;
  v1::GeoPoint& point = *fields.mutable_location();
  point.set_lat(*lat);
  point.set_lon(*lon);
  point.set_datum(v1::DATUM_GCJ02);
  return true;
}

/// A quote reply renders as "{reply}\n\n[引用]({time}){displayname}:{quoted}".
void read_quote(std::string_view msg, v1::ExtractedFields& fields) {
  constexpr std::string_view kMark = "\n\n[引用](";
  const std::size_t at = msg.find(kMark);
  if (at == std::string_view::npos) {
    fields.set_text(std::string(msg));
    return;
  }
  fields.set_text(std::string(msg.substr(0, at)));
  std::string_view rest = msg.substr(at + kMark.size());
  if (const std::size_t close = rest.find(')'); close != std::string_view::npos) rest.remove_prefix(close + 1);
  auto& extra = *fields.mutable_extra();
  if (const std::size_t colon = rest.find(':'); colon != std::string_view::npos) {
    if (const auto who = trim(rest.substr(0, colon)); !who.empty()) extra["quoted_sender"] = std::string(who);
    rest.remove_prefix(colon + 1);
  }
  if (!rest.empty()) extra["quoted_text"] = std::string(rest);
}

struct Content {
  std::string msg;
  std::string src;
  bool ok = true;
};

/// The older variant's `content` cell: json.dumps({"src": …, "msg": …}) (a bare JSON string is
/// taken as msg).
Content read_json_content(std::string_view cell) {
  Content out;
  boost::system::error_code ec;
  const boost::json::value v = boost::json::parse(cell, ec);
  if (ec) {
    out.ok = false;
  } else if (const auto* s = v.if_string()) {
    out.msg = std::string(s->c_str(), s->size());
  } else if (const auto* o = v.if_object()) {
    const auto text_of = [&](std::string_view key, std::string& dst) {
      const auto* f = o->if_contains(key);
      if (f == nullptr || f->is_null()) return true;
      if (const auto* str = f->if_string()) {
        dst.assign(str->data(), str->size());
        return true;
      }
      return false;
    };
    out.ok = text_of("msg", out.msg) && text_of("src", out.src);
  } else {
    out.ok = false;
  }
  return out;
}

KeyedEvent map_row(const text::CsvRecord& row, const Layout& layout, const std::string& source_name,
                   const std::string& fallback_conversation, const ExportOptions& options) {
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

  v1::ExtractedFields& fields = *event.mutable_fields();
  std::string conversation = options.conversation;
  if (conversation.empty()) conversation = std::string(trim(cell(kRoomName)));
  if (conversation.empty()) conversation = fallback_conversation;
  fields.set_conversation(conversation);

  const std::string_view svr_id = trim(cell(kMsgSvrId));
  out.record_key = svr_id.empty() ? location : std::string(svr_id);
  event.set_source_key(svr_id.empty() ? location : fmt::format("{}:{}", conversation, svr_id));

  Content content;
  if (layout.json_content) {
    if (!trim(cell(kContent)).empty()) content = read_json_content(cell(kContent));
  } else {
    content.msg = std::string(cell(kMsg));
    content.src = std::string(trim(cell(kSrc)));
  }

  const std::string_view type_name = trim(cell(kTypeName));
  const std::string_view kind = pywxdump_message_kind(type_name);
  fields.set_message_kind(std::string(kind));
  auto& extra = *fields.mutable_extra();
  if (!type_name.empty()) extra["type_name"] = std::string(type_name);
  if (const auto v = trim(cell(kId)); !v.empty()) extra["id"] = std::string(v);
  bool location_ok = true;
  if (content.ok) {
    if (kind == "text" || kind == "system") {
      fields.set_text(content.msg);
    } else if (kind == "quote") {
      read_quote(content.msg, fields);
    } else if (kind == "link") {
      fields.set_text(std::string(trim(content.msg)));
      if (!content.src.empty()) extra["url"] = content.src;
    } else if (kind == "location") {
      location_ok = read_location(content.msg, fields);
    } else if (!content.src.empty()) {
      extra["src"] = content.src;  // media: the exported file's path or CDN URL
    }
  }
  const std::string_view is_sender = trim(cell(kIsSender));
  fields.set_from_staff(is_sender == "1");
  if (const auto v = trim(cell(kTalker)); !v.empty()) fields.set_sender_id(std::string(v));

  const std::string_view create_time = trim(cell(kCreateTime));
  std::string time_error;
  if (all_digits(create_time)) {
    const auto seconds = detail::parse_unix_seconds(create_time);
    if (seconds && *seconds > 0) {
      detail::set_unix_seconds(*fields.mutable_reported_at(), *seconds, options.utc_offset_minutes);
    } else {
      time_error = "CreateTime is not a positive unix time in seconds before year 10000";
    }
  } else if (!create_time.empty()) {
    Result<text::ParsedTime> t = text::parse_datetime(create_time, options.utc_offset_minutes);
    if (t) {
      fields.mutable_reported_at()->set_unix_micros(t->unix_micros);
      fields.mutable_reported_at()->set_utc_offset_minutes(t->utc_offset_minutes);
    } else {
      time_error = fmt::format("CreateTime is neither 'yyyy-mm-dd hh:mm:ss' nor unix seconds: {}", t.error().detail);
    }
  }

  // One rejection per row, the most fundamental first. Details name columns, never values.
  if (row.error) {
    reject(event, kReasonBadCsv, "", row.error_message, location);
  } else if (row.fields.size() != layout.width) {
    reject(event, kReasonColumnCount, "",
           fmt::format("row has {} fields but the header has {} columns", row.fields.size(), layout.width), location);
  } else if (svr_id.empty()) {
    reject(event, kReasonMissingField, kNames[kMsgSvrId], "MsgSvrID is empty", location);
  } else if (!all_digits(svr_id)) {
    reject(event, kReasonBadValue, kNames[kMsgSvrId], "MsgSvrID is not a decimal message id", location);
  } else if (type_name.empty()) {
    reject(event, kReasonMissingField, kNames[kTypeName], "type_name is empty", location);
  } else if (is_sender != "0" && is_sender != "1") {
    reject(event, kReasonBadValue, kNames[kIsSender], "is_sender is neither 0 nor 1", location);
  } else if (create_time.empty()) {
    reject(event, kReasonBadDate, kNames[kCreateTime], "CreateTime is empty", location);
  } else if (!time_error.empty()) {
    reject(event, kReasonBadDate, kNames[kCreateTime], time_error, location);
  } else if (!content.ok) {
    reject(event, kReasonBadValue, kNames[kContent],
           "content is not a JSON object with string fields msg and src", location);
  } else if (!location_ok) {
    reject(event, kReasonBadValue, layout.json_content ? kNames[kContent] : kNames[kMsg],
           "the location's 纬度/经度 are not degrees", location);
  }
  return out;
}

std::string_view strip_bom(std::string_view s) noexcept {
  if (s.starts_with("\xEF\xBB\xBF")) s.remove_prefix(3);
  return s;
}

}  // namespace

ChatCsvFormat detect_chat_csv_format(std::string_view file_bytes) {
  const std::string_view text = strip_bom(file_bytes);
  // The header is one line; don't let a stray quote make the reader scan the whole file.
  const std::string_view first_line = text.substr(0, text.find_first_of("\r\n"));
  text::CsvReader reader(first_line);
  text::CsvRecord header;
  if (!reader.next(header) || header.error) return ChatCsvFormat::kUnknown;
  bool svr_id = false, type_name = false, local_id = false, str_content = false;
  for (const auto& f : header.fields) {
    const std::string_view name = trim(f);
    svr_id = svr_id || name == "MsgSvrID";
    type_name = type_name || name == "type_name";
    local_id = local_id || name == "localId";
    str_content = str_content || name == "StrContent";
  }
  if (svr_id && type_name) return ChatCsvFormat::kPyWxDump;
  if (local_id && str_content) return ChatCsvFormat::kMemoTrace;
  return ChatCsvFormat::kUnknown;
}

std::string_view pywxdump_message_kind(std::string_view t) noexcept {
  const auto has = [t](std::string_view part) { return t.find(part) != std::string_view::npos; };
  if (t == "文本" || t == "粘贴的文本") return "text";
  if (t == "图片") return "image";
  if (has("通话")) return "call";  // 语音通话 / 视频通话
  if (t == "语音") return "voice";
  if (t == "视频") return "video";
  if (has("表情")) return "sticker";  // 动画表情
  if (t == "位置" || t == "location") return "location";
  if (t == "系统通知" || t == "拍一拍" || has("撤回")) return "system";
  if (has("引用")) return "quote";  // 带有引用的文本消息
  if (has("链接") || has("分享")) return "link";  // (分享)卡片式链接, (分享)小程序, (分享)音乐
  if (t == "文件") return "file";
  if (has("转账")) return "transfer";
  return "other";
}

std::string pywxdump_conversation_from_file_name(std::string_view source_name) {
  std::string_view name = source_name;
  if (const std::size_t slash = name.find_last_of("/\\"); slash != std::string_view::npos) {
    name.remove_prefix(slash + 1);
  }
  if (name.ends_with(".csv")) name.remove_suffix(4);
  // "{wxid}_{i}_{i+page}": drop the two numeric parts of the page suffix.
  for (int part = 0; part < 2; ++part) {
    const std::size_t us = name.rfind('_');
    if (us == std::string_view::npos || us == 0 || !all_digits(name.substr(us + 1))) break;
    name = name.substr(0, us);
  }
  return std::string(name);
}

Result<ExportOutput> parse_pywxdump_csv(std::string_view file_bytes, const std::string& source_name,
                                        const ExportOptions& options) {
  Result<std::string> utf8 = detail::decode_export_utf8(file_bytes, source_name, "PyWxDump");
  if (!utf8.ok()) return utf8.error();
  text::CsvReader reader(utf8.value());
  Layout layout;
  if (auto header = detail::read_csv_header(reader, source_name, kNames, layout.at, layout.width); !header) {
    return header.error();
  }
  layout.json_content = layout.at[kMsg] == kAbsent && layout.at[kContent] != kAbsent;
  for (const Column c : {kMsgSvrId, kTypeName, kIsSender, kCreateTime}) {
    if (layout.at[c] == kAbsent) {
      return Error(Errc::missing_field,
                   fmt::format("{}: the header has no column '{}'; {}", source_name, kNames[c], kHeaderHelp));
    }
  }
  if (layout.at[kMsg] == kAbsent && layout.at[kContent] == kAbsent) {
    return Error(Errc::missing_field,
                 fmt::format("{}: the header has neither 'msg' nor 'content'; {}", source_name, kHeaderHelp));
  }

  ExportOutput out;
  text::CsvRecord row;
  const std::string fallback = pywxdump_conversation_from_file_name(source_name);
  while (reader.next(row)) {
    out.events.push_back(map_row(row, layout, source_name, fallback, options));
    if (out.events.back().event.has_rejection()) ++out.rejected;
  }
  out.conversation = out.events.empty() ? (options.conversation.empty() ? fallback : options.conversation)
                                        : out.events.front().event.fields().conversation();
  return out;
}

}  // namespace gridhub::wechat
