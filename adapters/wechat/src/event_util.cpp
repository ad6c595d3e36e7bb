#include "event_util.hpp"

#include <fmt/format.h>

#include "gridhub/text/text_decode.hpp"
#include "gridhub/text/utf8.hpp"

#include <charconv>
#include <cmath>
#include <utility>

namespace gridhub::wechat::detail {

void reject(v1::Event& event, std::string_view reason, std::string_view field, std::string detail,
            const std::string& location) {
  auto* r = event.mutable_rejection();
  r->set_reason_code(std::string(reason));
  r->set_field(std::string(field));
  r->set_detail(std::move(detail));
  r->set_location(location);
}

std::string_view trim(std::string_view s) noexcept {
  constexpr std::string_view kSpace = " \t\r\n";
  const std::size_t b = s.find_first_not_of(kSpace);
  if (b == std::string_view::npos) return {};
  return s.substr(b, s.find_last_not_of(kSpace) - b + 1);
}

std::optional<std::int64_t> parse_int(std::string_view s) noexcept {
  std::int64_t v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc{} || end != s.data() + s.size()) return std::nullopt;
  return v;
}

std::optional<double> parse_double(std::string_view s) noexcept {
  double v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v, std::chars_format::fixed);
  if (s.empty() || ec != std::errc{} || end != s.data() + s.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

std::optional<std::int64_t> parse_unix_seconds(std::string_view s) noexcept {
  // Up to 9999-12-31: anything later is not a time a chat export can hold, and would overflow µs.
  constexpr std::int64_t kMax = 253402300799;
  auto v = parse_int(s);
  if (!v || *v > kMax || *v < -kMax) return std::nullopt;
  return v;
}

void set_unix_seconds(v1::Timestamp& ts, std::int64_t seconds, int utc_offset_minutes) {
  ts.set_unix_micros(seconds * 1'000'000);
  ts.set_utc_offset_minutes(utc_offset_minutes);
}

namespace {

using text::append_utf8;

}  // namespace

std::string html_unescape(std::string_view s) {
  static constexpr std::pair<std::string_view, char> kNamed[] = {
      {"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&#39;", '\''}, {"&apos;", '\''}};
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    if (s[i] != '&') {
      out += s[i++];
      continue;
    }
    const std::string_view rest = s.substr(i);
    bool done = false;
    for (const auto& [entity, ch] : kNamed) {
      if (rest.starts_with(entity)) {
        out += ch;
        i += entity.size();
        done = true;
        break;
      }
    }
    if (done) continue;
    if (rest.starts_with("&#")) {
      const std::size_t semi = rest.find(';');
      const bool hex = rest.size() > 2 && (rest[2] == 'x' || rest[2] == 'X');
      const std::size_t digits_at = hex ? 3 : 2;
      if (semi != std::string_view::npos && semi > digits_at && semi <= digits_at + 7) {
        std::uint32_t cp = 0;
        const auto [end, ec] = std::from_chars(rest.data() + digits_at, rest.data() + semi, cp, hex ? 16 : 10);
        if (ec == std::errc{} && end == rest.data() + semi && cp != 0 && cp <= 0x10FFFF &&
            (cp < 0xD800 || cp > 0xDFFF)) {
          append_utf8(out, cp);
          i += semi + 1;
          continue;
        }
      }
    }
    out += s[i++];
  }
  return out;
}

Result<std::string> decode_export_utf8(std::string_view file_bytes, const std::string& source_name, std::string_view tool) {
  Result<text::DecodedText> decoded = text::decode_text(file_bytes, "utf-8");
  if (!decoded.ok()) {
    return Error(decoded.error().code, fmt::format("{}: {}; {} CSV exports are UTF-8, export the chat again", source_name,
                                                   decoded.error().detail, tool));
  }
  return std::move(decoded->utf8);
}

Status read_csv_header(text::CsvReader& reader, const std::string& source_name, std::span<const std::string_view> names,
                       std::span<std::size_t> at, std::size_t& width) {
  text::CsvRecord row;
  if (!reader.next(row)) return Error(Errc::missing_field, fmt::format("{}: no header row (the file is empty)", source_name));
  if (row.error) return Error(Errc::bad_value, fmt::format("{}: header row: {}", source_name, row.error_message));
  width = row.fields.size();
  reader.expect_fields(width);
  for (std::size_t c = 0; c < names.size() && c < at.size(); ++c) {
    at[c] = kNoColumn;
    for (std::size_t i = 0; i < row.fields.size(); ++i) {
      if (trim(row.fields[i]) == names[c]) {
        at[c] = i;
        break;
      }
    }
  }
  return Ok{};
}

}  // namespace gridhub::wechat::detail
