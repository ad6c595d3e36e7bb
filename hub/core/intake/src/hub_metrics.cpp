#include "gridhub/core/hub_metrics.hpp"

#include <string_view>

#include "gridhub/v1/common.pb.h"
#include "gridhub/v1/ticket.pb.h"

namespace gridhub::core {

namespace {

std::string enum_label(const std::string& name, std::string_view prefix) {
  std::string out = name.starts_with(prefix) ? name.substr(prefix.size()) : name;
  for (char& c : out) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  return out.empty() ? std::string("unknown") : out;
}

}  // namespace

std::string channel_label(int channel) {
  return v1::Channel_IsValid(channel) ? enum_label(v1::Channel_Name(static_cast<v1::Channel>(channel)), "CHANNEL_")
                                      : std::string("unknown");
}

std::string tier_label(int tier) {
  return v1::Tier_IsValid(tier) ? enum_label(v1::Tier_Name(static_cast<v1::Tier>(tier)), "TIER_") : std::string("unknown");
}

}  // namespace gridhub::core
