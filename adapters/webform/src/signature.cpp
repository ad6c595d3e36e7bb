#include "gridhub/webform/signature.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

namespace gridhub::webform {
namespace {

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/// 32 bytes from 64 hex digits or base64; empty when it is neither.
std::string decode_digest(std::string_view v) {
  std::string out;
  if (v.size() == 64) {
    bool hex = true;
    for (std::size_t i = 0; i < 64 && hex; i += 2) {
      const int hi = hex_digit(v[i]);
      const int lo = hex_digit(v[i + 1]);
      if (hi < 0 || lo < 0) {
        hex = false;
      } else {
        out += static_cast<char>(hi * 16 + lo);
      }
    }
    if (hex) return out;
    out.clear();
  }
  // base64 of 32 bytes is 44 characters with one '=' of padding.
  if (v.size() != 44) return {};
  for (const char c : v.substr(0, 43)) {
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/')) return {};
  }
  if (v[43] != '=') return {};
  unsigned char buf[48];
  const int n = EVP_DecodeBlock(buf, reinterpret_cast<const unsigned char*>(v.data()), static_cast<int>(v.size()));
  if (n != 33) return {};   // EVP_DecodeBlock counts the padding as a zero byte
  return std::string(reinterpret_cast<const char*>(buf), 32);
}

}  // namespace

std::string_view reason_code(SignatureCheck c) {
  switch (c) {
    case SignatureCheck::kValid: return "valid";
    case SignatureCheck::kMissing: return "missing_signature";
    case SignatureCheck::kMalformed: return "malformed_signature";
    case SignatureCheck::kMismatch: return "bad_signature";
  }
  return "bad_signature";
}

std::string hmac_sha256(std::string_view secret, std::string_view body) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()), reinterpret_cast<const unsigned char*>(body.data()),
       body.size(), md, &n);
  return std::string(reinterpret_cast<const char*>(md), n);
}

SignatureCheck verify_signature(std::string_view v, std::string_view secret, std::string_view body) {
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
  if (v.empty()) return SignatureCheck::kMissing;
  if (v.starts_with("sha256=")) v.remove_prefix(7);
  const std::string given = decode_digest(v);
  if (given.size() != 32) return SignatureCheck::kMalformed;
  const std::string want = hmac_sha256(secret, body);
  return CRYPTO_memcmp(given.data(), want.data(), 32) == 0 ? SignatureCheck::kValid : SignatureCheck::kMismatch;
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  // Comparing digests hides the length too; a fixed key keeps them from being precomputed.
  const std::string da = hmac_sha256("gridhub-compare", a);
  const std::string db = hmac_sha256("gridhub-compare", b);
  return CRYPTO_memcmp(da.data(), db.data(), da.size()) == 0;
}

std::string to_hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (const char c : bytes) {
    out += kDigits[static_cast<unsigned char>(c) >> 4];
    out += kDigits[static_cast<unsigned char>(c) & 15];
  }
  return out;
}

std::string to_base64(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

}  // namespace gridhub::webform
