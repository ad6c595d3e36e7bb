#pragma once
// Small helpers shared by the WeChat parsers.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

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

}  // namespace gridhub::wechat::detail
