#pragma once
/// Crypto-shredding of personal data (docs/audit.md, "Erasure").
///
/// Every field marked `(gridhub.v1.pii)` in the schemas is stored sealed: XChaCha20-Poly1305 (libsodium)
/// under a per-ticket key kept in the log database's `pii_keys` table, apart from the chained records.
/// Erasing a ticket's personal data destroys its key; the sealed bytes stay in the log, so the hash
/// chain (which covers them) still verifies, but nobody can read them again.
///
/// A sealed value is self-describing text, so readers tell plain, sealed and erased apart:
///
///   sealed:v1:<key id>:<base64 (standard, padded) of nonce[24] || ciphertext || tag[16]>
///
/// The key id is the ticket id (a report merged into an incident is sealed under the incident's key;
/// a record that made no ticket gets its own id, `R` + 8-digit seq). The AEAD's associated data is
/// "<key id>\0<field full name>", so a sealed value cannot be moved to another field or ticket unnoticed.
/// A value that cannot be unsealed (its key destroyed, or the wrong key) reads as "[erased]", never as
/// garbage.

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include <google/protobuf/message.h>

#include "gridhub/common/result.hpp"

struct sqlite3;

namespace gridhub::log {

inline constexpr std::string_view kSealedPrefix = "sealed:v1:";
inline constexpr std::string_view kErasedText = "[erased]";

using PiiKey = std::array<unsigned char, 32>;

/// The key id for a record that created no ticket.
std::string record_key_id(std::uint64_t seq);
/// The key that seals a dead letter's payload: one per source record (channel, source_key), so that
/// erasing the ticket that record became destroys it too; a row without a source key gets its own.
std::string dead_letter_key_id(int channel, std::string_view source_key, std::int64_t recorded_at);
/// A fresh random key (the sequencer makes it; storage keeps it with the record that uses it).
PiiKey make_pii_key();

enum class PiiValueState { kPlain, kSealed, kErased };
/// kSealed: has the sealed prefix; kErased: is "[erased]"; anything else is plain.
PiiValueState pii_value_state(std::string_view value) noexcept;

/// The `pii_keys` table on the caller's connection, inside whatever transaction the caller has open:
/// keys are created and destroyed atomically with the records that use or erase them. The table is
/// created by the log's schema (open_event_log); the store only prepares statements. The writer's
/// connection runs with `PRAGMA secure_delete=ON`, so a destroyed key is overwritten, not left in a
/// free page. Not thread-safe; `db` must outlive the store.
class PiiKeyStore {
 public:
  /// Prepares the statements; a read-only connection can load but not create or destroy.
  static Result<PiiKeyStore> open(sqlite3* db);

  PiiKeyStore(PiiKeyStore&&) noexcept;
  PiiKeyStore& operator=(PiiKeyStore&&) noexcept;
  ~PiiKeyStore();

  /// The key, or nullopt when there is none (never made, or destroyed). Remembers recent answers.
  Result<std::optional<PiiKey>> load(std::string_view key_id);
  /// A fresh random key stored under `key_id`, replacing any (a destroyed id used again gets a new
  /// key: what the old one sealed stays unreadable).
  Result<PiiKey> create(std::string_view key_id);
  /// Stores `key` under `key_id`, replacing any (a key made by make_pii_key).
  Status put(std::string_view key_id, const PiiKey& key);
  /// Deletes the key; false if there was none.
  Result<bool> destroy(std::string_view key_id);
  /// Forgets remembered answers (after a rolled-back transaction).
  void clear_cache();

 private:
  struct Impl;
  explicit PiiKeyStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

/// Whether `msg` holds a plain, non-empty pii value (recursively): what seal_pii would seal. A record
/// without one needs no key and no sealing. (Non-const only because the walk is shared with sealing;
/// nothing is changed.)
bool has_plain_pii(google::protobuf::Message& msg);

/// Seals every plain, non-empty pii field of `msg` (recursively) under `key`. Sealed and erased values
/// are left alone, so sealing twice is harmless. False only if libsodium fails.
bool seal_pii(google::protobuf::Message& msg, std::string_view key_id, const PiiKey& key);

/// How personal values are shown to a reader once opened.
struct PiiPresentation {
  /// Raw bytes fields (e.g. a source's original payload) are cleared, without being opened.
  bool drop_bytes = false;
  /// Applied to every string value, plain or opened (e.g. masking: 138****0001); null shows it as is.
  std::string (*transform)(const std::string&) = nullptr;
};

/// Opens every sealed pii field of `msg` in place: the plaintext when its key is in `keys`, "[erased]"
/// otherwise (key destroyed, wrong key, damaged value), then presents it as `how` says. Plain values
/// are only presented. An error only when the key table cannot be read.
Status unseal_pii(google::protobuf::Message& msg, PiiKeyStore& keys, const PiiPresentation& how = {});

/// unseal_pii on an encoded message of type `type`, appending the encoding of the result to `out`:
/// the same bytes as parsing, unsealing and serializing a canonical encoding, at a fraction of the cost
/// (only the fields on a path to a personal value are looked at; the rest is copied). An error when
/// the key table cannot be read or `in` is not a well-formed message; `out` is then as it was.
Status unseal_pii_encoded(const google::protobuf::Descriptor* type, std::string_view in, PiiKeyStore& keys,
                          const PiiPresentation& how, std::string& out);

/// Presents every pii value of `msg` as `how` says without opening anything: sealed values reach the
/// transform as they are.
void present_pii(google::protobuf::Message& msg, const PiiPresentation& how);

/// One sealed value opened with `key`; nullopt when it does not open (wrong key or field, damaged).
std::optional<std::string> open_sealed(std::string_view sealed, std::string_view field_full_name, const PiiKey& key);
/// The key id inside a sealed value ("" if it is not one).
std::string_view sealed_key_id(std::string_view sealed) noexcept;

/// Clears every pii field of `msg` (recursively): what a ticket keeps after erasure.
void clear_pii(google::protobuf::Message& msg);

}  // namespace gridhub::log
