#pragma once
/// The reference a resident is given for a report ("受理编号"): twelve digits a person can read aloud
/// and type on a phone keypad, the same on every channel, derived from the report's identity alone.
///
///   reference = 11 digits of mix64(fnv1a64(channel "/" source_key)) mod 10^11, zero-padded,
///               followed by one Damm check digit over those 11
///
/// Derived from (channel, source_key) — the hub's dedup key — so the adapter that answers the
/// resident ("提交成功") and the hub that logs the report compute the same reference without asking
/// each other, and replaying the log reproduces it. The hex digest in the source key stays the
/// idempotency key; this is what people see. It names a report, not a ticket: the hub maps it to
/// the ticket the report created or was merged into (ProgressLookup).
///
/// Why Damm: digits only (ISO 7064 MOD 11-2 needs an "X"), and it detects every single-digit error
/// and every transposition of adjacent digits (Luhn misses 09 <-> 90). Not a secret: the lookup
/// also asks for the reporter's phone digits. 10^11 references: two reports share one with
/// probability n^2 / 2·10^11 (about 5 pairs in a million reports); the lookup tells them apart by
/// the phone digits.

#include <optional>
#include <string>
#include <string_view>

namespace gridhub {

inline constexpr std::size_t kPublicReferenceDigits = 12;

/// The Damm check digit ('0'..'9') of a string of decimal digits (any other character: '\0').
char damm_check_digit(std::string_view digits) noexcept;
/// True when `digits` (all decimal) ends in its Damm check digit, i.e. the whole string's interim is 0.
bool damm_valid(std::string_view digits) noexcept;

/// The report's public reference (12 digits, no separators).
std::string public_reference(int channel, std::string_view source_key);

/// A reference as a person typed it: spaces, '-' and full-width digits accepted and dropped. The
/// canonical 12 digits, or nothing when it is not 12 digits or its check digit is wrong.
std::optional<std::string> parse_public_reference(std::string_view typed);

/// "1234 5678 9012": grouped for reading aloud (the canonical form is the 12 digits).
std::string display_reference(std::string_view reference);

}  // namespace gridhub
