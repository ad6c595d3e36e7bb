#include "gridhub/webform/signature.hpp"

#include <gtest/gtest.h>

namespace gridhub::webform {
namespace {

// RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
constexpr const char* kRfc4231Hex = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";

TEST(WebhookSignature, HmacSha256MatchesRfc4231) {
  EXPECT_EQ(to_hex(hmac_sha256("Jefe", "what do ya want for nothing?")), kRfc4231Hex);
}

TEST(WebhookSignature, AcceptsHexBase64AndTheSha256Prefix) {
  const std::string body = "what do ya want for nothing?";
  const std::string mac = hmac_sha256("Jefe", body);
  EXPECT_EQ(verify_signature(kRfc4231Hex, "Jefe", body), SignatureCheck::kValid);
  std::string upper = kRfc4231Hex;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  EXPECT_EQ(verify_signature(upper, "Jefe", body), SignatureCheck::kValid);
  EXPECT_EQ(verify_signature("sha256=" + std::string(kRfc4231Hex), "Jefe", body), SignatureCheck::kValid);
  EXPECT_EQ(verify_signature("sha256=" + to_base64(mac), "Jefe", body), SignatureCheck::kValid);   // Typeform style
  EXPECT_EQ(verify_signature(to_base64(mac), "Jefe", body), SignatureCheck::kValid);
}

TEST(WebhookSignature, WrongMissingAndMalformedAreTold) {
  const std::string body = "what do ya want for nothing?";
  EXPECT_EQ(verify_signature(kRfc4231Hex, "jefe", body), SignatureCheck::kMismatch);
  EXPECT_EQ(verify_signature(kRfc4231Hex, "Jefe", body + " "), SignatureCheck::kMismatch);
  EXPECT_EQ(verify_signature("", "Jefe", body), SignatureCheck::kMissing);
  EXPECT_EQ(verify_signature("  ", "Jefe", body), SignatureCheck::kMissing);
  EXPECT_EQ(verify_signature("sha256=abc", "Jefe", body), SignatureCheck::kMalformed);
  EXPECT_EQ(verify_signature(std::string(kRfc4231Hex).substr(0, 62) + "zz", "Jefe", body), SignatureCheck::kMalformed);
  EXPECT_EQ(reason_code(SignatureCheck::kMismatch), "bad_signature");
  EXPECT_EQ(reason_code(SignatureCheck::kMissing), "missing_signature");
}

TEST(WebhookSignature, ConstantTimeEqualCompares) {
  EXPECT_TRUE(constant_time_equal("key-123", "key-123"));
  EXPECT_FALSE(constant_time_equal("key-123", "key-124"));
  EXPECT_FALSE(constant_time_equal("key-123", "key-1234"));
  EXPECT_FALSE(constant_time_equal("", "x"));
}

}  // namespace
}  // namespace gridhub::webform
