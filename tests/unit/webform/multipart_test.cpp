#include "gridhub/webform/multipart.hpp"

#include <string>

#include <gtest/gtest.h>

namespace gridhub::webform {
namespace {

// What Chromium sends for the intake page: CRLF everywhere, a file part with its own Content-Type.
constexpr char kRaw[] =
    "------WebKitFormBoundaryAbC123\r\n"
    "Content-Disposition: form-data; name=\"_charset_\"\r\n\r\n"
    "UTF-8\r\n"
    "------WebKitFormBoundaryAbC123\r\n"
    "Content-Disposition: form-data; name=\"content\"\r\n\r\n"
    "路灯坏了\r\n两盏\r\n"
    "------WebKitFormBoundaryAbC123\r\n"
    "Content-Disposition: form-data; name=\"photo\"; filename=\"IMG 1.jpg\"\r\n"
    "Content-Type: image/jpeg\r\n\r\n"
    "\xFF\xD8\xFF\xE0\r\n--not-a-boundary\0binary"
    "\r\n------WebKitFormBoundaryAbC123\r\n"
    "Content-Disposition: form-data; name=\"photo\"; filename=\"\"\r\n"
    "Content-Type: application/octet-stream\r\n\r\n"
    "\r\n------WebKitFormBoundaryAbC123--\r\n";
const std::string kBody(kRaw, sizeof kRaw - 1);

TEST(Multipart, BoundaryComesFromTheContentTypeQuotedOrNot) {
  EXPECT_EQ(multipart_boundary("multipart/form-data; boundary=----WebKitFormBoundaryAbC123").value(),
            "----WebKitFormBoundaryAbC123");
  EXPECT_EQ(multipart_boundary("Multipart/Form-Data; charset=utf-8; boundary=\"a b\"").value(), "a b");
  EXPECT_FALSE(multipart_boundary("multipart/form-data").ok());
  EXPECT_FALSE(multipart_boundary("application/x-www-form-urlencoded; boundary=x").ok());
  EXPECT_FALSE(multipart_boundary("multipart/form-data; boundary=" + std::string(71, 'x')).ok());
}

TEST(Multipart, SplitsTextAndFilePartsKeepingBinaryDataExactly) {
  const std::string body(kBody.data(), kBody.size());
  auto parts = parse_multipart(body, "----WebKitFormBoundaryAbC123");
  ASSERT_TRUE(parts.ok()) << parts.error().detail;
  ASSERT_EQ(parts->size(), 4u);
  EXPECT_EQ((*parts)[0].name, "_charset_");
  EXPECT_EQ((*parts)[0].data, "UTF-8");
  EXPECT_FALSE((*parts)[0].has_filename);
  EXPECT_EQ((*parts)[1].data, "路灯坏了\r\n两盏");   // line breaks inside a value are data
  EXPECT_EQ((*parts)[2].name, "photo");
  EXPECT_EQ((*parts)[2].filename, "IMG 1.jpg");
  EXPECT_EQ((*parts)[2].content_type, "image/jpeg");
  EXPECT_EQ((*parts)[2].data, std::string("\xFF\xD8\xFF\xE0\r\n--not-a-boundary\0binary", 29));
  EXPECT_TRUE((*parts)[3].has_filename);   // an empty file input
  EXPECT_EQ((*parts)[3].filename, "");
  EXPECT_EQ((*parts)[3].data, "");
}

TEST(Multipart, ToleratesPreambleEpilogueAndBareLfHeaders) {
  const std::string body = "preamble text\r\n--XyZ\nContent-Disposition: form-data; name=a\n\nvalue\r\n--XyZ--\r\nepilogue";
  auto parts = parse_multipart(body, "XyZ");
  ASSERT_TRUE(parts.ok()) << parts.error().detail;
  ASSERT_EQ(parts->size(), 1u);
  EXPECT_EQ((*parts)[0].name, "a");
  EXPECT_EQ((*parts)[0].data, "value");
}

TEST(Multipart, ATruncatedUploadIsAnErrorNamingThePart) {
  const std::string body(kBody.data(), kBody.size());
  const std::string cut = body.substr(0, body.find("binary"));
  auto parts = parse_multipart(cut, "----WebKitFormBoundaryAbC123");
  ASSERT_FALSE(parts.ok());
  EXPECT_NE(parts.error().detail.find("part 3 (photo)"), std::string::npos) << parts.error().detail;
  EXPECT_NE(parts.error().detail.find("truncated"), std::string::npos) << parts.error().detail;
}

TEST(Multipart, PartsWithoutANameOrDispositionAreRefused) {
  auto no_name = parse_multipart("--b\r\nContent-Disposition: form-data\r\n\r\nx\r\n--b--", "b");
  ASSERT_FALSE(no_name.ok());
  EXPECT_NE(no_name.error().detail.find("part 1"), std::string::npos);
  auto no_disposition = parse_multipart("--b\r\nContent-Type: text/plain\r\n\r\nx\r\n--b--", "b");
  ASSERT_FALSE(no_disposition.ok());
  EXPECT_NE(no_disposition.error().detail.find("Content-Disposition"), std::string::npos);
  auto not_form = parse_multipart("--b\r\nContent-Disposition: attachment; name=a\r\n\r\nx\r\n--b--", "b");
  EXPECT_FALSE(not_form.ok());
  EXPECT_FALSE(parse_multipart("no boundary here", "b").ok());
}

TEST(Multipart, ThePartCountIsBounded) {
  std::string body;
  for (int i = 0; i < 5; ++i) body += "--b\r\nContent-Disposition: form-data; name=f\r\n\r\nv\r\n";
  body += "--b--";
  EXPECT_TRUE(parse_multipart(body, "b", 5).ok());
  auto over = parse_multipart(body, "b", 4);
  ASSERT_FALSE(over.ok());
  EXPECT_NE(over.error().detail.find("more than 4 parts"), std::string::npos);
}

}  // namespace
}  // namespace gridhub::webform
