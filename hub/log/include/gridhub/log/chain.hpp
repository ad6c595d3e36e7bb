#pragma once
/// The log's hash chain (docs/log-format.md, "Hash chain"):
///
///   hash_0 = 32 zero bytes
///   hash_n = SHA-256(hash_{n-1} || u64be(seq_n) || i64be(recorded_at_n) || body_n)
///
/// `body` is the stored `log.body` blob, byte for byte. The writer computes hash_n in the transaction
/// that inserts record n; auditors (gridhub::audit) recompute it from genesis.

#include <openssl/evp.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace gridhub::log {

using ChainHash = std::array<unsigned char, 32>;

/// hash_0.
inline constexpr ChainHash kChainGenesis{};

/// Computes chain links with one reusable OpenSSL digest context: no allocation per record.
/// Not thread-safe; one per thread.
class ChainHasher {
 public:
  ChainHasher();
  ~ChainHasher();
  ChainHasher(const ChainHasher&) = delete;
  ChainHasher& operator=(const ChainHasher&) = delete;

  /// Writes hash_n into `out`; false only if OpenSSL fails (out of memory), leaving `out` unspecified.
  bool next(const ChainHash& prev, std::uint64_t seq, std::int64_t recorded_at, std::string_view body,
            ChainHash& out) noexcept;

 private:
  EVP_MD* md_ = nullptr;
  EVP_MD_CTX* ctx_ = nullptr;
};

/// Lower-case hex, 64 characters.
std::string to_hex(const ChainHash& h);
/// Parses exactly 64 hex digits.
std::optional<ChainHash> chain_hash_from_hex(std::string_view hex);
/// A 32-byte blob as a ChainHash; nullopt for any other size.
std::optional<ChainHash> chain_hash_from_blob(std::string_view blob);

}  // namespace gridhub::log
