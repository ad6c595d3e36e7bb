#include "intake_key_filter.hpp"

#include <functional>

namespace gridhub::log::detail {

namespace {

// splitmix64's finalizer: spreads the string hash and the channel over all 64 bits.
std::uint64_t mix(std::uint64_t x) noexcept {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

}  // namespace

std::uint64_t IntakeKeyFilter::fingerprint(int channel, std::string_view source_key) noexcept {
  const std::uint64_t h = std::hash<std::string_view>{}(source_key);
  return mix(h ^ mix(static_cast<std::uint64_t>(static_cast<std::uint32_t>(channel)) + 0x9e3779b97f4a7c15ULL));
}

bool IntakeKeyFilter::may_contain(int channel, std::string_view source_key) const noexcept {
  if (slots_.empty()) return false;
  const std::uint64_t f = non_zero(fp_(channel, source_key));
  const std::size_t mask = slots_.size() - 1;
  // Slots are chosen by the fingerprint's mixed bits, so a fingerprint made of few bits (a test's)
  // still spreads; the table is never full, so the probe ends at an empty slot.
  for (std::size_t i = mix(f) & mask;; i = (i + 1) & mask) {
    if (slots_[i] == f) return true;
    if (slots_[i] == 0) return false;
  }
}

void IntakeKeyFilter::add_fingerprint(std::uint64_t f) {
  f = non_zero(f);
  if ((size_ + 1) * 4 > slots_.size() * 3) grow();
  const std::size_t mask = slots_.size() - 1;
  for (std::size_t i = mix(f) & mask;; i = (i + 1) & mask) {
    if (slots_[i] == f) return;   // already there (a key stored again after a rollback, or a collision)
    if (slots_[i] == 0) {
      slots_[i] = f;
      ++size_;
      return;
    }
  }
}

void IntakeKeyFilter::grow() {
  std::vector<std::uint64_t> old(slots_.empty() ? 1024 : slots_.size() * 2, 0);
  old.swap(slots_);
  size_ = 0;
  for (const std::uint64_t f : old) {
    if (f != 0) add_fingerprint(f);
  }
}

}  // namespace gridhub::log::detail
