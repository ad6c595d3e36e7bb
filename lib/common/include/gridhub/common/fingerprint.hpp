#pragma once
/// A stable 64-bit content fingerprint (FNV-1a) for labelling reference-data and model versions.
/// Not a security hash: the tamper-evident log uses SHA-256.

#include <cstdint>
#include <string>
#include <string_view>

#include <fmt/format.h>

namespace gridhub {

inline std::uint64_t fnv1a64(std::string_view bytes, std::uint64_t h = 0xcbf29ce484222325ULL) noexcept {
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h;
}

/// splitmix64's finalizer: spreads a hash's bits (FNV's weak high bits, a short key's few bits) over all
/// 64, for hash tables and feature ids.
inline std::uint64_t mix64(std::uint64_t x) noexcept {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

/// "name:0123456789abcdef"
inline std::string fingerprint(std::string_view name, std::string_view bytes) {
  return fmt::format("{}:{:016x}", name, fnv1a64(bytes));
}

}  // namespace gridhub
