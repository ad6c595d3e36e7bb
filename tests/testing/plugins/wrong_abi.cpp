// A plugin built against a future ABI: the hub must refuse it before calling anything in it.
#include "gridhub/plugin/api.hpp"

namespace {
const gridhub::plugin::Descriptor kDescriptor{
    gridhub::plugin::kAbiVersion + 1, sizeof(gridhub::plugin::Descriptor), "wrong_abi",
    gridhub::plugin::Kind::kRouter, "9.9", nullptr, nullptr};
const gridhub::plugin::Descriptor* descriptor() noexcept { return &kDescriptor; }
}  // namespace

GRIDHUB_PLUGIN_MODULE(descriptor)
