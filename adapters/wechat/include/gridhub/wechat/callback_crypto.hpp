#pragma once
/// WeChat Official Account / WeCom callback security (Tencent's WXBizMsgCrypt scheme), no sockets.
///
///   plain signature   sha1_hex(sort(token, timestamp, nonce))              URL ?signature=
///   msg_signature     sha1_hex(sort(token, timestamp, nonce, encrypted))   URL ?msg_signature=
///   encrypted         base64(AES-256-CBC(key, iv = key[0..16),
///                       pkcs7_32(random16 | be32(len(msg)) | msg | receive_id)))
///   key               base64_decode(EncodingAESKey + "=")  (43 characters -> 32 bytes)
///
/// PKCS#7 padding here is to 32-byte blocks (pad byte 1..32), not the cipher's 16. receive_id is
/// the OA's appid or the WeCom corpid; a message for another id is refused. Signatures compare in
/// constant time. OpenSSL (EVP) does SHA-1, base64 and AES.
///
/// open_callback() is the whole inbound check for one request, in the order WeChat's server
/// expects: which mode (plain / encrypted, from the query), the signature, then decryption. Its
/// error says which parameter or field failed and maps to an HTTP status (CallbackFailure).

#include <array>
#include <initializer_list>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "gridhub/common/result.hpp"

namespace gridhub::wechat {

/// hex_lower(sha1(concat(sorted parts))).
std::string sorted_sha1_hex(std::initializer_list<std::string_view> parts);

class CallbackCrypto {
 public:
  /// `encoding_aes_key` empty: plaintext mode only (encrypted requests are refused). Otherwise it
  /// must be 43 base64 characters; an error names what is wrong (config time).
  static Result<CallbackCrypto> create(std::string token, std::string_view encoding_aes_key, std::string receive_id);

  bool has_key() const { return has_key_; }
  const std::string& receive_id() const { return receive_id_; }

  bool check_signature(std::string_view signature, std::string_view timestamp, std::string_view nonce) const;
  bool check_msg_signature(std::string_view msg_signature, std::string_view timestamp, std::string_view nonce,
                           std::string_view encrypted) const;
  std::string msg_signature(std::string_view timestamp, std::string_view nonce, std::string_view encrypted) const;

  /// base64 ciphertext -> the message, after checking padding, length and receive_id.
  Result<std::string> decrypt(std::string_view base64) const;
  /// The inverse, with the caller's 16 random bytes (tests, encrypted replies).
  std::string encrypt(std::string_view message, const std::array<std::uint8_t, 16>& random) const;

 private:
  CallbackCrypto() = default;
  std::string token_;
  std::string receive_id_;
  std::array<std::uint8_t, 32> key_{};
  bool has_key_ = false;
};

/// Why a callback request was refused; the HTTP status follows from it.
enum class CallbackFailure {
  kMissingParameter,  // 400: a query parameter the mode needs is absent
  kBadSignature,      // 403: signature / msg_signature does not match (counted, never parsed further)
  kMalformed,         // 400: the body is not the <xml><Encrypt> envelope, or base64/AES/padding fail
  kWrongReceiver,     // 403: decrypted fine, but for another appid/corpid
  kNotConfigured,     // 400: an encrypted request while no encoding_aes_key is configured
  kPlaintextRefused,  // 403: a plaintext message while an EncodingAESKey is configured (safe mode)
  kStaleTimestamp,    // 403: `timestamp` is not unix seconds within the window of now
  kReplayedNonce,     // 403: this timestamp and nonce came before with another body
};

unsigned http_status(CallbackFailure f);
std::string_view reason_code(CallbackFailure f);   // metrics label: "bad_signature", ...

struct CallbackQuery {
  std::string_view signature, msg_signature, timestamp, nonce, echostr, encrypt_type;
};

struct CallbackError {
  CallbackFailure failure;
  std::string detail;   // names the parameter or field
};

struct OpenedCallback {
  std::string xml;          // the plaintext message XML (or, for URL verification, the echo string)
  bool encrypted = false;
};

/// URL verification (GET): plain mode echoes echostr after checking `signature`; encrypted mode
/// (msg_signature present) checks it over echostr and answers the decrypted echostr.
std::variant<OpenedCallback, CallbackError> open_verification(const CallbackCrypto& crypto, const CallbackQuery& q);

/// A message (POST): encrypted when encrypt_type=aes or msg_signature is present (WeCom always),
/// else plaintext with `signature` checked. Returns the plaintext message XML.
std::variant<OpenedCallback, CallbackError> open_callback(const CallbackCrypto& crypto, const CallbackQuery& q,
                                                          std::string_view body);

}  // namespace gridhub::wechat
