#include "gridhub/common/error.hpp"

namespace gridhub {
namespace {

class GridhubCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "gridhub"; }
  std::string message(int ev) const override {
    switch (static_cast<Errc>(ev)) {
      case Errc::ok: return "ok";
      case Errc::malformed_frame: return "malformed frame";
      case Errc::too_large: return "too large";
      case Errc::invalid_event: return "invalid event";
      case Errc::unavailable: return "unavailable";
      case Errc::storage_failed: return "storage failed";
      case Errc::config_invalid: return "invalid configuration";
      case Errc::decode_failed: return "cannot decode text";
      case Errc::missing_field: return "missing field";
      case Errc::bad_value: return "bad value";
      case Errc::io_failed: return "I/O failed";
    }
    return "unknown gridhub error";
  }
};

}  // namespace

const std::error_category& gridhub_category() noexcept {
  static const GridhubCategory category;
  return category;
}

std::string_view errc_name(Errc e) noexcept {
  switch (e) {
    case Errc::ok: return "ok";
    case Errc::malformed_frame: return "malformed_frame";
    case Errc::too_large: return "too_large";
    case Errc::invalid_event: return "invalid_event";
    case Errc::unavailable: return "unavailable";
    case Errc::storage_failed: return "storage_failed";
    case Errc::config_invalid: return "config_invalid";
    case Errc::decode_failed: return "decode_failed";
    case Errc::missing_field: return "missing_field";
    case Errc::bad_value: return "bad_value";
    case Errc::io_failed: return "io_failed";
  }
  return "unknown";
}

}  // namespace gridhub
