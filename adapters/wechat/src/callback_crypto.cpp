#include "gridhub/wechat/callback_crypto.hpp"

#include <algorithm>
#include <memory>
#include <vector>

#include <fmt/format.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <pugixml.hpp>

namespace gridhub::wechat {

namespace {

constexpr std::size_t kPadBlock = 32;   // WXBizMsgCrypt pads to 32 bytes, not AES's 16

std::string hex_lower(const unsigned char* p, std::size_t n) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(n * 2, '0');
  for (std::size_t i = 0; i < n; ++i) {
    out[2 * i] = kHex[p[i] >> 4];
    out[2 * i + 1] = kHex[p[i] & 15];
  }
  return out;
}

bool equal_constant_time(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

/// Strict base64 (no whitespace, length a multiple of 4); nullopt otherwise.
std::optional<std::string> base64_decode(std::string_view in) {
  if (in.empty() || in.size() % 4 != 0) return std::nullopt;
  std::size_t pad = 0;
  for (std::size_t i = 0; i < in.size(); ++i) {
    const char c = in[i];
    const bool alnum = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/';
    if (c == '=') {
      if (i + 2 < in.size()) return std::nullopt;   // '=' only in the last two places
      ++pad;
    } else if (!alnum || pad > 0) {
      return std::nullopt;
    }
  }
  std::string out(in.size() / 4 * 3, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(in.data()), static_cast<int>(in.size()));
  if (n < 0) return std::nullopt;
  out.resize(static_cast<std::size_t>(n) - pad);
  return out;
}

std::string base64_encode(std::string_view in) {
  std::string out((in.size() + 2) / 3 * 4 + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(in.data()), static_cast<int>(in.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)>;

/// AES-256-CBC without the cipher's own padding; nullopt if OpenSSL refuses.
std::optional<std::string> aes_cbc(bool encrypt, const std::array<std::uint8_t, 32>& key, std::string_view in) {
  CipherCtx ctx(EVP_CIPHER_CTX_new(), &EVP_CIPHER_CTX_free);
  if (!ctx) return std::nullopt;
  if (EVP_CipherInit_ex(ctx.get(), EVP_aes_256_cbc(), nullptr, key.data(), key.data(), encrypt ? 1 : 0) != 1) {
    return std::nullopt;
  }
  EVP_CIPHER_CTX_set_padding(ctx.get(), 0);
  std::string out(in.size() + 32, '\0');
  int n1 = 0;
  int n2 = 0;
  if (EVP_CipherUpdate(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &n1,
                       reinterpret_cast<const unsigned char*>(in.data()), static_cast<int>(in.size())) != 1 ||
      EVP_CipherFinal_ex(ctx.get(), reinterpret_cast<unsigned char*>(out.data()) + n1, &n2) != 1) {
    return std::nullopt;
  }
  out.resize(static_cast<std::size_t>(n1 + n2));
  return out;
}

CallbackError fail(CallbackFailure f, std::string detail) { return CallbackError{f, std::move(detail)}; }

}  // namespace

std::string sorted_sha1_hex(std::initializer_list<std::string_view> parts) {
  std::vector<std::string_view> v(parts);
  std::sort(v.begin(), v.end());
  std::string joined;
  for (auto p : v) joined += p;
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(joined.data(), joined.size(), md, &len, EVP_sha1(), nullptr);
  return hex_lower(md, len);
}

Result<CallbackCrypto> CallbackCrypto::create(std::string token, std::string_view encoding_aes_key, std::string receive_id) {
  CallbackCrypto c;
  if (token.empty()) return Error(Errc::config_invalid, "token must not be empty");
  c.token_ = std::move(token);
  c.receive_id_ = std::move(receive_id);
  if (encoding_aes_key.empty()) return c;
  if (encoding_aes_key.size() != 43) {
    return Error(Errc::config_invalid,
                 fmt::format("encoding_aes_key has {} characters; WeChat's EncodingAESKey has 43", encoding_aes_key.size()));
  }
  auto key = base64_decode(std::string(encoding_aes_key) + "=");
  if (!key || key->size() != 32) {
    return Error(Errc::config_invalid, "encoding_aes_key is not base64 for 32 bytes (WeChat's EncodingAESKey)");
  }
  if (c.receive_id_.empty()) {
    return Error(Errc::config_invalid, "encrypted mode needs the appid (Official Account) or corpid (WeCom)");
  }
  std::copy(key->begin(), key->end(), c.key_.begin());
  c.has_key_ = true;
  return c;
}

bool CallbackCrypto::check_signature(std::string_view signature, std::string_view timestamp, std::string_view nonce) const {
  return equal_constant_time(sorted_sha1_hex({token_, timestamp, nonce}), signature);
}

std::string CallbackCrypto::msg_signature(std::string_view timestamp, std::string_view nonce, std::string_view encrypted) const {
  return sorted_sha1_hex({token_, timestamp, nonce, encrypted});
}

bool CallbackCrypto::check_msg_signature(std::string_view msg_sig, std::string_view timestamp, std::string_view nonce,
                                         std::string_view encrypted) const {
  return equal_constant_time(msg_signature(timestamp, nonce, encrypted), msg_sig);
}

Result<std::string> CallbackCrypto::decrypt(std::string_view b64) const {
  if (!has_key_) return Error(Errc::config_invalid, "no encoding_aes_key configured");
  auto cipher = base64_decode(b64);
  if (!cipher) return Error(Errc::malformed_frame, "Encrypt is not valid base64");
  if (cipher->empty() || cipher->size() % 16 != 0) {
    return Error(Errc::malformed_frame, fmt::format("Encrypt decodes to {} bytes, not a multiple of the AES block", cipher->size()));
  }
  auto plain = aes_cbc(false, key_, *cipher);
  if (!plain) return Error(Errc::malformed_frame, "AES-256-CBC decryption failed");
  const auto pad = static_cast<unsigned char>(plain->back());
  if (pad < 1 || pad > kPadBlock || pad > plain->size()) {
    return Error(Errc::malformed_frame, "bad PKCS#7 padding after decryption (wrong encoding_aes_key?)");
  }
  for (std::size_t i = plain->size() - pad; i < plain->size(); ++i) {
    if (static_cast<unsigned char>((*plain)[i]) != pad) {
      return Error(Errc::malformed_frame, "bad PKCS#7 padding after decryption (wrong encoding_aes_key?)");
    }
  }
  plain->resize(plain->size() - pad);
  if (plain->size() < 20) return Error(Errc::malformed_frame, "decrypted text shorter than random(16) + length(4)");
  const auto* p = reinterpret_cast<const unsigned char*>(plain->data()) + 16;
  const std::size_t len = (std::size_t{p[0]} << 24) | (std::size_t{p[1]} << 16) | (std::size_t{p[2]} << 8) | p[3];
  if (len > plain->size() - 20) {
    return Error(Errc::malformed_frame, fmt::format("decrypted length field {} exceeds the {} bytes present", len, plain->size() - 20));
  }
  std::string_view receiver = std::string_view(*plain).substr(20 + len);
  if (receiver != receive_id_) {
    return Error(Errc::invalid_event, fmt::format("the message is for receive id '{}', not the configured '{}'",
                                                  receiver.substr(0, 64), receive_id_));
  }
  return plain->substr(20, len);
}

std::string CallbackCrypto::encrypt(std::string_view message, const std::array<std::uint8_t, 16>& random) const {
  std::string plain(reinterpret_cast<const char*>(random.data()), random.size());
  const auto len = static_cast<std::uint32_t>(message.size());
  plain += static_cast<char>((len >> 24) & 0xff);
  plain += static_cast<char>((len >> 16) & 0xff);
  plain += static_cast<char>((len >> 8) & 0xff);
  plain += static_cast<char>(len & 0xff);
  plain += message;
  plain += receive_id_;
  const std::size_t pad = kPadBlock - plain.size() % kPadBlock;
  plain.append(pad, static_cast<char>(pad));
  auto cipher = aes_cbc(true, key_, plain);
  return cipher ? base64_encode(*cipher) : std::string();
}

unsigned http_status(CallbackFailure f) {
  switch (f) {
    case CallbackFailure::kMissingParameter: return 400;
    case CallbackFailure::kBadSignature: return 403;
    case CallbackFailure::kMalformed: return 400;
    case CallbackFailure::kWrongReceiver: return 403;
    case CallbackFailure::kNotConfigured: return 400;
    case CallbackFailure::kPlaintextRefused: return 403;
    case CallbackFailure::kStaleTimestamp: return 403;
    case CallbackFailure::kReplayedNonce: return 403;
  }
  return 400;
}

std::string_view reason_code(CallbackFailure f) {
  switch (f) {
    case CallbackFailure::kMissingParameter: return "missing_parameter";
    case CallbackFailure::kBadSignature: return "bad_signature";
    case CallbackFailure::kMalformed: return "bad_envelope";
    case CallbackFailure::kWrongReceiver: return "wrong_receiver";
    case CallbackFailure::kNotConfigured: return "not_configured";
    case CallbackFailure::kPlaintextRefused: return "plaintext_refused";
    case CallbackFailure::kStaleTimestamp: return "stale_timestamp";
    case CallbackFailure::kReplayedNonce: return "replayed_nonce";
  }
  return "unknown";
}

namespace {

std::optional<CallbackError> require(const CallbackQuery& q, bool encrypted, bool echo) {
  auto need = [](std::string_view v, const char* name) -> std::optional<CallbackError> {
    if (v.empty()) return fail(CallbackFailure::kMissingParameter, fmt::format("query parameter '{}' is missing", name));
    return std::nullopt;
  };
  for (auto [v, name] : {std::pair{encrypted ? q.msg_signature : q.signature, encrypted ? "msg_signature" : "signature"},
                         std::pair{q.timestamp, "timestamp"}, std::pair{q.nonce, "nonce"}}) {
    if (auto e = need(v, name)) return e;
  }
  if (echo) return need(q.echostr, "echostr");
  return std::nullopt;
}

std::variant<OpenedCallback, CallbackError> decrypt_checked(const CallbackCrypto& crypto, const CallbackQuery& q,
                                                             std::string_view encrypted, const char* what) {
  if (!crypto.has_key()) {
    return fail(CallbackFailure::kNotConfigured, "an encrypted callback, but wechat.encoding_aes_key is not configured");
  }
  if (!crypto.check_msg_signature(q.msg_signature, q.timestamp, q.nonce, encrypted)) {
    return fail(CallbackFailure::kBadSignature,
                fmt::format("msg_signature does not match sha1(sort(token, timestamp, nonce, {})) (wrong token?)", what));
  }
  auto plain = crypto.decrypt(encrypted);
  if (!plain) {
    const bool wrong_id = plain.error().code == make_error_code(Errc::invalid_event);
    return fail(wrong_id ? CallbackFailure::kWrongReceiver : CallbackFailure::kMalformed,
                fmt::format("{}: {}", what, plain.error().detail));
  }
  return OpenedCallback{std::move(plain.value()), true};
}

}  // namespace

std::variant<OpenedCallback, CallbackError> open_verification(const CallbackCrypto& crypto, const CallbackQuery& q) {
  const bool encrypted = !q.msg_signature.empty();
  if (auto e = require(q, encrypted, true)) return *e;
  if (encrypted) return decrypt_checked(crypto, q, q.echostr, "echostr");
  if (!crypto.check_signature(q.signature, q.timestamp, q.nonce)) {
    return fail(CallbackFailure::kBadSignature, "signature does not match sha1(sort(token, timestamp, nonce)) (wrong token?)");
  }
  return OpenedCallback{std::string(q.echostr), false};
}

std::variant<OpenedCallback, CallbackError> open_callback(const CallbackCrypto& crypto, const CallbackQuery& q,
                                                          std::string_view body) {
  const bool encrypted = q.encrypt_type == "aes" || !q.msg_signature.empty();
  if (auto e = require(q, encrypted, false)) return *e;
  if (!encrypted) {
    if (!crypto.check_signature(q.signature, q.timestamp, q.nonce)) {
      return fail(CallbackFailure::kBadSignature, "signature does not match sha1(sort(token, timestamp, nonce)) (wrong token?)");
    }
    return OpenedCallback{std::string(body), false};
  }
  pugi::xml_document doc;
  const auto parsed = doc.load_buffer(body.data(), body.size(), pugi::parse_default, pugi::encoding_utf8);
  if (!parsed) {
    return fail(CallbackFailure::kMalformed,
                fmt::format("body is not well-formed XML: {} at byte {}", parsed.description(), parsed.offset));
  }
  const pugi::xml_node enc = doc.child("xml").child("Encrypt");
  if (!enc) return fail(CallbackFailure::kMalformed, "body has no <xml><Encrypt> element");
  std::string_view value = enc.child_value();
  while (!value.empty() && (value.front() == ' ' || value.front() == '\n' || value.front() == '\r' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\n' || value.back() == '\r' || value.back() == '\t')) value.remove_suffix(1);
  return decrypt_checked(crypto, q, value, "Encrypt");
}

}  // namespace gridhub::wechat
