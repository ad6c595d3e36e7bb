#pragma once
// A negative-lookup filter for intake source keys: the writer's find_intake answers "new" for a
// (channel, source_key) it has never stored without descending the log's unique index.
//
// It holds a 64-bit fingerprint of every (channel, source_key) the log stores, loaded at open from the
// index and added to as records are stored. Absent fingerprint: the key was never stored (exact, since
// every stored key's fingerprint is in the set). Present: maybe — a fingerprint is not the key, so the
// caller confirms with the lookup. A fingerprint left behind by a rolled-back transaction is only such
// a "maybe". Dedup therefore answers exactly as without the filter.
//
// Memory: an open-addressing table of 8-byte slots, at most 3/4 full and doubled when it would be
// fuller: 10.7 to 21.3 bytes per stored key. One million intake records take 2^21 slots, 16 MiB.

#include <cstdint>
#include <string_view>
#include <vector>

namespace gridhub::log::detail {

class IntakeKeyFilter {
 public:
  using Fingerprint = std::uint64_t (*)(int channel, std::string_view source_key);
  /// The fingerprint the log uses: a 64-bit hash of the channel and the key's bytes.
  static std::uint64_t fingerprint(int channel, std::string_view source_key) noexcept;

  /// `fp`: how keys are fingerprinted (tests force collisions); null: fingerprint().
  explicit IntakeKeyFilter(Fingerprint fp = nullptr) : fp_(fp != nullptr ? fp : &fingerprint) {}

  void add(int channel, std::string_view source_key) { add_fingerprint(fp_(channel, source_key)); }
  /// False: (channel, source_key) was never added. True: it may have been.
  bool may_contain(int channel, std::string_view source_key) const noexcept;

  std::size_t size() const noexcept { return size_; }
  std::size_t memory_bytes() const noexcept { return slots_.capacity() * sizeof(std::uint64_t); }

 private:
  void add_fingerprint(std::uint64_t f);
  void grow();
  static std::uint64_t non_zero(std::uint64_t f) noexcept { return f == 0 ? 1 : f; }   // 0 marks an empty slot

  Fingerprint fp_;
  std::vector<std::uint64_t> slots_;   // a power of two in size (or empty)
  std::size_t size_ = 0;
};

}  // namespace gridhub::log::detail
