#include "gridhub/log/pii_vault.hpp"

#include <openssl/evp.h>
#include <sodium.h>
#include <sqlite3.h>

#include <array>
#include <cstring>
#include <mutex>
#include <unordered_map>
#include <vector>

#include <fmt/format.h>

#include "gridhub/log/wire_scan.hpp"
#include "gridhub/v1/common.pb.h"

namespace gridhub::log {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

constexpr std::size_t kNonce = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
constexpr std::size_t kTag = crypto_aead_xchacha20poly1305_ietf_ABYTES;

/// Where a message type keeps personal values: its pii string/bytes fields, and the message fields
/// that lead to more. Built once per type from the schema's `(pii)` options and never changed, so a
/// walk is a loop over a short list — no option lookups and no descent into the many submessages
/// (locations, provenance, decisions, timestamps) that hold nothing personal.
struct PiiPlan {
  struct Step {
    const FieldDescriptor* field;
    const PiiPlan* below;      // a message field: the plan of its type; null for a value field
  };
  std::vector<Step> steps;
};

const PiiPlan& plan_for(const google::protobuf::Descriptor* desc);

/// Builds under the caller's lock. A recursive type reaches itself while its plan is being made and
/// sees it empty: it counts as holding nothing there (no schema type is recursive through pii).
const PiiPlan& build_plan(std::unordered_map<const google::protobuf::Descriptor*, PiiPlan>& plans,
                          const google::protobuf::Descriptor* desc) {
  if (auto it = plans.find(desc); it != plans.end()) return it->second;
  PiiPlan& plan = plans[desc];   // node-based map: the reference stays valid as others are added
  std::vector<PiiPlan::Step> steps;
  for (int i = 0; i < desc->field_count(); ++i) {
    const FieldDescriptor* f = desc->field(i);
    if (f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
      const PiiPlan& below = build_plan(plans, f->message_type());
      if (!below.steps.empty()) steps.push_back({f, &below});
    } else if (f->cpp_type() == FieldDescriptor::CPPTYPE_STRING && f->options().GetExtension(gridhub::v1::pii)) {
      steps.push_back({f, nullptr});
    }
  }
  plan.steps = std::move(steps);
  return plan;
}

const PiiPlan& plan_for(const google::protobuf::Descriptor* desc) {
  static std::mutex mutex;
  static std::unordered_map<const google::protobuf::Descriptor*, PiiPlan> plans;
  std::lock_guard lock(mutex);
  return build_plan(plans, desc);
}

/// Calls fn(msg, reflection, field, index) for every value of every pii string/bytes field; index -1
/// for a singular field. Unset singular fields are skipped.
template <class Fn>
void walk(Message& msg, const PiiPlan& plan, Fn& fn) {
  const Reflection* refl = msg.GetReflection();
  for (const auto& step : plan.steps) {
    const FieldDescriptor* f = step.field;
    if (step.below != nullptr) {
      if (f->is_repeated()) {
        for (int j = 0; j < refl->FieldSize(msg, f); ++j) walk(*refl->MutableRepeatedMessage(&msg, f, j), *step.below, fn);
      } else if (refl->HasField(msg, f)) {
        walk(*refl->MutableMessage(&msg, f), *step.below, fn);
      }
    } else if (f->is_repeated()) {
      for (int j = 0; j < refl->FieldSize(msg, f); ++j) fn(msg, refl, f, j);
    } else if (refl->HasField(msg, f)) {
      fn(msg, refl, f, -1);
    }
  }
}

template <class Fn>
void for_each_pii(Message& msg, Fn&& fn) {
  walk(msg, plan_for(msg.GetDescriptor()), fn);
}

const std::string& get(const Message& m, const Reflection* r, const FieldDescriptor* f, int index, std::string* scratch) {
  return index < 0 ? r->GetStringReference(m, f, scratch) : r->GetRepeatedStringReference(m, f, index, scratch);
}

void set(Message& m, const Reflection* r, const FieldDescriptor* f, int index, std::string v) {
  if (index < 0) {
    r->SetString(&m, f, std::move(v));
  } else {
    r->SetRepeatedString(&m, f, index, std::move(v));
  }
}

/// Random bytes for keys and nonces, drawn from the OS (libsodium's randombytes) 4 KiB at a time:
/// the writer makes a key and a nonce base for every intake record, and a getrandom call each was a
/// measurable part of its time. Bytes handed out are wiped from the pool; one pool per thread.
void random_bytes(unsigned char* out, std::size_t n) {
  struct Pool {
    std::array<unsigned char, 4096> bytes{};
    std::size_t used = 4096;
    ~Pool() { sodium_memzero(bytes.data(), bytes.size()); }
  };
  thread_local Pool pool;
  if (n > pool.bytes.size()) {
    randombytes_buf(out, n);
    return;
  }
  if (pool.bytes.size() - pool.used < n) {
    randombytes_buf(pool.bytes.data(), pool.bytes.size());
    pool.used = 0;
  }
  std::memcpy(out, pool.bytes.data() + pool.used, n);
  sodium_memzero(pool.bytes.data() + pool.used, n);
  pool.used += n;
}

Error sqlite_error(sqlite3* db, std::string_view what) {
  return Error(Errc::storage_failed, fmt::format("pii_keys: {}: {}", what, sqlite3_errmsg(db)));
}

}  // namespace

std::string record_key_id(std::uint64_t seq) { return fmt::format("R{:08d}", seq); }

std::string dead_letter_key_id(int channel, std::string_view source_key, std::int64_t recorded_at) {
  return source_key.empty() ? fmt::format("D{}@{}", channel, recorded_at) : fmt::format("D{}/{}", channel, source_key);
}

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

namespace {

/// Opens `sealed` into `plain`; false when it does not open. The scratch buffers are the caller's, so
/// a reader opening many values allocates once.
bool open_into(std::string_view sealed, std::string_view field_full_name, const PiiKey& key, std::string& plain,
               std::string& raw, std::string& ad) {
  const std::string_view key_id = sealed_key_id(sealed);
  if (key_id.empty()) return false;
  const std::string_view b64 = sealed.substr(kSealedPrefix.size() + key_id.size() + 1);
  // OpenSSL's decoder: an order of magnitude faster than libsodium's constant-time one, which buys
  // nothing here (the text is stored in the clear; the secret is the key). Padded standard base64 only.
  if (b64.empty() || b64.size() % 4 != 0) return false;
  raw.resize(b64.size() / 4 * 3);
  const int decoded = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(raw.data()),
                                      reinterpret_cast<const unsigned char*>(b64.data()), static_cast<int>(b64.size()));
  if (decoded < 0) return false;
  const std::size_t padding = (b64.back() == '=') + (b64.size() > 1 && b64[b64.size() - 2] == '=');
  const std::size_t raw_len = static_cast<std::size_t>(decoded) - padding;
  if (raw_len < kNonce + kTag) return false;
  ad.assign(key_id);
  ad += '\0';
  ad += field_full_name;
  plain.resize(raw_len - kNonce - kTag);
  unsigned long long plain_len = 0;
  const auto* nonce = reinterpret_cast<const unsigned char*>(raw.data());
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(reinterpret_cast<unsigned char*>(plain.data()), &plain_len, nullptr,
                                                 nonce + kNonce, raw_len - kNonce,
                                                 reinterpret_cast<const unsigned char*>(ad.data()), ad.size(), nonce,
                                                 key.data()) != 0) {
    return false;
  }
  plain.resize(plain_len);
  return true;
}

}  // namespace

std::optional<std::string> open_sealed(std::string_view sealed, std::string_view field_full_name, const PiiKey& key) {
  std::string plain, raw, ad;
  if (!open_into(sealed, field_full_name, key, plain, raw, ad)) return std::nullopt;
  return plain;
}

bool has_plain_pii(Message& msg) {
  bool found = false;
  std::string scratch;
  for_each_pii(msg, [&](Message& m, const Reflection* r, const FieldDescriptor* f, int index) {
    if (found) return;
    const std::string& v = get(m, r, f, index, &scratch);
    found = !v.empty() && pii_value_state(v) == PiiValueState::kPlain;
  });
  return found;
}

bool seal_pii(Message& msg, std::string_view key_id, const PiiKey& key) {
  bool ok = true;
  std::string raw, ad, out, scratch;
  // One random 192-bit nonce base per call, the value's index folded into its last bytes: nonces stay
  // unique with overwhelming probability, for one getrandom per record instead of one per field.
  unsigned char nonce_base[kNonce];
  random_bytes(nonce_base, kNonce);
  std::uint64_t counter = 0;
  for_each_pii(msg, [&](Message& m, const Reflection* r, const FieldDescriptor* f, int index) {
    const std::string& v = get(m, r, f, index, &scratch);
    if (v.empty() || pii_value_state(v) != PiiValueState::kPlain) return;
    ad.assign(key_id);
    ad += '\0';
    ad += f->full_name();
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
    // Standard padded base64, as libsodium's ORIGINAL variant writes it; OpenSSL's encoder is faster.
    const std::size_t raw_len = kNonce + c_len;
    out.assign(kSealedPrefix);
    out += key_id;
    out += ':';
    const std::size_t at = out.size();
    out.resize(at + (raw_len + 2) / 3 * 4 + 1);
    const int written = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data() + at), nonce, static_cast<int>(raw_len));
    out.resize(at + static_cast<std::size_t>(written));
    set(m, r, f, index, out);
  });
  return ok;
}

namespace {

/// What a reader is shown of one personal value, with the buffers reused across values.
class Presenter {
 public:
  Presenter(PiiKeyStore& keys, const PiiPresentation& how) : keys_(keys), how_(how) {}

  enum class Shown { kAsIs, kDropped, kReplaced };
  /// kReplaced: the value to show is in value(). A key table error sets status() and shows it as is.
  Shown show(std::string_view v, const FieldDescriptor* f) {
    if (how_.drop_bytes && f->type() == FieldDescriptor::TYPE_BYTES) return Shown::kDropped;   // never opened
    if (pii_value_state(v) == PiiValueState::kSealed) {
      auto key = keys_.load(sealed_key_id(v));
      if (!key) {
        if (status_.ok()) status_ = key.error();
        return Shown::kAsIs;
      }
      if (!key->has_value() || !open_into(v, f->full_name(), **key, plain_, raw_, ad_)) plain_.assign(kErasedText);
    } else if (how_.transform != nullptr) {
      plain_.assign(v);
    } else {
      return Shown::kAsIs;   // plain or erased, shown as it is
    }
    if (how_.transform != nullptr) plain_ = how_.transform(plain_);
    return Shown::kReplaced;
  }
  std::string& value() { return plain_; }
  const Status& status() const { return status_; }

 private:
  PiiKeyStore& keys_;
  const PiiPresentation& how_;
  std::string plain_, raw_, ad_;
  Status status_ = Ok{};
};

void append_length_delimited(std::string& out, std::string_view tag, std::string_view value) {
  char len[10];
  out.append(tag);
  out.append(len, wire::put_varint(len, value.size()));
  out.append(value);
}

/// Appends to `out` the encoding of the message in `in` with its personal values shown as `presenter`
/// says, working on the wire bytes: what lies on no path to a personal value is copied untouched, so
/// nothing is parsed into objects. The result equals parsing, unseal_pii and serializing for any
/// canonically encoded input. False on bytes that are not a well-formed message.
bool splice(const PiiPlan& plan, std::string_view in, std::string& out, Presenter& presenter, int depth) {
  wire::Field field;
  while (!in.empty()) {
    if (!wire::next(in, field)) return false;
    const PiiPlan::Step* step = nullptr;
    if (field.type == 2) {
      for (const auto& s : plan.steps) {
        if (static_cast<std::uint64_t>(s.field->number()) == field.number) step = &s;
      }
    }
    if (step == nullptr) {
      out.append(field.whole);
      continue;
    }
    if (step->below != nullptr) {
      if (depth >= 64) return false;
      out.append(field.tag);
      const std::size_t at = out.size();
      if (!splice(*step->below, field.bytes, out, presenter, depth + 1)) return false;
      char prefix[10];
      out.insert(at, prefix, wire::put_varint(prefix, out.size() - at));
      continue;
    }
    const FieldDescriptor* f = step->field;
    switch (presenter.show(field.bytes, f)) {
      case Presenter::Shown::kAsIs:
        out.append(field.whole);
        break;
      case Presenter::Shown::kDropped:
        if (f->is_repeated()) append_length_delimited(out, field.tag, {});   // cleared, as unseal_pii does
        break;
      case Presenter::Shown::kReplaced:
        // An empty singular value is not encoded (implicit presence), as the serializer would do.
        if (!presenter.value().empty() || f->is_repeated() || f->has_presence()) {
          append_length_delimited(out, field.tag, presenter.value());
        }
        break;
    }
  }
  return true;
}

}  // namespace

Status unseal_pii(Message& msg, PiiKeyStore& keys, const PiiPresentation& how) {
  Presenter presenter(keys, how);
  std::string scratch;
  for_each_pii(msg, [&](Message& m, const Reflection* r, const FieldDescriptor* f, int index) {
    if (!presenter.status().ok()) return;
    switch (presenter.show(get(m, r, f, index, &scratch), f)) {
      case Presenter::Shown::kAsIs:
        break;
      case Presenter::Shown::kDropped:
        if (index < 0) {
          r->ClearField(&m, f);
        } else {
          r->SetRepeatedString(&m, f, index, {});
        }
        break;
      case Presenter::Shown::kReplaced:
        set(m, r, f, index, std::move(presenter.value()));
        break;
    }
  });
  return presenter.status();
}

Status unseal_pii_encoded(const google::protobuf::Descriptor* type, std::string_view in, PiiKeyStore& keys,
                          const PiiPresentation& how, std::string& out) {
  Presenter presenter(keys, how);
  const std::size_t at = out.size();
  out.reserve(at + in.size() + in.size() / 4);
  if (!splice(plan_for(type), in, out, presenter, 0)) {
    out.resize(at);
    return Error(Errc::malformed_frame, fmt::format("{}: the encoded message is malformed", type->full_name()));
  }
  if (!presenter.status().ok()) out.resize(at);
  return presenter.status();
}

void present_pii(Message& msg, const PiiPresentation& how) {
  std::string scratch;
  for_each_pii(msg, [&](Message& m, const Reflection* r, const FieldDescriptor* f, int index) {
    if (how.drop_bytes && f->type() == FieldDescriptor::TYPE_BYTES) {
      if (index < 0) {
        r->ClearField(&m, f);
      } else {
        r->SetRepeatedString(&m, f, index, {});
      }
      return;
    }
    if (how.transform != nullptr) set(m, r, f, index, how.transform(get(m, r, f, index, &scratch)));
  });
}

void clear_pii(Message& msg) {
  for_each_pii(msg, [](Message& m, const Reflection* r, const FieldDescriptor* f, int index) { set(m, r, f, index, {}); });
}

struct PiiKeyStore::Impl {
  sqlite3* db = nullptr;
  sqlite3_stmt* load = nullptr;     // the key asked for and the next ones in key order
  sqlite3_stmt* put = nullptr;      // null on a read-only connection
  sqlite3_stmt* remove = nullptr;
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
  };
  // Answers so far (present or absent), dropped whole when full: readers look the same few keys up
  // for every field of a record, and a merged report's key again later.
  std::unordered_map<std::string, std::optional<PiiKey>, Hash, std::equal_to<>> cache;
  static constexpr std::size_t kCacheSize = 4096;
  // Key ids follow the log (ticket ids are T + the seq of their first record), so a reader going
  // through the log in order wants the next keys next: a miss reads this many ahead in one statement.
  static constexpr int kReadAhead = 64;

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
  const std::string load =
      fmt::format("SELECT key_id, key FROM pii_keys WHERE key_id >= ? ORDER BY key_id LIMIT {}", Impl::kReadAhead);
  if (sqlite3_prepare_v3(db, load.c_str(), -1, SQLITE_PREPARE_PERSISTENT, &impl->load, nullptr) != SQLITE_OK) {
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
  auto it = impl_->cache.find(key_id);
  if (it == impl_->cache.end()) {
    sqlite3_stmt* st = impl_->load;
    sqlite3_bind_text64(st, 1, key_id.data(), key_id.size(), SQLITE_STATIC, SQLITE_UTF8);
    std::optional<PiiKey> asked;
    int rc = SQLITE_ROW;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
      const std::string_view id(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)),
                                static_cast<std::size_t>(sqlite3_column_bytes(st, 0)));
      std::optional<PiiKey> key;
      if (sqlite3_column_bytes(st, 1) == static_cast<int>(PiiKey{}.size())) {
        key.emplace();
        std::memcpy(key->data(), sqlite3_column_blob(st, 1), key->size());
      }
      if (id == key_id) asked = key;
      impl_->remember(id, key);
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (rc != SQLITE_DONE) return sqlite_error(impl_->db, "load");
    impl_->remember(key_id, asked);   // also when absent: asked again, the answer is the same
    it = impl_->cache.find(key_id);
  }
  impl_->last_id.assign(it->first);
  impl_->last = it->second;
  return it->second;
}

PiiKey make_pii_key() {
  PiiKey key{};
  random_bytes(key.data(), key.size());   // what crypto_aead_xchacha20poly1305_ietf_keygen does, pooled
  return key;
}

Result<PiiKey> PiiKeyStore::create(std::string_view key_id) {
  PiiKey key = make_pii_key();
  if (auto s = put(key_id, key); !s) return s.error();
  return key;
}

Status PiiKeyStore::put(std::string_view key_id, const PiiKey& key) {
  if (impl_->put == nullptr) return Error(Errc::storage_failed, "pii_keys: the connection is read-only");
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
  return Ok{};
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
