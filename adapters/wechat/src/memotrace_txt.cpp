#include "gridhub/wechat/memotrace.hpp"

#include <map>
#include <utility>

#include <fmt/format.h>

#include "event_util.hpp"
#include "gridhub/text/datetime.hpp"
#include "gridhub/text/text_decode.hpp"

namespace gridhub::wechat {
namespace {

using detail::reject;
using detail::trim;

constexpr std::string_view kContentType = "text/plain; charset=utf-8";
constexpr std::size_t kStampLength = 19;  // "2024-05-06 09:29:43"

struct Line {
  std::size_t number;  // 1-based
  std::string_view text;
};

std::vector<Line> split_lines(std::string_view text) {
  std::vector<Line> lines;
  std::size_t number = 1;
  while (!text.empty()) {
    const std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    if (line.ends_with('\r')) line.remove_suffix(1);
    lines.push_back({number++, line});
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
  return lines;
}

bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

/// "yyyy-mm-dd hh:mm:ss" followed by a space or the end of the line. The calendar is checked
/// later, so that a block with an impossible time is reported rather than merged into the
/// previous message.
bool starts_with_stamp(std::string_view line) noexcept {
  if (line.size() < kStampLength) return false;
  constexpr std::string_view kShape = "dddd-dd-dd dd:dd:dd";
  for (std::size_t i = 0; i < kStampLength; ++i) {
    if (kShape[i] == 'd' ? !is_digit(line[i]) : line[i] != kShape[i]) return false;
  }
  return line.size() == kStampLength || line[kStampLength] == ' ';
}

bool is_blank(std::string_view line) noexcept { return trim(line).empty(); }

std::string join(const std::vector<Line>& lines, std::size_t from, std::size_t to) {
  std::string out;
  for (std::size_t i = from; i < to; ++i) {
    if (i != from) out += '\n';
    out += lines[i].text;
  }
  return out;
}

/// MemoTrace's media placeholders.
std::string_view placeholder_kind(std::string_view content) noexcept {
  static constexpr std::pair<std::string_view, std::string_view> kPlaceholders[] = {
      {"[图片]", "image"}, {"[语音]", "voice"}, {"[表情包]", "sticker"},
      {"[视频]", "video"}, {"[文件]", "file"},  {"[音乐分享]", "music"},
  };
  for (const auto& [text, kind] : kPlaceholders) {
    if (content == text) return kind;
  }
  return {};
}

/// Fills kind/text/extra from a block's content lines [from, to).
void read_content(const std::vector<Line>& lines, std::size_t from, std::size_t to, v1::ExtractedFields& fields) {
  auto& extra = *fields.mutable_extra();
  const std::string_view first = trim(lines[from].text);

  // Link card: "[链接]:title:T" then "description:", "url:", "name:" lines, all indented.
  if (constexpr std::string_view kLink = "[链接]:"; first.starts_with(kLink)) {
    fields.set_message_kind("link");
    std::string_view title = first.substr(kLink.size());
    if (title.starts_with("title:")) title.remove_prefix(6);
    fields.set_text(std::string(title));
    static constexpr std::pair<std::string_view, std::string_view> kParts[] = {
        {"description:", "link_description"}, {"url:", "url"}, {"name:", "link_source"}};
    for (std::size_t i = from + 1; i < to; ++i) {
      const std::string_view l = trim(lines[i].text);
      for (const auto& [prefix, key] : kParts) {
        // MemoTrace prints Python's None for a missing part.
        if (l.starts_with(prefix) && l.substr(prefix.size()) != "None" && l.size() > prefix.size()) {
          extra[std::string(key)] = std::string(l.substr(prefix.size()));
        }
      }
    }
    return;
  }

  if (to - from == 1) {
    if (const std::string_view kind = placeholder_kind(first); !kind.empty()) {
      fields.set_message_kind(std::string(kind));
      return;
    }
  }

  // Quote reply: "{reply}\n引用:{name}:{quoted}"; the quoted text may itself span lines.
  constexpr std::string_view kQuote = "引用:";
  for (std::size_t q = from + 1; q < to; ++q) {
    if (!lines[q].text.starts_with(kQuote)) continue;
    fields.set_message_kind("quote");
    fields.set_text(join(lines, from, q));
    std::string quoted = join(lines, q, to).substr(kQuote.size());
    if (const std::size_t colon = quoted.find(':'); colon != std::string::npos) {
      extra["quoted_sender"] = quoted.substr(0, colon);
      quoted.erase(0, colon + 1);
    }
    extra["quoted_text"] = std::move(quoted);
    return;
  }

  fields.set_message_kind("text");
  fields.set_text(join(lines, from, to));
}

}  // namespace

ExportOutput parse_memotrace_txt(std::string_view file_bytes, const std::string& source_name,
                                 const ExportOptions& options) {
  ExportOutput out;
  out.conversation = options.conversation.empty() ? conversation_from_file_name(source_name) : options.conversation;
  if (file_bytes.starts_with("\xEF\xBB\xBF")) file_bytes.remove_prefix(3);
  const std::vector<Line> lines = split_lines(file_bytes);

  // Block boundaries: a stamped line at the start or after a blank line. Content lines that happen
  // to start with a time stay in their block unless a blank line precedes them.
  std::vector<std::size_t> starts;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (starts_with_stamp(lines[i].text) && (i == 0 || is_blank(lines[i - 1].text))) starts.push_back(i);
  }

  std::map<std::string, int, std::less<>> seen_stamps;
  const auto emit = [&](std::size_t from, std::size_t to, bool has_header) {
    while (from < to && is_blank(lines[from].text)) ++from;
    while (to > from && is_blank(lines[to - 1].text)) --to;
    if (to == from) return;
    const std::string location = fmt::format("{}:{}", source_name, lines[from].number);
    KeyedEvent rec;
    rec.record_key = std::to_string(lines[from].number);
    v1::Event& event = rec.event;
    event.set_channel(v1::CHANNEL_WECHAT);
    event.set_adapter_id(options.adapter_id);
    event.set_source_name(source_name);
    event.set_content_type(std::string(kContentType));
    const std::string block = join(lines, from, to);
    event.set_original_payload(block);

    if (!has_header) {
      event.set_source_key(fmt::format("{}:{}", out.conversation, location));
      reject(event, kReasonOrphanText, "",
             fmt::format("{} line(s) before the first \"yyyy-mm-dd hh:mm:ss name\" message header", to - from),
             location);
    } else if (const std::size_t bad = text::find_invalid_utf8(block); bad != std::string_view::npos) {
      // Strings in an Event must be UTF-8, so nothing is extracted; original_payload keeps the bytes.
      event.set_source_key(fmt::format("{}:{}", out.conversation, location));
      reject(event, kReasonBadEncoding, "", fmt::format("byte {} of the message is not UTF-8", bad), location);
    } else {
      const std::string_view header = lines[from].text;
      const std::string stamp(header.substr(0, kStampLength));
      const std::string_view rest = header.size() > kStampLength ? header.substr(kStampLength + 1) : std::string_view{};
      event.set_source_key(fmt::format("{}:{}#{}", out.conversation, stamp, ++seen_stamps[stamp]));

      v1::ExtractedFields& fields = *event.mutable_fields();
      fields.set_conversation(out.conversation);
      if (to - from == 1) {
        // "{StrTime} {content}" with no name line: a system message (joins, recalls, ...).
        fields.set_message_kind("system");
        fields.set_text(std::string(rest));
      } else {
        const std::string name = detail::html_unescape(rest);
        fields.set_from_staff(!options.export_owner_name.empty() && name == options.export_owner_name);
        fields.set_reporter_name(name);
        read_content(lines, from + 1, to, fields);
      }
      Result<text::ParsedTime> time = text::parse_datetime(stamp, options.utc_offset_minutes);
      if (time.ok()) {
        fields.mutable_reported_at()->set_unix_micros(time->unix_micros);
        fields.mutable_reported_at()->set_utc_offset_minutes(time->utc_offset_minutes);
      } else {
        reject(event, kReasonBadDate, "StrTime", fmt::format("StrTime: {}", time.error().detail), location);
      }
    }
    if (event.has_rejection()) ++out.rejected;
    out.events.push_back(std::move(rec));
  };

  emit(0, starts.empty() ? lines.size() : starts.front(), false);
  for (std::size_t b = 0; b < starts.size(); ++b) {
    emit(starts[b], b + 1 < starts.size() ? starts[b + 1] : lines.size(), true);
  }
  return out;
}

}  // namespace gridhub::wechat
