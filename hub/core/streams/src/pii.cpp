#include "gridhub/core/pii.hpp"

#include "gridhub/log/pii_vault.hpp"
#include "gridhub/v1/common.pb.h"

namespace gridhub::core {

namespace {

std::size_t utf8_chars(const std::string& s) {
  std::size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

}  // namespace

std::string mask_value(const std::string& value) {
  // Nothing personal left to hide: erased (gridhub/log/pii_vault.hpp), or sealed and shown as such
  // (the ciphertext means nothing to a reader; one without the keys sees "[sealed]").
  if (value.empty() || log::pii_value_state(value) == log::PiiValueState::kErased) return value;
  if (log::pii_value_state(value) == log::PiiValueState::kSealed) return "[sealed]";
  const bool digits = value.find_first_not_of("0123456789+-* ") == std::string::npos;
  if (digits && value.size() >= 7) {
    // At least four digits hidden whatever the length: 13800000001 -> 138****0001, 6543210 -> 6****10.
    const std::size_t shown = value.size() - 4;
    const std::size_t prefix = std::min<std::size_t>(3, shown / 2);
    const std::size_t suffix = std::min<std::size_t>(4, shown - prefix);
    return value.substr(0, prefix) + std::string(value.size() - prefix - suffix, '*') + value.substr(value.size() - suffix);
  }
  if (!digits) {
    // Keep the first character (surname), mask the rest.
    std::size_t first = 1;
    while (first < value.size() && (static_cast<unsigned char>(value[first]) & 0xC0) == 0x80) ++first;
    const std::size_t rest = utf8_chars(value) - 1;
    return value.substr(0, first) + std::string(std::max<std::size_t>(rest, 1), '*');
  }
  return "**";
}

void mask_pii(google::protobuf::Message& msg) { log::present_pii(msg, kMasked); }

}  // namespace gridhub::core
