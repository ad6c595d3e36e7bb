#include "gridhub/wechat/callback_crypto.hpp"

#include <gtest/gtest.h>

namespace gridhub::wechat {
namespace {

// Tencent's published WeCom sample (WXBizMsgCrypt Sample.cpp): token, corpid, EncodingAESKey and
// two captured requests, copied verbatim.
constexpr std::string_view kToken = "QDG6eK";
constexpr std::string_view kCorpId = "wx5823bf96d3bd56c7";
constexpr std::string_view kAesKey = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C";

constexpr std::string_view kVerifySig = "5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3";
constexpr std::string_view kVerifyTs = "1409659589";
constexpr std::string_view kVerifyNonce = "263014780";
constexpr std::string_view kVerifyEcho =
    "P9nAzCzyDtyTWESHep1vC5X9xho/qYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp+4RPcs8TgAE7OaBO+FZXvnaqQ==";

constexpr std::string_view kMsgSig = "477715d11cdb4164915debcba66cb864d751f3e6";
constexpr std::string_view kMsgTs = "1409659813";
constexpr std::string_view kMsgNonce = "1372623149";
constexpr std::string_view kMsgBody =
    "<xml><ToUserName><![CDATA[wx5823bf96d3bd56c7]]></ToUserName><Encrypt><![CDATA[RypEvHKD8QQKFhvQ6QleEB4J58tiPdvo+"
    "rtK1I9qca6aM/wvqnLSV5zEPeusUiX5L5X/0lWfrf0QADHHhGd3QczcdCUpj911L3vg3W/"
    "sYYvuJTs3TUUkSUXxaccAS0qhxchrRYt66wiSpGLYL42aM6A8dTT+6k4aSknmPj48kzJs8qLjvd4Xgpue06DOdnLxAUHzM6+kDZ+"
    "HMZfJYuR+LtwGc2hgf5gsijff0ekUNXZiqATP7PF5mZxZ3Izoun1s4zG4LUMnvw2r+KqCKIw+3IQH03v+"
    "BCA9nMELNqbSf6tiWSrXJB3LAVGUcallcrw8V2t9EL4EhzJWrQUax5wLVMNS0+rUPA3k22Ncx4XXZS9o0MBH27Bo6BpNelZpS+/"
    "uh9KsNlY6bHCmJU9p8g7m3fVKn28H3KDYA5Pl/T8Z1ptDAVe0lXdQ2YoyyH2uyPIGHBZZIs2pDBS8R07+qN+E7Q==]]></"
    "Encrypt><AgentID><![CDATA[218]]></AgentID></xml>";

CallbackCrypto tencent(std::string_view receive_id = kCorpId) {
  auto c = CallbackCrypto::create(std::string(kToken), kAesKey, std::string(receive_id));
  EXPECT_TRUE(c.ok()) << (c.ok() ? "" : c.error().message());
  return std::move(c).value();
}

template <class T>
const T& as(const std::variant<OpenedCallback, CallbackError>& v) {
  if constexpr (std::is_same_v<T, OpenedCallback>) {
    if (auto* e = std::get_if<CallbackError>(&v)) ADD_FAILURE() << "refused: " << e->detail;
  }
  return std::get<T>(v);
}

TEST(CallbackCrypto, TencentVectorVerifyUrl) {
  CallbackQuery q{{}, kVerifySig, kVerifyTs, kVerifyNonce, kVerifyEcho, {}};
  auto opened = open_verification(tencent(), q);
  ASSERT_TRUE(std::holds_alternative<OpenedCallback>(opened)) << std::get<CallbackError>(opened).detail;
  const auto& echo = std::get<OpenedCallback>(opened).xml;
  EXPECT_TRUE(std::get<OpenedCallback>(opened).encrypted);
  // Decryption checked the 32-byte padding and that the trailing receive id is the corpid.
  EXPECT_EQ(echo, "1616140317555161061");
}

TEST(CallbackCrypto, TencentVectorDecryptMsg) {
  CallbackQuery q{{}, kMsgSig, kMsgTs, kMsgNonce, {}, {}};
  auto opened = open_callback(tencent(), q, kMsgBody);
  ASSERT_TRUE(std::holds_alternative<OpenedCallback>(opened)) << std::get<CallbackError>(opened).detail;
  const std::string& xml = std::get<OpenedCallback>(opened).xml;
  EXPECT_TRUE(xml.starts_with("<xml>")) << xml;
  EXPECT_NE(xml.find("<ToUserName><![CDATA[wx5823bf96d3bd56c7]]></ToUserName>"), std::string::npos) << xml;
  EXPECT_NE(xml.find("<AgentID>218</AgentID>"), std::string::npos) << xml;
  EXPECT_NE(xml.find("<MsgType><![CDATA[text]]></MsgType>"), std::string::npos) << xml;
}

TEST(CallbackCrypto, TheVectorIsRefusedWithAnyPartChanged) {
  // One flipped character in the signature, the nonce or the ciphertext: bad_signature.
  std::string sig(kMsgSig);
  sig[0] = sig[0] == 'a' ? 'b' : 'a';
  auto r1 = open_callback(tencent(), CallbackQuery{{}, sig, kMsgTs, kMsgNonce, {}, {}}, kMsgBody);
  EXPECT_EQ(as<CallbackError>(r1).failure, CallbackFailure::kBadSignature);
  auto r2 = open_callback(tencent(), CallbackQuery{{}, kMsgSig, kMsgTs, "1372623148", {}, {}}, kMsgBody);
  EXPECT_EQ(as<CallbackError>(r2).failure, CallbackFailure::kBadSignature);
  std::string body(kMsgBody);
  body[body.find("RypEv")] = 'S';
  auto r3 = open_callback(tencent(), CallbackQuery{{}, kMsgSig, kMsgTs, kMsgNonce, {}, {}}, body);
  EXPECT_EQ(as<CallbackError>(r3).failure, CallbackFailure::kBadSignature);
  // Right signature, wrong token configured.
  auto other = CallbackCrypto::create("other", kAesKey, std::string(kCorpId)).value();
  auto r4 = open_callback(other, CallbackQuery{{}, kMsgSig, kMsgTs, kMsgNonce, {}, {}}, kMsgBody);
  EXPECT_EQ(as<CallbackError>(r4).failure, CallbackFailure::kBadSignature);
}

TEST(CallbackCrypto, AMessageForAnotherCorpIdIsRefused) {
  auto r = open_callback(tencent("wx0000000000000000"), CallbackQuery{{}, kMsgSig, kMsgTs, kMsgNonce, {}, {}}, kMsgBody);
  const auto& e = as<CallbackError>(r);
  EXPECT_EQ(e.failure, CallbackFailure::kWrongReceiver);
  EXPECT_EQ(http_status(e.failure), 403u);
  EXPECT_NE(e.detail.find("wx5823bf96d3bd56c7"), std::string::npos) << e.detail;
}

TEST(CallbackCrypto, EncryptIsTheInverseOfDecryptAndPadsTo32ByteBlocks) {
  auto c = tencent();
  const std::array<std::uint8_t, 16> random{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
  for (std::size_t n : {0u, 1u, 11u, 12u, 43u, 44u, 500u}) {
    const std::string msg(n, 'm');
    const std::string b64 = c.encrypt(msg, random);
    // 16 + 4 + n + 18 (corpid) rounded up to 32, never a bare 16-byte boundary.
    const std::size_t plain = 16 + 4 + n + kCorpId.size();
    EXPECT_EQ(b64.size(), ((plain / 32 + 1) * 32 + 2) / 3 * 4) << n;
    auto back = c.decrypt(b64);
    ASSERT_TRUE(back.ok()) << back.error().message();
    EXPECT_EQ(back.value(), msg);
  }
}

TEST(CallbackCrypto, PlainSignatureIsSha1OfTheSortedStrings) {
  // sorted: "1409659589" < "263014780" < "QDG6eK" (digits sort before letters).
  auto c = CallbackCrypto::create("QDG6eK", {}, {}).value();
  const std::string sig = sorted_sha1_hex({"QDG6eK", "1409659589", "263014780"});
  EXPECT_EQ(sig, sorted_sha1_hex({"1409659589263014780QDG6eK"}));
  EXPECT_EQ(sig.size(), 40u);
  EXPECT_TRUE(c.check_signature(sig, "1409659589", "263014780"));
  EXPECT_FALSE(c.check_signature(sig, "1409659589", "263014781"));
  auto v = open_verification(c, CallbackQuery{sig, {}, "1409659589", "263014780", "hello123", {}});
  EXPECT_EQ(as<OpenedCallback>(v).xml, "hello123");
  auto missing = open_verification(c, CallbackQuery{sig, {}, "1409659589", {}, "hello123", {}});
  EXPECT_EQ(as<CallbackError>(missing).failure, CallbackFailure::kMissingParameter);
  EXPECT_NE(as<CallbackError>(missing).detail.find("'nonce'"), std::string::npos);
  // Plain mode cannot open encrypted requests.
  auto enc = open_callback(c, CallbackQuery{{}, kMsgSig, kMsgTs, kMsgNonce, {}, "aes"}, kMsgBody);
  EXPECT_EQ(as<CallbackError>(enc).failure, CallbackFailure::kNotConfigured);
}

TEST(CallbackCrypto, ConfigurationErrorsSayWhatIsWrong) {
  EXPECT_FALSE(CallbackCrypto::create("", kAesKey, "x").ok());
  auto short_key = CallbackCrypto::create("t", "abc", "x");
  ASSERT_FALSE(short_key.ok());
  EXPECT_NE(short_key.error().message().find("43"), std::string::npos);
  EXPECT_FALSE(CallbackCrypto::create("t", std::string(43, '*'), "x").ok());
  EXPECT_FALSE(CallbackCrypto::create("t", kAesKey, "").ok());   // encrypted mode needs the appid/corpid
}

TEST(CallbackCrypto, BrokenEnvelopesAreMalformedNotCrashes) {
  auto c = tencent();
  const std::string ts = "1", nonce = "2";
  for (std::string_view enc : {"", "!!!!", "abc", "AAAA", "AAAAAAAAAAAAAAAAAAAAAA==", "RypEvHKD8QQKFhvQ6QleEB4J58tiPdvo+rtK1I9qca4="}) {
    const std::string body = "<xml><Encrypt>" + std::string(enc) + "</Encrypt></xml>";
    const std::string sig = c.msg_signature(ts, nonce, enc);
    auto r = open_callback(c, CallbackQuery{{}, sig, ts, nonce, {}, "aes"}, body);
    ASSERT_TRUE(std::holds_alternative<CallbackError>(r)) << enc;
    EXPECT_EQ(std::get<CallbackError>(r).failure, CallbackFailure::kMalformed) << enc;
  }
  auto not_xml = open_callback(c, CallbackQuery{{}, "x", ts, nonce, {}, "aes"}, "<xml><Encr");
  EXPECT_EQ(as<CallbackError>(not_xml).failure, CallbackFailure::kMalformed);
}

}  // namespace
}  // namespace gridhub::wechat
