#include "gridhub/webform/photo_store.hpp"

#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "../../testing/temp_dir.hpp"

namespace gridhub::webform {
namespace {

std::string slurp(const std::filesystem::path& p) {
  std::string out;
  FILE* f = std::fopen(p.c_str(), "rb");
  if (f == nullptr) return out;
  char buf[4096];
  for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, f)) > 0;) out.append(buf, n);
  std::fclose(f);
  return out;
}

TEST(PhotoStore, SniffsTheTypeFromTheBytesNotTheName) {
  EXPECT_EQ(sniff_image("\xFF\xD8\xFF\xE0rest"), "jpg");
  EXPECT_EQ(sniff_image(std::string("\x89PNG\r\n\x1A\n\0\0\0\rIHDR", 16)), "png");
  EXPECT_EQ(sniff_image(std::string("RIFF\x10\0\0\0WEBPVP8 ", 16)), "webp");
  EXPECT_EQ(sniff_image(std::string("\0\0\0\x18" "ftypheic\0\0\0\0mif1heic", 24)), "heic");
  EXPECT_EQ(sniff_image(std::string("\0\0\0\x1c" "ftypmif1\0\0\0\0mif1miaf", 24)), "heic");   // HEIF by compatible brand
  EXPECT_EQ(sniff_image(std::string("\0\0\0\x18" "ftypisom\0\0\0\0isommp41", 24)), "");      // MP4 video
  EXPECT_EQ(sniff_image("GIF89a"), "");
  EXPECT_EQ(sniff_image("<svg xmlns=..."), "");
  EXPECT_EQ(sniff_image("\xFF\xD8"), "");
  EXPECT_EQ(sniff_image(""), "");
}

TEST(PhotoStore, StoresUnderTheSha256OfTheBytesOnceOnly) {
  testing::TempDir dir;
  auto store = PhotoStore::open(dir.path() / "photos");
  ASSERT_TRUE(store.ok()) << store.error().detail;
  const std::string jpeg = "\xFF\xD8\xFF\xE0 a tiny jpeg";
  auto first = store->store(jpeg, "jpg");
  ASSERT_TRUE(first.ok()) << first.error().detail;
  EXPECT_TRUE(first->created);
  EXPECT_EQ(first->digest, sha256_hex(jpeg));
  EXPECT_EQ(first->file_name, first->digest + ".jpg");
  EXPECT_EQ(slurp(dir.path() / "photos" / first->file_name), jpeg);
  auto again = store->store(jpeg, "jpg");
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->created);
  EXPECT_EQ(again->file_name, first->file_name);
  std::size_t files = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir.path() / "photos")) {
    EXPECT_FALSE(e.path().filename().string().starts_with(".")) << "no temporary file is left: " << e.path();
    ++files;
  }
  EXPECT_EQ(files, 1u);
}

TEST(PhotoStore, Sha256MatchesTheStandardVector) {
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(PhotoStore, AnUnwritableDirectoryFailsAtOpen) {
  EXPECT_FALSE(PhotoStore::open("/proc/gridhub-no-such-dir/photos").ok());
}

}  // namespace
}  // namespace gridhub::webform
