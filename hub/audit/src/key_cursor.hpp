#pragma once
// Private: the log's personal-data keys (`pii_keys`, gridhub/log/pii_vault.hpp) for a reader that goes
// through the log, or the tickets, in order. Key ids are ticket ids, `T` + the seq of the ticket's first
// record, so the key asked for next is almost always the one at, or a few rows after, where the last
// answer was found: one cursor stepped forward along the table answers those, without a lookup or a
// cache entry per ticket. An id behind the cursor (a change to an older ticket, a record's own `R` key)
// or far ahead of it is looked up by itself. Memory is one key, whatever the log's size.

#include <cstring>
#include <string>
#include <string_view>

#include <sodium.h>

#include "gridhub/log/pii_vault.hpp"
#include "gridhub/sqlite/sqlite.hpp"

namespace gridhub::audit::detail {

class KeyCursor {
 public:
  /// Statements on `db` (read-only is enough), which must outlive the cursor. A log without the key
  /// table has no keys: every sealed value then reads as erased.
  explicit KeyCursor(sqlite::Database& db) {
    if (sodium_init() < 0) return;   // open_sealed needs libsodium ready; without it nothing opens
    auto scan = db.prepare("SELECT key_id, key FROM pii_keys WHERE key_id >= ? ORDER BY key_id");
    auto point = db.prepare("SELECT key FROM pii_keys WHERE key_id = ?");
    if (!scan || !point) return;
    scan_ = std::move(scan.value());
    point_ = std::move(point.value());
  }
  KeyCursor(const KeyCursor&) = delete;
  KeyCursor& operator=(const KeyCursor&) = delete;
  ~KeyCursor() { sodium_memzero(key_.data(), key_.size()); sodium_memzero(row_key_.data(), row_key_.size()); }

  /// The key stored under `key_id`; nullptr when there is none (never made, destroyed, or the table
  /// cannot be read). Valid until the next call.
  const log::PiiKey* find(std::string_view key_id) {
    if (scan_.is_null()) return nullptr;
    if (has_answer_ && key_id == answer_id_) return found_ ? &key_ : nullptr;   // the record's other fields
    answer_id_.assign(key_id);
    has_answer_ = true;
    found_ = false;
    if (!on_row_) {
      if (!seek(key_id)) return nullptr;   // no id at or after it
    } else if (key_id < row_id_) {
      return point(key_id);   // behind: looked up alone, so the cursor stays where the log's new tickets are
    }
    for (int steps = 0; row_id_ < key_id; ++steps) {
      if (steps == kMaxSteps) {
        if (!seek(key_id)) return nullptr;
        break;
      }
      if (!next()) return nullptr;
    }
    if (row_id_ != key_id) return nullptr;   // between two stored ids: none
    return take(row_key_, row_key_size_);
  }

 private:
  // A gap this wide in the ids is cheaper to cross with a new seek than row by row.
  static constexpr int kMaxSteps = 32;

  /// Positions the cursor at the first id >= key_id; false (and no cursor) at the table's end or on error.
  bool seek(std::string_view key_id) {
    scan_.reset();
    scan_.bind(1, key_id);
    return next();
  }
  bool next() {
    auto row = scan_.step();
    on_row_ = row.ok() && row.value();
    if (!on_row_) {
      scan_.reset();
      return false;
    }
    row_id_.assign(scan_.column_text(0));
    const auto key = scan_.column_blob(1);
    row_key_size_ = key.size();
    if (key.size() == row_key_.size()) std::memcpy(row_key_.data(), key.data(), key.size());
    return true;
  }
  const log::PiiKey* point(std::string_view key_id) {
    point_.reset();
    point_.bind(1, key_id);
    auto row = point_.step();
    const log::PiiKey* key = nullptr;
    if (row.ok() && row.value()) {
      const auto blob = point_.column_blob(0);
      log::PiiKey k{};
      if (blob.size() == k.size()) std::memcpy(k.data(), blob.data(), blob.size());
      key = take(k, blob.size());
      sodium_memzero(k.data(), k.size());
    }
    point_.reset();
    return key;
  }
  /// The answer: a stored key of any other size is no key (as PiiKeyStore reads it).
  const log::PiiKey* take(const log::PiiKey& key, std::size_t size) {
    found_ = size == key_.size();
    if (found_) key_ = key;
    return found_ ? &key_ : nullptr;
  }

  sqlite::Statement scan_ = sqlite::Statement::null();
  sqlite::Statement point_ = sqlite::Statement::null();
  bool on_row_ = false;            // scan_ is on a row: row_id_, row_key_
  std::string row_id_;
  log::PiiKey row_key_{};
  std::size_t row_key_size_ = 0;
  bool has_answer_ = false;        // the last answer, for the same id asked again
  bool found_ = false;
  std::string answer_id_;
  log::PiiKey key_{};
};

}  // namespace gridhub::audit::detail
