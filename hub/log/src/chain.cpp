#include "gridhub/log/chain.hpp"

#include <cstring>

namespace gridhub::log {
namespace {

void put_be64(unsigned char* p, std::uint64_t v) {
  for (int i = 7; i >= 0; --i) {
    p[i] = static_cast<unsigned char>(v & 0xff);
    v >>= 8;
  }
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

ChainHasher::ChainHasher() {
  // Fetched once: EVP_sha256() per call would look the implementation up every time.
  md_ = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  ctx_ = EVP_MD_CTX_new();
}

ChainHasher::~ChainHasher() {
  EVP_MD_CTX_free(ctx_);
  EVP_MD_free(md_);
}

bool ChainHasher::next(const ChainHash& prev, std::uint64_t seq, std::int64_t recorded_at, std::string_view body,
                       ChainHash& out) noexcept {
  if (md_ == nullptr || ctx_ == nullptr) return false;
  unsigned char fixed[16];
  put_be64(fixed, seq);
  put_be64(fixed + 8, static_cast<std::uint64_t>(recorded_at));   // two's complement, as i64be
  unsigned int len = 0;
  return EVP_DigestInit_ex2(ctx_, md_, nullptr) == 1 && EVP_DigestUpdate(ctx_, prev.data(), prev.size()) == 1 &&
         EVP_DigestUpdate(ctx_, fixed, sizeof fixed) == 1 && EVP_DigestUpdate(ctx_, body.data(), body.size()) == 1 &&
         EVP_DigestFinal_ex(ctx_, out.data(), &len) == 1 && len == out.size();
}

std::string to_hex(const ChainHash& h) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s(h.size() * 2, '0');
  for (std::size_t i = 0; i < h.size(); ++i) {
    s[2 * i] = kDigits[h[i] >> 4];
    s[2 * i + 1] = kDigits[h[i] & 0xf];
  }
  return s;
}

std::optional<ChainHash> chain_hash_from_hex(std::string_view hex) {
  ChainHash h{};
  if (hex.size() != h.size() * 2) return std::nullopt;
  for (std::size_t i = 0; i < h.size(); ++i) {
    const int hi = hex_value(hex[2 * i]);
    const int lo = hex_value(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    h[i] = static_cast<unsigned char>(hi << 4 | lo);
  }
  return h;
}

std::optional<ChainHash> chain_hash_from_blob(std::string_view blob) {
  ChainHash h{};
  if (blob.size() != h.size()) return std::nullopt;
  std::memcpy(h.data(), blob.data(), h.size());
  return h;
}

}  // namespace gridhub::log
