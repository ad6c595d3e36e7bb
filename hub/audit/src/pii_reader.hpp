#pragma once
// Private: how the auditor's outputs show personal data. Sealed values (gridhub/log/pii_vault.hpp)
// are opened with the key in the log's `pii_keys` table, or shown as "[erased]" when the key was
// destroyed; then masked (gridhub::core::mask_value) unless the caller asked for personal data.

#include <optional>
#include <string>

#include "gridhub/core/pii.hpp"
#include "gridhub/log/pii_vault.hpp"
#include "gridhub/sqlite/sqlite.hpp"
#include "proto_json.hpp"

namespace gridhub::audit::detail {

class PiiReader final : public PiiFilter {
 public:
  /// Keys read through `db` (read-only is enough); a log without the key table has no sealed values.
  PiiReader(sqlite::Database& db, bool show_pii) : show_pii_(show_pii) {
    auto keys = log::PiiKeyStore::open(db.handle());
    if (keys) keys_.emplace(std::move(keys.value()));
  }

  std::string_view show(std::string_view stored, const std::string& field, std::string& scratch) override {
    switch (log::pii_value_state(stored)) {
      case log::PiiValueState::kErased:
        return log::kErasedText;
      case log::PiiValueState::kSealed: {
        std::optional<std::string> plain;
        if (keys_) {
          auto key = keys_->load(log::sealed_key_id(stored));
          if (key && key->has_value()) plain = log::open_sealed(stored, field, **key);
        }
        if (!plain) return log::kErasedText;
        scratch = show_pii_ ? std::move(*plain) : core::mask_value(*plain);
        return scratch;
      }
      case log::PiiValueState::kPlain:
        break;
    }
    if (show_pii_) return stored;
    scratch = core::mask_value(std::string(stored));
    return scratch;
  }

 private:
  bool show_pii_;
  std::optional<log::PiiKeyStore> keys_;
};

}  // namespace gridhub::audit::detail
