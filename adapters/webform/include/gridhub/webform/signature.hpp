#pragma once
/// HMAC-SHA256 signatures of form-builder webhooks.
///
/// The header value is the HMAC-SHA256 of the raw request body under the form's shared secret,
/// written as lower- or upper-case hex or as base64 (Typeform-style `sha256=<base64>`); an optional
/// `sha256=` prefix is accepted. The comparison is constant-time (CRYPTO_memcmp) over the 32-byte
/// digests, so the answer time does not tell an attacker how many bytes matched.

#include <string>
#include <string_view>

namespace gridhub::webform {

enum class SignatureCheck {
  kValid,
  kMissing,     // no header (or an empty one)
  kMalformed,   // neither 64 hex digits nor base64 of 32 bytes
  kMismatch,    // well-formed, wrong
};

/// "valid", "missing_signature", "malformed_signature", "bad_signature": the metrics reason.
std::string_view reason_code(SignatureCheck c);

/// The raw 32-byte HMAC-SHA256 of `body` under `secret`.
std::string hmac_sha256(std::string_view secret, std::string_view body);

/// Checks a signature header value against `body`.
SignatureCheck verify_signature(std::string_view header_value, std::string_view secret, std::string_view body);

/// Secret comparison (API keys) in time independent of where, or whether in length, they differ.
bool constant_time_equal(std::string_view a, std::string_view b);

/// Lower-case hex / standard base64 of bytes (for senders and tests).
std::string to_hex(std::string_view bytes);
std::string to_base64(std::string_view bytes);

}  // namespace gridhub::webform
