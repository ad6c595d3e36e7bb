#pragma once
/// Phone numbers as residents and operators type them.

#include <string>
#include <string_view>

namespace gridhub::text {

/// Normalizes a Chinese phone number so the same caller compares equal across channels:
///   "+86 138-1234-5678", "0086 13812345678", "(86)13812345678" -> "13812345678"
///   "138 **** 1234"                                            -> "138****1234" (masked kept)
///   "029-12345678", "(029) 1234 5678", "+86 29 12345678"       -> "02912345678"
/// Anything unrecognisable comes back trimmed, with inner whitespace runs collapsed to one space.
/// Never fails: a phone number is a hint, not a key.
std::string normalize_phone(std::string_view raw);

}  // namespace gridhub::text
