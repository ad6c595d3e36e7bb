#pragma once
// Small helpers shared by the WeChat parsers.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "gridhub/common/result.hpp"
#include "gridhub/text/csv_reader.hpp"
#include "gridhub/v1/event.pb.h"

namespace gridhub::wechat::detail {

void reject(v1::Event& event, std::string_view reason, std::string_view field, std::string detail,
            const std::string& location);

std::string_view trim(std::string_view s) noexcept;

/// A whole-string decimal integer (optional leading '-'); nullopt otherwise.
std::optional<std::int64_t> parse_int(std::string_view s) noexcept;

/// A whole-string decimal number; nullopt otherwise (also for nan/inf).
std::optional<double> parse_double(std::string_view s) noexcept;

/// Unix seconds -> Timestamp, shown at `utc_offset_minutes`.
/// An integer number of unix seconds no later than 9999-12-31 (so it fits in µs); nullopt otherwise.
std::optional<std::int64_t> parse_unix_seconds(std::string_view s) noexcept;

void set_unix_seconds(v1::Timestamp& ts, std::int64_t seconds, int utc_offset_minutes);

/// Decodes the HTML entities MemoTrace's exporters produce (&amp; &lt; &gt; &quot; &#39; and
/// numeric references); anything else is kept as written.
std::string html_unescape(std::string_view s);

/// A column the header does not have.
inline constexpr std::size_t kNoColumn = static_cast<std::size_t>(-1);

/// A chat export's bytes as UTF-8 (the exporters write nothing else); the error names the file and
/// `tool`, the program that wrote it, and says to export again.
Result<std::string> decode_export_utf8(std::string_view file_bytes, const std::string& source_name, std::string_view tool);

/// Reads a chat CSV's header row from `reader` and finds each of `names` in it (cells trimmed):
/// `at[i]` is the column of names[i], or kNoColumn. `width` gets the header's width. An error for an
/// empty file or a header row that is not valid CSV; which columns are required is the caller's call.
Status read_csv_header(text::CsvReader& reader, const std::string& source_name, std::span<const std::string_view> names,
                       std::span<std::size_t> at, std::size_t& width);

}  // namespace gridhub::wechat::detail
