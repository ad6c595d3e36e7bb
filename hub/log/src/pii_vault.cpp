#include "gridhub/log/pii_vault.hpp"

#include <sodium.h>

#include <cstring>
#include <unordered_map>

#include <fmt/format.h>

#include "gridhub/v1/common.pb.h"

namespace gridhub::log {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

constexpr std::size_t kNonce = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
constexpr std::size_t kTag = crypto_aead_xchacha20poly1305_ietf_ABYTES;
constexpr int kBase64 = sodium_base64_VARIANT_ORIGINAL;

/// Whether a message type holds a pii field anywhere below it. Memoized per thread: the writer seals
/// every intake record, and most of a record (locations, provenance, decisions, timestamps) has none,
/// so the walk skips those submessages without touching their fields.
bool has_pii(const google::protobuf::Descriptor* desc) {
  thread_local std::unordered_map<const google::protobuf::Descriptor*, bool> known;
  if (auto it = known.find(desc); it != known.end()) return it->second;
  known[desc] = false;   // a recursive type reaches itself: counts as none until proven otherwise
  bool any = false;
  for (int i = 0; i < desc->field_count() && !any; ++i) {
    const FieldDescriptor* f = desc->field(i);
    if (f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
      any = has_pii(f->message_type());
    } else {
      any = f->cpp_type() == FieldDescriptor::CPPTYPE_STRING && f->options().GetExtension(gridhub::v1::pii);
    }
  }
  known[desc] = any;
  return any;
}

/// Calls fn(msg, reflection, field, index) for every value of every pii string/bytes field; index -1
/// for a singular field. Unset singular fields are skipped.
template <class Fn>
void for_each_pii(Message& msg, Fn&& fn) {
  const auto* desc = msg.GetDescriptor();
  const Reflection* refl = msg.GetReflection();
  for (int i = 0; i < desc->field_count(); ++i) {
    const FieldDescriptor* f = desc->field(i);
    if (f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
      if (!has_pii(f->message_type())) continue;
      if (f->is_repeated()) {
        for (int j = 0; j < refl->FieldSize(msg, f); ++j) for_each_pii(*refl->MutableRepeatedMessage(&msg, f, j), fn);
      } else if (refl->HasField(msg, f)) {
        for_each_pii(*refl->MutableMessage(&msg, f), fn);
      }
      continue;
    }
    if (f->cpp_type() != FieldDescriptor::CPPTYPE_STRING || !f->options().GetExtension(gridhub::v1::pii)) continue;
    if (f->is_repeated()) {
      for (int j = 0; j < refl->FieldSize(msg, f); ++j) fn(msg, refl, f, j);
    } else if (refl->HasField(msg, f)) {
      fn(msg, refl, f, -1);
    }
  }
}

std::string get(const Message& m, const Reflection* r, const FieldDescriptor* f, int index) {
  return index < 0 ? r->GetString(m, f) : r->GetRepeatedString(m, f, index);
}

void set(Message& m, const Reflection* r, const FieldDescriptor* f, int index, std::string v) {
  if (index < 0) {
    r->SetString(&m, f, std::move(v));
  } else {
    r->SetRepeatedString(&m, f, index, std::move(v));
  }
}

std::string associated_data(std::string_view key_id, std::string_view field) {
  std::string ad(key_id);
  ad += '\0';
  ad += field;
  return ad;
}

Error sqlite_error(sqlite3* db, std::string_view what) {
  return Error(Errc::storage_failed, fmt::format("pii_keys: {}: {}", what, sqlite3_errmsg(db)));
}

}  // namespace

std::string record_key_id(std::uint64_t seq) { return fmt::format("R{:08d}", seq); }

PiiValueState pii_value_state(std::string_view value) noexcept {
  if (value.starts_with(kSealedPrefix)) return PiiValueState::kSealed;
  if (value == kErasedText) return PiiValueState::kErased;
  return PiiValueState::kPlain;
}

std::string_view sealed_key_id(std::string_view sealed) noexcept {
  if (!sealed.starts_with(kSealedPrefix)) return {};
  sealed.remove_prefix(kSealedPrefix.size());
  const auto colon = sealed.find(':');
  return colon == std::string_view::npos ? std::string_view{} : sealed.substr(0, colon);
}

std::optional<std::string> open_sealed(std::string_view sealed, std::string_view field_full_name, const PiiKey& key) {
  const std::string_view key_id = sealed_key_id(sealed);
  if (key_id.empty()) return std::nullopt;
  const std::string_view b64 = sealed.substr(kSealedPrefix.size() + key_id.size() + 1);
  std::string raw(b64.size() / 4 * 3 + 3, '\0');
  std::size_t raw_len = 0;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(raw.data()), raw.size(), b64.data(), b64.size(), nullptr, &raw_len,
                        nullptr, kBase64) != 0 ||
      raw_len < kNonce + kTag) {
    return std::nullopt;
  }
  const std::string ad = associated_data(key_id, field_full_name);
  std::string plain(raw_len - kNonce - kTag, '\0');
  unsigned long long plain_len = 0;
  const auto* nonce = reinterpret_cast<const unsigned char*>(raw.data());
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(reinterpret_cast<unsigned char*>(plain.data()), &plain_len, nullptr,
                                                 nonce + kNonce, raw_len - kNonce,
                                                 reinterpret_cast<const unsigned char*>(ad.data()), ad.size(), nonce,
                                                 key.data()) != 0) {
    return std::nullopt;
  }
  plain.resize(plain_len);
  return plain;
}

bool seal_pii(Message& msg, std::string_view key_id, const PiiKey& key) {
  bool ok = true;
  std::string raw;
  // One random 192-bit nonce base per call, the value's index folded into its last bytes: nonces stay
  // unique with overwhelming probability, for one getrandom per record instead of one per field.
  unsigned char nonce_base[kNonce];
  randombytes_buf(nonce_base, kNonce);
  std::uint64_t counter = 0;
  for_each_pii(msg, [&](Message& m, const Reflection* r, const FieldDescriptor* f, int index) {
    std::string scratch;
    const std::string& v = index < 0 ? r->GetStringReference(m, f, &scratch) : r->GetRepeatedStringReference(m, f, index, &scratch);
    if (v.empty() || pii_value_state(v) != PiiValueState::kPlain) return;
    const std::string ad = associated_data(key_id, f->full_name());
    raw.resize(kNonce + v.size() + kTag);
    auto* nonce = reinterpret_cast<unsigned char*>(raw.data());
    std::memcpy(nonce, nonce_base, kNonce);   // random per call: no counter to keep across restarts
    ++counter;
    for (int b = 0; b < 8; ++b) nonce[kNonce - 1 - b] ^= static_cast<unsigned char>(counter >> (8 * b));
    unsigned long long c_len = 0;
    if (crypto_aead_xchacha20poly1305_ietf_encrypt(nonce + kNonce, &c_len, reinterpret_cast<const unsigned char*>(v.data()),
                                                   v.size(), reinterpret_cast<const unsigned char*>(ad.data()), ad.size(),
                                                   nullptr, nonce, key.data()) != 0) {
      ok = false;
      return;
    }
    std::string out;
    out.reserve(kSealedPrefix.size() + key_id.size() + 1 + sodium_base64_ENCODED_LEN(raw.size(), kBase64));
    out += kSealedPrefix;
    out += key_id;
    out += ':';
    const std::size_t at = out.size();
    out.resize(at + sodium_base64_ENCODED_LEN(raw.size(), kBase64));
    sodium_bin2base64(out.data() + at, out.size() - at, nonce, kNonce + c_len, kBase64);
    out.resize(std::strlen(out.c_str()));   // drop the terminating NUL sodium wrote
    set(m, r, f, index, std::move(out));
  });
  return ok;
}

Status unseal_pii(Message& msg, PiiKeyStore& keys) {
  Status status = Ok{};
  for_each_pii(msg, [&](Message& m, const Reflection* r, const FieldDescriptor* f, int index) {
    if (!status.ok()) return;
    const std::string v = get(m, r, f, index);
    if (pii_value_state(v) != PiiValueState::kSealed) return;
    auto key = keys.load(sealed_key_id(v));
    if (!key) {
      status = key.error();
      return;
    }
    std::optional<std::string> plain;
    if (key->has_value()) plain = open_sealed(v, f->full_name(), **key);
    set(m, r, f, index, plain ? std::move(*plain) : std::string(kErasedText));
  });
  return status;
}

void clear_pii(Message& msg) {
  for_each_pii(msg, [](Message& m, const Reflection* r, const FieldDescriptor* f, int index) { set(m, r, f, index, {}); });
}

struct PiiKeyStore::Impl {
  sqlite3* db = nullptr;
  sqlite3_stmt* load = nullptr;
  sqlite3_stmt* put = nullptr;      // null on a read-only connection
  sqlite3_stmt* remove = nullptr;
  // Answers so far (present or absent), dropped whole when full: readers look the same few keys up
  // for every field of a record, and a merged report's key again later.
  std::unordered_map<std::string, std::optional<PiiKey>> cache;
  static constexpr std::size_t kCacheSize = 4096;

  ~Impl() {
    sqlite3_finalize(load);
    sqlite3_finalize(put);
    sqlite3_finalize(remove);
    forget();
  }

  void forget() {
    for (auto& [id, key] : cache) {
      if (key) sodium_memzero(key->data(), key->size());
    }
    cache.clear();
    last_id.clear();
  }

  void remember(std::string_view id, const std::optional<PiiKey>& key) {
    if (cache.size() >= kCacheSize) forget();
    cache.insert_or_assign(std::string(id), key);
    last_id.clear();   // create/destroy change answers: the one-entry shortcut starts over
  }
  std::string last_id;
  std::optional<PiiKey> last;
};

Result<PiiKeyStore> PiiKeyStore::open(sqlite3* db) {
  if (sodium_init() < 0) return Error(Errc::storage_failed, "libsodium failed to initialise");
  auto impl = std::make_unique<Impl>();
  impl->db = db;
  if (sqlite3_prepare_v3(db, "SELECT key FROM pii_keys WHERE key_id = ?", -1, SQLITE_PREPARE_PERSISTENT, &impl->load,
                         nullptr) != SQLITE_OK) {
    return sqlite_error(db, "prepare");
  }
  if (sqlite3_db_readonly(db, "main") == 0) {
    if (sqlite3_prepare_v3(db, "INSERT OR REPLACE INTO pii_keys(key_id, key) VALUES(?, ?)", -1, SQLITE_PREPARE_PERSISTENT,
                           &impl->put, nullptr) != SQLITE_OK ||
        sqlite3_prepare_v3(db, "DELETE FROM pii_keys WHERE key_id = ?", -1, SQLITE_PREPARE_PERSISTENT, &impl->remove,
                           nullptr) != SQLITE_OK) {
      return sqlite_error(db, "prepare");
    }
  }
  return PiiKeyStore(std::move(impl));
}

PiiKeyStore::PiiKeyStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
PiiKeyStore::PiiKeyStore(PiiKeyStore&&) noexcept = default;
PiiKeyStore& PiiKeyStore::operator=(PiiKeyStore&&) noexcept = default;
PiiKeyStore::~PiiKeyStore() = default;

void PiiKeyStore::clear_cache() { impl_->forget(); }

Result<std::optional<PiiKey>> PiiKeyStore::load(std::string_view key_id) {
  if (!impl_->last_id.empty() && impl_->last_id == key_id) return impl_->last;   // the record's other fields
  if (auto it = impl_->cache.find(std::string(key_id)); it != impl_->cache.end()) {
    impl_->last_id = it->first;
    impl_->last = it->second;
    return it->second;
  }
  sqlite3_stmt* st = impl_->load;
  sqlite3_bind_text64(st, 1, key_id.data(), key_id.size(), SQLITE_STATIC, SQLITE_UTF8);
  const int rc = sqlite3_step(st);
  std::optional<PiiKey> key;
  if (rc == SQLITE_ROW && sqlite3_column_bytes(st, 0) == static_cast<int>(PiiKey{}.size())) {
    key.emplace();
    std::memcpy(key->data(), sqlite3_column_blob(st, 0), key->size());
  }
  sqlite3_reset(st);
  sqlite3_clear_bindings(st);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) return sqlite_error(impl_->db, "load");
  impl_->remember(key_id, key);
  impl_->last_id = std::string(key_id);
  impl_->last = key;
  return key;
}

Result<PiiKey> PiiKeyStore::create(std::string_view key_id) {
  if (impl_->put == nullptr) return Error(Errc::storage_failed, "pii_keys: the connection is read-only");
  PiiKey key{};
  crypto_aead_xchacha20poly1305_ietf_keygen(key.data());
  sqlite3_stmt* st = impl_->put;
  sqlite3_bind_text64(st, 1, key_id.data(), key_id.size(), SQLITE_STATIC, SQLITE_UTF8);
  sqlite3_bind_blob64(st, 2, key.data(), key.size(), SQLITE_STATIC);
  const int rc = sqlite3_step(st);
  sqlite3_reset(st);
  sqlite3_clear_bindings(st);
  if (rc != SQLITE_DONE) return sqlite_error(impl_->db, "create");
  // Not remembered: the writer creates one key per new ticket and rarely reads it back (a merge
  // loads it from the table); only a stale answer must go.
  impl_->cache.erase(std::string(key_id));
  impl_->last_id.clear();
  return key;
}

Result<bool> PiiKeyStore::destroy(std::string_view key_id) {
  if (impl_->remove == nullptr) return Error(Errc::storage_failed, "pii_keys: the connection is read-only");
  sqlite3_stmt* st = impl_->remove;
  sqlite3_bind_text64(st, 1, key_id.data(), key_id.size(), SQLITE_STATIC, SQLITE_UTF8);
  const int rc = sqlite3_step(st);
  sqlite3_reset(st);
  sqlite3_clear_bindings(st);
  if (rc != SQLITE_DONE) return sqlite_error(impl_->db, "destroy");
  impl_->cache.erase(std::string(key_id));
  impl_->last_id.clear();
  return sqlite3_changes64(impl_->db) > 0;
}

}  // namespace gridhub::log
