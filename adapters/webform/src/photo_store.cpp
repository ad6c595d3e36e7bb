#include "gridhub/webform/photo_store.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>
#include <openssl/evp.h>

namespace gridhub::webform {

std::string_view sniff_image(std::string_view b) {
  if (b.size() >= 3 && b.substr(0, 3) == "\xFF\xD8\xFF") return "jpg";
  if (b.size() >= 8 && b.substr(0, 8) == std::string_view("\x89PNG\r\n\x1A\n", 8)) return "png";
  if (b.size() >= 12 && b.substr(0, 4) == "RIFF" && b.substr(8, 4) == "WEBP") return "webp";
  if (b.size() >= 16 && b.substr(4, 4) == "ftyp") {
    // ISO-BMFF: size(4) "ftyp" major_brand(4) minor_version(4) compatible_brands(4*n)
    const auto u = [&](std::size_t i) { return static_cast<std::uint32_t>(static_cast<unsigned char>(b[i])); };
    const std::uint32_t box = (u(0) << 24) | (u(1) << 16) | (u(2) << 8) | u(3);
    const std::size_t end = std::min<std::size_t>(b.size(), box < 16 ? 16 : box);
    for (std::size_t i = 8; i + 4 <= end; i += 4) {
      if (i == 12) continue;   // minor_version, not a brand
      const std::string_view brand = b.substr(i, 4);
      for (const char* heif : {"heic", "heix", "hevc", "heim", "heis", "hevm", "hevs", "mif1", "msf1"}) {
        if (brand == heif) return "heic";
      }
    }
  }
  return {};
}

std::string sha256_hex(std::string_view bytes) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_Digest(bytes.data(), bytes.size(), md, &n, EVP_sha256(), nullptr);
  std::string out;
  out.reserve(n * 2);
  for (unsigned int i = 0; i < n; ++i) out += fmt::format("{:02x}", md[i]);
  return out;
}

Result<PhotoStore> PhotoStore::open(std::filesystem::path dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Error(Errc::io_failed, fmt::format("photo directory {}: {}", dir.string(), ec.message()));
  if (::access(dir.c_str(), W_OK) != 0) {
    return Error(Errc::io_failed, fmt::format("photo directory {}: not writable: {}", dir.string(), std::strerror(errno)));
  }
  return PhotoStore(std::move(dir));
}

Result<StoredPhoto> PhotoStore::store(std::string_view bytes, std::string_view extension) const {
  StoredPhoto out;
  out.digest = sha256_hex(bytes);
  out.file_name = fmt::format("{}.{}", out.digest, extension);
  const std::filesystem::path final_path = dir_ / out.file_name;
  std::error_code ec;
  if (std::filesystem::exists(final_path, ec)) return out;   // content-addressed: same bytes, same file

  static std::atomic<unsigned> counter{0};
  const std::filesystem::path tmp = dir_ / fmt::format(".{}.{}.{}.tmp", out.digest, ::getpid(), counter++);
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return Error(Errc::io_failed, fmt::format("photo {}: {}", tmp.string(), std::strerror(errno)));
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t w = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      const int e = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      return Error(Errc::io_failed, fmt::format("photo {}: write: {}", tmp.string(), std::strerror(e)));
    }
    done += static_cast<std::size_t>(w);
  }
  // The event that names this photo is committed after us: the photo must be durable first.
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    const int e = errno;
    ::unlink(tmp.c_str());
    return Error(Errc::io_failed, fmt::format("photo {}: fsync: {}", tmp.string(), std::strerror(e)));
  }
  if (::rename(tmp.c_str(), final_path.c_str()) != 0) {
    const int e = errno;
    ::unlink(tmp.c_str());
    return Error(Errc::io_failed, fmt::format("photo {}: rename: {}", final_path.string(), std::strerror(e)));
  }
  out.created = true;
  return out;
}

}  // namespace gridhub::webform
