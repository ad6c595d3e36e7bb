// libFuzzer target: the WeChat callback path of `gridhub-wechat serve` without the sockets —
// signature check, envelope parse, AES-256-CBC decryption with the 32-byte padding and receive-id
// check, then the message parser. Byte 0 picks the mode (mod 5):
//   0 plaintext, correctly signed: the rest is the body
//   1 plaintext, the signature taken from the input (the constant-time compare on any length)
//   2 encrypted: the rest is the <Encrypt> value, correctly msg_signed (base64/AES/padding errors)
//   3 encrypted round trip: the rest is a message, encrypted with the test key then opened;
//     property: it comes back byte for byte
//   4 URL verification with the rest as echostr (plain and encrypted)
// Seeds: tests/fuzz/seeds/wechat_callback/ and the OA fixtures with selectors (scripts/fuzz.sh).

#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_support.hpp"
#include "gridhub/wechat/callback_crypto.hpp"
#include "gridhub/wechat/oa_message.hpp"

namespace {

using gridhub::wechat::CallbackCrypto;
using gridhub::wechat::CallbackError;
using gridhub::wechat::CallbackQuery;
using gridhub::wechat::OpenedCallback;

// Tencent's published sample key (not a secret).
const CallbackCrypto& crypto() {
  static const CallbackCrypto c =
      CallbackCrypto::create("QDG6eK", "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C", "wx5823bf96d3bd56c7").value();
  return c;
}

void parse(const std::variant<OpenedCallback, CallbackError>& opened) {
  if (const auto* e = std::get_if<CallbackError>(&opened)) {
    GRIDHUB_FUZZ_CHECK(!e->detail.empty(), "a refusal says why");
    return;
  }
  static const gridhub::wechat::OaOptions options = [] {
    gridhub::wechat::OaOptions o;
    o.adapter_id = "wechat-callback-fuzz";
    return o;
  }();
  const auto ke = gridhub::wechat::parse_oa_message(std::get<OpenedCallback>(opened).xml, "POST /wechat", options);
  gridhub::fuzz::check_crosses_wire(ke.event);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  gridhub::fuzz::init();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const int mode = data[0] % 5;
  const std::string rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  const std::string ts = "1409659813";
  const std::string nonce = "1372623149";
  const auto& c = crypto();
  switch (mode) {
    case 0: {
      const std::string sig = gridhub::wechat::sorted_sha1_hex({"QDG6eK", ts, nonce});
      parse(gridhub::wechat::open_callback(c, CallbackQuery{sig, {}, ts, nonce, {}, {}}, rest));
      break;
    }
    case 1: {
      const std::string sig = rest.substr(0, 40);
      parse(gridhub::wechat::open_callback(c, CallbackQuery{sig, {}, ts, nonce, {}, {}}, rest.substr(sig.size())));
      break;
    }
    case 2: {
      const std::string body = "<xml><Encrypt><![CDATA[" + rest + "]]></Encrypt></xml>";
      const std::string msig = c.msg_signature(ts, nonce, rest);
      parse(gridhub::wechat::open_callback(c, CallbackQuery{{}, msig, ts, nonce, {}, "aes"}, body));
      break;
    }
    case 3: {
      const std::string enc = c.encrypt(rest, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16});
      const std::string body = "<xml><Encrypt><![CDATA[" + enc + "]]></Encrypt></xml>";
      const auto opened = gridhub::wechat::open_callback(c, CallbackQuery{{}, c.msg_signature(ts, nonce, enc), ts, nonce, {}, "aes"}, body);
      GRIDHUB_FUZZ_CHECK(std::holds_alternative<OpenedCallback>(opened), "an encrypted message opens with its own key");
      GRIDHUB_FUZZ_CHECK(std::get<OpenedCallback>(opened).xml == rest, "decrypt(encrypt(m)) == m");
      parse(opened);
      break;
    }
    default: {
      const std::string sig = gridhub::wechat::sorted_sha1_hex({"QDG6eK", ts, nonce});
      const auto plain = gridhub::wechat::open_verification(c, CallbackQuery{sig, {}, ts, nonce, rest, {}});
      GRIDHUB_FUZZ_CHECK(rest.empty() || (std::holds_alternative<OpenedCallback>(plain) &&
                                          std::get<OpenedCallback>(plain).xml == rest),
                         "a correctly signed plain verification echoes echostr");
      (void)gridhub::wechat::open_verification(c, CallbackQuery{{}, c.msg_signature(ts, nonce, rest), ts, nonce, rest, {}});
      break;
    }
  }
  return 0;
}
