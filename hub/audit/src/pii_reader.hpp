#pragma once
// Private: how the auditor's outputs show personal data. Sealed values (gridhub/log/pii_vault.hpp)
// are opened with the key in the log's `pii_keys` table, or shown as "[erased]" when the key was
// destroyed; then masked (gridhub::core::mask_value) unless the caller asked for personal data.

#include <optional>
#include <string>

#include "gridhub/core/pii.hpp"
#include "gridhub/log/pii_vault.hpp"
#include "gridhub/sqlite/sqlite.hpp"
#include "key_cursor.hpp"
#include "proto_json.hpp"

namespace gridhub::audit::detail {

class PiiReader final : public PiiFilter {
 public:
  /// Keys read through `db` (read-only is enough); a log without the key table has no sealed values.
  /// `open_to_mask` false: without show_pii a sealed value is shown as "[sealed]" (or "[erased]" when
  /// its key is gone) instead of being opened only to be masked — bulk replay's choice (docs/audit.md).
  PiiReader(sqlite::Database& db, bool show_pii, bool open_to_mask = true)
      : show_pii_(show_pii), open_to_mask_(open_to_mask), keys_(db) {}

  std::string_view show(std::string_view stored, const std::string& field, std::string& scratch) override {
    switch (log::pii_value_state(stored)) {
      case log::PiiValueState::kErased:
        return log::kErasedText;
      case log::PiiValueState::kSealed: {
        std::optional<std::string> plain;
        if (!show_pii_ && !open_to_mask_) return find_key(log::sealed_key_id(stored)) ? kSealedText : log::kErasedText;
        if (const log::PiiKey* key = find_key(log::sealed_key_id(stored))) plain = log::open_sealed(stored, field, *key);
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
  const log::PiiKey* find_key(std::string_view key_id) { return keys_.find(key_id); }

  static constexpr std::string_view kSealedText = "[sealed]";
  bool show_pii_;
  bool open_to_mask_;
  KeyCursor keys_;
};

}  // namespace gridhub::audit::detail
