#pragma once
/// Photos from form posts, stored content-addressed: the file name is the SHA-256 of the bytes
/// (lower-case hex) plus the extension of the sniffed image type, in one flat directory.
///
/// The type comes from the bytes, never from the client's file name or Content-Type: JPEG
/// (FF D8 FF), PNG (89 50 4E 47 0D 0A 1A 0A), WebP (RIFF....WEBP) and HEIC/HEIF (an ISO-BMFF
/// `ftyp` box whose brands name heic/heix/hevc/heim/heis/hevm/hevs/mif1/msf1) are accepted;
/// anything else is refused. The same photo posted twice is one file (a double submit, or the
/// same picture in two reports). A file is written to a temporary name, fsynced and renamed, so a
/// crash never leaves a half photo under a digest name.

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "gridhub/common/result.hpp"

namespace gridhub::webform {

/// "jpg", "png", "webp", "heic" for an accepted image type; empty otherwise.
std::string_view sniff_image(std::string_view bytes);

/// Lower-case hex SHA-256 of `bytes` (OpenSSL).
std::string sha256_hex(std::string_view bytes);

struct StoredPhoto {
  std::string digest;      // hex SHA-256
  std::string file_name;   // digest + "." + extension
  bool created = false;    // false: the same bytes were already stored
};

class PhotoStore {
 public:
  /// Creates `dir` if needed (fails fast at start-up if it cannot).
  static Result<PhotoStore> open(std::filesystem::path dir);

  /// Stores an already sniffed photo (`extension` from sniff_image).
  Result<StoredPhoto> store(std::string_view bytes, std::string_view extension) const;

  const std::filesystem::path& dir() const { return dir_; }

 private:
  explicit PhotoStore(std::filesystem::path dir) : dir_(std::move(dir)) {}
  std::filesystem::path dir_;
};

}  // namespace gridhub::webform
