#include "gridhub/log/jetstream_event_log.hpp"

#include <nats/nats.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "gridhub/sqlite/sqlite.hpp"

#include <atomic>
#include <cstring>
#include <functional>
#include <thread>
#include <unordered_map>

namespace gridhub::log {
namespace {

// A record's message: the data is the record's stored bytes; these headers carry what the replica
// stores beside it (event_log.hpp, DecidedRecord). Key ids and change keys are hex, since both may
// hold any byte a source key holds.
constexpr const char* kChangeKeyHeader = "Gridhub-Change-Key";
constexpr const char* kReplacesHeader = "Gridhub-Change-Replaces";
constexpr const char* kKeyPutHeader = "Gridhub-Key-Put";
constexpr const char* kKeyDestroyHeader = "Gridhub-Key-Destroy";

struct NatsDeleter {
  void operator()(natsOptions* o) const { natsOptions_Destroy(o); }
  void operator()(natsConnection* nc) const { natsConnection_Destroy(nc); }
  void operator()(jsCtx* js) const { jsCtx_Destroy(js); }
  void operator()(jsStreamInfo* si) const { jsStreamInfo_Destroy(si); }
  void operator()(kvStore* kv) const { kvStore_Destroy(kv); }
  void operator()(kvEntry* e) const { kvEntry_Destroy(e); }
  void operator()(natsMsg* m) const { natsMsg_Destroy(m); }
  void operator()(jsPubAck* a) const { jsPubAck_Destroy(a); }
};
template <class T>
using NatsPtr = std::unique_ptr<T, NatsDeleter>;

std::string nats_error(natsStatus s, jsErrCode jerr = static_cast<jsErrCode>(0)) {
  const char* last = nats_GetLastError(nullptr);
  std::string out = natsStatus_GetText(s);
  if (last != nullptr && *last != '\0') out += fmt::format(" ({})", last);
  if (jerr != 0) out += fmt::format(" [JetStream error {}]", static_cast<int>(jerr));
  return out;
}

std::string hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

bool unhex(std::string_view text, std::string& out) {
  auto digit = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  if (text.size() % 2 != 0) return false;
  out.clear();
  for (std::size_t i = 0; i < text.size(); i += 2) {
    const int hi = digit(text[i]);
    const int lo = digit(text[i + 1]);
    if (hi < 0 || lo < 0) return false;
    out.push_back(static_cast<char>(hi * 16 + lo));
  }
  return true;
}

/// The bucket key of a personal-data key id ("k" + hex: bucket keys allow only a few characters).
std::string bucket_key(std::string_view key_id) { return "k" + hex(key_id); }

std::string join_hex(const std::vector<KeyOp>& ops, bool puts) {
  std::string out;
  for (const auto& op : ops) {
    if (op.key.has_value() != puts) continue;
    if (!out.empty()) out.push_back(' ');
    out += hex(op.key_id);
  }
  return out;
}

void count_async_error(jsCtx*, jsPubAckErr*, void* closure) {
  static_cast<std::atomic<int>*>(closure)->fetch_add(1, std::memory_order_relaxed);
}

class JetStreamEventLog final : public EventLog {
 public:
  JetStreamEventLog(std::unique_ptr<EventLog> replica, std::filesystem::path file, JetStreamOptions js,
                    NatsPtr<natsConnection> nc, NatsPtr<jsCtx> ctx, NatsPtr<kvStore> keys,
                    std::unique_ptr<std::atomic<int>> async_errors)
      : async_errors_(std::move(async_errors)),
        replica_(std::move(replica)),
        file_(std::move(file)),
        js_(std::move(js)),
        nc_(std::move(nc)),
        ctx_(std::move(ctx)),
        keys_(std::move(keys)) {}

  ~JetStreamEventLog() override {
    keys_.reset();
    ctx_.reset();
    if (nc_) natsConnection_Close(nc_.get());
  }

  std::uint64_t head_seq() const override { return replica_->head_seq(); }

  Status append(std::span<const Write> writes) override {
    if (behind_) {
      // An earlier append failed: the stream may hold records the replica lacks (a batch stored in
      // part; another writer's). Nothing is published until the replica has them.
      if (auto s = catch_up(); !s) return s;
      behind_ = false;
    }
    // The same fencing the replica applies, before anything is published.
    std::uint64_t expected = replica_->head_seq() + 1;
    for (const auto& w : writes) {
      if (const auto* r = std::get_if<DecidedRecord>(&w)) {
        if (r->record.seq() != expected) {
          return Error(Errc::storage_failed, fmt::format("{}: refused a batch whose record {} does not continue the "
                                                         "head (expected seq {})", js_.stream, r->record.seq(), expected));
        }
        ++expected;
      }
    }
    if (!publish_batch(writes)) {
      // Something in the pipelined batch went wrong (a node lost, a refusal): the records are published
      // again one by one, in order. Those the stream stored are answered as duplicates of their
      // message ids; the first it cannot store fails the append.
      for (const auto& w : writes) {
        const auto* r = std::get_if<DecidedRecord>(&w);
        if (r == nullptr) continue;   // dead letters and cursors: the replica's alone (docs/jetstream.md)
        if (Status s = publish(*r); !s) return failed(std::move(s));
      }
    }
    // Keys destroyed by these writes are purged from the bucket once the records that destroy them are
    // in the stream, and before the replica commits them: a crash or a failure in between leaves the
    // replica behind the stream, and the catch-up (now, or at the next open) applies the erasure
    // locally and purges the key again.
    for (const auto& w : writes) {
      if (const auto* r = std::get_if<DecidedRecord>(&w)) {
        if (Status s = purge_keys(r->keys); !s) return failed(std::move(s));
      }
    }
    if (Status s = replica_->append(writes); !s) return failed(std::move(s));
    return Ok{};
  }

  Result<std::uint64_t> find_intake(int channel, std::string_view source_key) override {
    return replica_->find_intake(channel, source_key);
  }
  Result<bool> has_dead_letter(int channel, std::string_view source_key) override {
    return replica_->has_dead_letter(channel, source_key);
  }
  Result<std::uint64_t> find_change(std::string_view key) override { return replica_->find_change(key); }
  Result<StoredTicket> load_ticket(const std::string& ticket_id) override { return replica_->load_ticket(ticket_id); }
  Result<std::optional<PiiKey>> load_key(std::string_view key_id) override { return replica_->load_key(key_id); }

  /// Brings the replica up to the stream's last record (open).
  Status catch_up() {
    auto last = stream_last_seq();
    if (!last) return last.error();
    const std::uint64_t stream_last = last.value();
    const std::uint64_t head = replica_->head_seq();
    if (head > stream_last) {
      return Error(Errc::storage_failed,
                   fmt::format("the replica {} holds records up to {} but stream {} ends at {}: the replica is not a "
                               "copy of this stream (a SQLite log moved to JetStream needs a migration)",
                               file_.string(), head, js_.stream, stream_last));
    }
    if (head > 0) {
      if (auto s = check_same_record(head); !s) return s;
    }
    constexpr std::size_t kBatch = 256;
    std::vector<Write> batch;
    std::vector<std::string> destroyed;
    for (std::uint64_t seq = head + 1; seq <= stream_last; ++seq) {
      auto w = fetch(seq, destroyed);
      if (!w) return w.error();
      batch.push_back(std::move(w.value()));
      if (batch.size() == kBatch || seq == stream_last) {
        if (auto s = replica_->append(batch); !s) {
          return Error(Errc::storage_failed, fmt::format("catching the replica {} up from stream {}: {}", file_.string(),
                                                         js_.stream, s.error().message()));
        }
        batch.clear();
      }
    }
    // Keys the caught-up records destroyed may still be in the bucket (a crash before the purge).
    for (const auto& id : destroyed) {
      if (auto s = purge_key(id); !s) return s;
    }
    return Ok{};
  }

 private:
  /// The batch failed, but records before the failing one may be in the stream (and a fenced writer's
  /// stream holds another writer's): the replica is caught up now, or before the next append, so the
  /// sequencer (which re-reads the head after a failure) decides on what the stream holds. The
  /// adapters were not acknowledged; their resends are found as duplicates.
  Status failed(Status s) {
    if (auto c = catch_up(); !c) behind_ = true;
    return s;
  }

  Result<std::uint64_t> stream_last_seq() {
    const auto deadline = std::chrono::steady_clock::now() + js_.timeout;
    for (;;) {
      jsStreamInfo* raw = nullptr;
      jsErrCode jerr{};
      natsStatus s = js_GetStreamInfo(&raw, ctx_.get(), js_.stream.c_str(), nullptr, &jerr);
      if (s == NATS_OK) {
        NatsPtr<jsStreamInfo> info(raw);
        return info->State.LastSeq;
      }
      if (std::chrono::steady_clock::now() >= deadline) {
        return Error(Errc::unavailable, fmt::format("stream {}: info: {}", js_.stream, nats_error(s, jerr)));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));   // a leader election under way
    }
  }

  Result<NatsPtr<natsMsg>> get_msg(std::uint64_t seq) {
    const auto deadline = std::chrono::steady_clock::now() + js_.timeout;
    for (;;) {
      natsMsg* raw = nullptr;
      jsErrCode jerr{};
      natsStatus s = js_GetMsg(&raw, ctx_.get(), js_.stream.c_str(), seq, nullptr, &jerr);
      if (s == NATS_OK) return NatsPtr<natsMsg>(raw);
      if (jerr != 0 || std::chrono::steady_clock::now() >= deadline) {
        return Error(Errc::unavailable, fmt::format("stream {}: record {}: {}", js_.stream, seq, nats_error(s, jerr)));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }

  /// The replica's head record must be the stream's record of that seq, byte for byte.
  Status check_same_record(std::uint64_t seq) {
    auto reader = LogReader::open(file_);
    if (!reader) return reader.error();
    std::string local;
    auto n = reader->read(seq, 1, [&](std::uint64_t, std::string_view body) { local.assign(body); });
    if (!n) return n.error();
    auto msg = get_msg(seq);
    if (!msg) return msg.error();
    const std::string_view remote(natsMsg_GetData(msg->get()), static_cast<std::size_t>(natsMsg_GetDataLength(msg->get())));
    if (n.value() != 1 || remote != local) {
      return Error(Errc::storage_failed, fmt::format("the replica {} and stream {} hold different records at seq {}: "
                                                     "the replica is not a copy of this stream",
                                                     file_.string(), js_.stream, seq));
    }
    return Ok{};
  }

  /// Record `seq` of the stream as the write that stores it in the replica.
  Result<Write> fetch(std::uint64_t seq, std::vector<std::string>& destroyed) {
    auto msg = get_msg(seq);
    if (!msg) return msg.error();
    natsMsg* m = msg->get();
    DecidedRecord w;
    if (!w.record.ParseFromArray(natsMsg_GetData(m), natsMsg_GetDataLength(m)) || w.record.seq() != seq) {
      return Error(Errc::storage_failed, fmt::format("stream {}: message {} is not log record {}", js_.stream, seq, seq));
    }
    const char* value = nullptr;
    if (natsMsgHeader_Get(m, kChangeKeyHeader, &value) == NATS_OK && value != nullptr) {
      if (!unhex(value, w.change_key)) {
        return Error(Errc::storage_failed, fmt::format("stream {}: record {}: bad {} header", js_.stream, seq,
                                                       kChangeKeyHeader));
      }
    }
    w.replaces_change_key = natsMsgHeader_Get(m, kReplacesHeader, &value) == NATS_OK && value != nullptr &&
                            std::string_view(value) == "1";
    std::string id;
    for (const char* header : {kKeyPutHeader, kKeyDestroyHeader}) {
      if (natsMsgHeader_Get(m, header, &value) != NATS_OK || value == nullptr) continue;
      std::string_view rest(value);
      while (!rest.empty()) {
        const auto space = rest.find(' ');
        const std::string_view token = rest.substr(0, space);
        rest = space == std::string_view::npos ? std::string_view{} : rest.substr(space + 1);
        if (!unhex(token, id)) {
          return Error(Errc::storage_failed, fmt::format("stream {}: record {}: bad {} header", js_.stream, seq, header));
        }
        if (header == kKeyDestroyHeader) {
          w.keys.push_back(KeyOp{id, std::nullopt});
          destroyed.push_back(id);
          continue;
        }
        // The bucket holds the key's latest value; none: destroyed since (erased), so nothing to store.
        auto key = load_bucket_key(id);
        if (!key) return key.error();
        if (key.value()) w.keys.push_back(KeyOp{id, *key.value()});
      }
    }
    return Write{std::move(w)};
  }

  /// Runs `op` until it succeeds, answers `final_status`, or js_.timeout passes: a node lost or a
  /// leader being elected answers "no responders" or times out for a few seconds.
  template <class Op>
  natsStatus retried(Op&& op, natsStatus final_status = NATS_OK) {
    const auto deadline = std::chrono::steady_clock::now() + js_.timeout;
    for (;;) {
      const natsStatus s = op();
      if (s == NATS_OK || s == final_status || std::chrono::steady_clock::now() >= deadline) return s;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }

  Result<std::optional<PiiKey>> load_bucket_key(const std::string& key_id) {
    kvEntry* raw = nullptr;
    const std::string bkey = bucket_key(key_id);
    natsStatus s = retried([&] { return kvStore_Get(&raw, keys_.get(), bkey.c_str()); }, NATS_NOT_FOUND);
    if (s == NATS_NOT_FOUND) return std::optional<PiiKey>{};
    if (s != NATS_OK) {
      return Error(Errc::unavailable, fmt::format("bucket {}_KEYS: key {}: {}", js_.stream, key_id, nats_error(s)));
    }
    NatsPtr<kvEntry> entry(raw);
    PiiKey key{};
    if (kvEntry_ValueLen(entry.get()) != static_cast<int>(key.size())) {
      return Error(Errc::storage_failed, fmt::format("bucket {}_KEYS: key {} has {} bytes, not {}", js_.stream, key_id,
                                                     kvEntry_ValueLen(entry.get()), key.size()));
    }
    std::memcpy(key.data(), kvEntry_Value(entry.get()), key.size());
    return std::optional<PiiKey>{key};
  }

  Status publish_keys(const std::vector<KeyOp>& ops) {
    for (const auto& op : ops) {
      if (!op.key) continue;
      uint64_t rev = 0;
      const std::string bkey = bucket_key(op.key_id);
      natsStatus s = retried([&] {
        return kvStore_Put(&rev, keys_.get(), bkey.c_str(), op.key->data(), static_cast<int>(op.key->size()));
      });
      if (s != NATS_OK) {
        return Error(Errc::unavailable, fmt::format("bucket {}_KEYS: storing key {}: {}", js_.stream, op.key_id, nats_error(s)));
      }
    }
    return Ok{};
  }

  Status purge_key(const std::string& key_id) {
    const std::string bkey = bucket_key(key_id);
    natsStatus s = retried([&] { return kvStore_Purge(keys_.get(), bkey.c_str(), nullptr); });
    if (s != NATS_OK) {
      return Error(Errc::unavailable, fmt::format("bucket {}_KEYS: purging key {}: {}", js_.stream, key_id, nats_error(s)));
    }
    return Ok{};
  }

  Status purge_keys(const std::vector<KeyOp>& ops) {
    for (const auto& op : ops) {
      if (op.key) continue;
      if (auto s = purge_key(op.key_id); !s) return s;
    }
    return Ok{};
  }

  /// The message that carries record `r`, with its headers; null on an allocation failure.
  NatsPtr<natsMsg> make_msg(const DecidedRecord& r) {
    body_.clear();
    r.record.SerializeToString(&body_);
    natsMsg* raw = nullptr;
    if (natsMsg_Create(&raw, js_.subject.c_str(), nullptr, body_.data(), static_cast<int>(body_.size())) != NATS_OK) {
      return nullptr;
    }
    NatsPtr<natsMsg> msg(raw);
    const std::string change = hex(r.change_key);
    const std::string puts = join_hex(r.keys, true);
    const std::string destroys = join_hex(r.keys, false);
    if (!change.empty()) natsMsgHeader_Set(raw, kChangeKeyHeader, change.c_str());
    if (r.replaces_change_key) natsMsgHeader_Set(raw, kReplacesHeader, "1");
    if (!puts.empty()) natsMsgHeader_Set(raw, kKeyPutHeader, puts.c_str());
    if (!destroys.empty()) natsMsgHeader_Set(raw, kKeyDestroyHeader, destroys.c_str());
    return msg;
  }

  /// Message id and expected sequence of record `seq` whose bytes are in body_.
  void pub_options(std::uint64_t seq, jsPubOptions& po, std::string& msg_id) {
    jsPubOptions_Init(&po);
    msg_id = fmt::format("{}-{:016x}", seq, std::hash<std::string_view>{}(body_));
    po.MsgId = msg_id.c_str();
    // ExpectLastSeq 0 means "unset" to the client: the first record expects an empty subject, which
    // is the same thing in a stream of one subject.
    if (seq == 1) {
      po.ExpectNoMessage = true;
    } else {
      po.ExpectLastSeq = seq - 1;
    }
  }

  /// The fast path: every record of the batch published without waiting, each expecting the one before
  /// (JetStream orders a connection's publishes), then all acknowledgements awaited at once. True: all
  /// stored, in order. False: not known; the caller publishes one by one (publish), which is correct
  /// whatever this left behind.
  bool publish_batch(std::span<const Write> writes) {
    async_errors_->store(0);
    jsPubOptions wait;
    jsPubOptions_Init(&wait);
    wait.MaxWait = js_.timeout.count();
    // The keys first, all acknowledged before any record that needs them is published: a record in
    // the stream never lacks its key in the bucket. A bucket's key is the subject $KV.<bucket>.<key>.
    bool any_key = false;
    for (const auto& w : writes) {
      const auto* r = std::get_if<DecidedRecord>(&w);
      if (r == nullptr) continue;
      for (const auto& op : r->keys) {
        if (!op.key) continue;
        const std::string subject = fmt::format("$KV.{}_KEYS.{}", js_.stream, bucket_key(op.key_id));
        if (js_PublishAsync(ctx_.get(), subject.c_str(), op.key->data(), static_cast<int>(op.key->size()), nullptr) != NATS_OK) {
          return false;
        }
        any_key = true;
      }
    }
    if (any_key && (js_PublishAsyncComplete(ctx_.get(), &wait) != NATS_OK || async_errors_->load() != 0)) return false;
    std::string msg_id;
    for (const auto& w : writes) {
      const auto* r = std::get_if<DecidedRecord>(&w);
      if (r == nullptr) continue;
      auto msg = make_msg(*r);
      if (!msg) return false;
      jsPubOptions po;
      pub_options(r->record.seq(), po, msg_id);
      natsMsg* raw = msg.release();
      if (js_PublishMsgAsync(ctx_.get(), &raw, &po) != NATS_OK) {
        natsMsg_Destroy(raw);   // not taken by the library
        return false;
      }
    }
    return js_PublishAsyncComplete(ctx_.get(), &wait) == NATS_OK && async_errors_->load() == 0;
  }

  /// Publishes one record with the expected last sequence seq - 1, retrying through a node's failure
  /// until js_.timeout. A retry of a message the stream did store is answered as a duplicate (its
  /// message id names the seq and the bytes), so a record is stored once; a different record at that
  /// seq (another writer's) fails the expected sequence and stores nothing.
  Status publish(const DecidedRecord& r) {
    if (auto s = publish_keys(r.keys); !s) return s;
    const std::uint64_t seq = r.record.seq();
    const auto deadline = std::chrono::steady_clock::now() + js_.timeout;
    std::string msg_id;
    for (;;) {
      auto msg = make_msg(r);
      if (!msg) return Error(Errc::storage_failed, fmt::format("record {}: cannot make its message", seq));
      jsPubOptions po;
      pub_options(seq, po, msg_id);
      jsPubAck* ack_raw = nullptr;
      jsErrCode jerr{};
      natsStatus s = js_PublishMsg(&ack_raw, ctx_.get(), msg.get(), &po, &jerr);
      NatsPtr<jsPubAck> ack(ack_raw);
      if (s == NATS_OK) {
        if (ack->Sequence != seq) {
          return Error(Errc::storage_failed, fmt::format("stream {} stored record {} at sequence {}: the stream "
                                                         "holds other subjects' messages", js_.stream, seq, ack->Sequence));
        }
        return Ok{};
      }
      if (jerr == JSStreamWrongLastSequenceErr) {   // definitive: the stream's head is not this writer's
        return Error(Errc::storage_failed, fmt::format("stream {} refused record {} (another writer appended: this "
                                                       "one is fenced): {}", js_.stream, seq, nats_error(s, jerr)));
      }
      // Anything else may pass (no leader for the stream yet, JetStream error 10076 while a node is
      // lost): retried until the deadline, then reported with JetStream's code.
      if (std::chrono::steady_clock::now() >= deadline) {
        return Error(Errc::unavailable, fmt::format("stream {}: publishing record {}: {} (no quorum?)", js_.stream, seq,
                                                    nats_error(s, jerr)));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));   // the client reconnects; a leader is elected
    }
  }

  // First, so destroyed last: the context's error handler may count into it until the context is gone.
  std::unique_ptr<std::atomic<int>> async_errors_;
  std::unique_ptr<EventLog> replica_;
  std::filesystem::path file_;
  JetStreamOptions js_;
  NatsPtr<natsConnection> nc_;
  NatsPtr<jsCtx> ctx_;
  NatsPtr<kvStore> keys_;
  std::string body_;
  bool behind_ = false;   // the replica may lack records the stream holds: catch up before publishing
};

/// Creates the stream, or checks the one there. Retries while the cluster elects its leaders.
Status ensure_stream(jsCtx* js, const JetStreamOptions& o) {
  const char* subjects[] = {o.subject.c_str()};
  jsStreamConfig sc;
  jsStreamConfig_Init(&sc);
  sc.Name = o.stream.c_str();
  sc.Subjects = subjects;
  sc.SubjectsLen = 1;
  sc.Storage = js_FileStorage;
  sc.Replicas = o.replicas;
  sc.Retention = js_LimitsPolicy;   // a log: nothing expires, nothing is deleted
  sc.DenyDelete = true;
  sc.DenyPurge = true;
  const auto deadline = std::chrono::steady_clock::now() + o.timeout;
  for (;;) {
    jsStreamInfo* raw = nullptr;
    jsErrCode jerr{};
    natsStatus s = js_GetStreamInfo(&raw, js, o.stream.c_str(), nullptr, &jerr);
    if (s == NATS_OK) {
      NatsPtr<jsStreamInfo> info(raw);
      if (info->Config->SubjectsLen != 1 || std::string_view(info->Config->Subjects[0]) != o.subject) {
        return Error(Errc::config_invalid, fmt::format("stream {} exists with other subjects than {}", o.stream, o.subject));
      }
      return Ok{};
    }
    if (s == NATS_NOT_FOUND || jerr == JSStreamNotFoundErr) {
      s = js_AddStream(&raw, js, &sc, nullptr, &jerr);
      if (s == NATS_OK) {
        jsStreamInfo_Destroy(raw);
        return Ok{};
      }
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return Error(Errc::unavailable, fmt::format("stream {}: cannot create or find it: {}", o.stream, nats_error(s, jerr)));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

Result<NatsPtr<kvStore>> ensure_key_bucket(jsCtx* js, const JetStreamOptions& o) {
  const std::string bucket = o.stream + "_KEYS";
  kvConfig kc;
  kvConfig_Init(&kc);
  kc.Bucket = bucket.c_str();
  kc.History = 1;
  kc.StorageType = js_FileStorage;
  kc.Replicas = o.replicas;
  const auto deadline = std::chrono::steady_clock::now() + o.timeout;
  for (;;) {
    kvStore* raw = nullptr;
    natsStatus s = js_KeyValue(&raw, js, bucket.c_str());
    if (s != NATS_OK) s = js_CreateKeyValue(&raw, js, &kc);
    if (s == NATS_OK) return NatsPtr<kvStore>(raw);
    if (std::chrono::steady_clock::now() >= deadline) {
      return Error(Errc::unavailable, fmt::format("key bucket {}: cannot create or find it: {}", bucket, nats_error(s)));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

}  // namespace

Result<std::unique_ptr<EventLog>> open_jetstream_event_log(const std::filesystem::path& file,
                                                           const JetStreamOptions& js, const LogOptions& options,
                                                           const Clock& clock, CommitObserver* observer) {
  if (js.servers.empty()) return Error(Errc::config_invalid, "[log] servers: needs at least one nats:// URL");
  auto replica = open_event_log(file, options, clock, observer);
  if (!replica) return replica.error();

  natsOptions* raw_opts = nullptr;
  if (natsOptions_Create(&raw_opts) != NATS_OK) return Error(Errc::unavailable, "nats: cannot create options");
  NatsPtr<natsOptions> opts(raw_opts);
  std::vector<const char*> urls;
  for (const auto& s : js.servers) urls.push_back(s.c_str());
  natsStatus s = natsOptions_SetServers(raw_opts, urls.data(), static_cast<int>(urls.size()));
  if (s == NATS_OK) s = natsOptions_SetMaxReconnect(raw_opts, -1);   // a node's loss is ridden out, not fatal
  if (s == NATS_OK) s = natsOptions_SetReconnectWait(raw_opts, 100);
  if (s == NATS_OK) s = natsOptions_SetTimeout(raw_opts, js.timeout.count());
  if (s == NATS_OK && !js.credentials.empty()) {
    s = natsOptions_SetUserCredentialsFromFiles(raw_opts, js.credentials.c_str(), nullptr);
  }
  if (s != NATS_OK) return Error(Errc::config_invalid, fmt::format("[log] nats options: {}", nats_error(s)));
  natsConnection* raw_nc = nullptr;
  s = natsConnection_Connect(&raw_nc, raw_opts);
  if (s != NATS_OK) {
    return Error(Errc::unavailable, fmt::format("nats: cannot connect to {}: {}", fmt::join(js.servers, ","), nats_error(s)));
  }
  NatsPtr<natsConnection> nc(raw_nc);
  auto async_errors = std::make_unique<std::atomic<int>>(0);
  jsOptions jo;
  jsOptions_Init(&jo);
  jo.Wait = std::max<std::int64_t>(1000, js.timeout.count() / 4);   // one request; publish retries within js.timeout
  jo.PublishAsync.ErrHandler = count_async_error;
  jo.PublishAsync.ErrHandlerClosure = async_errors.get();
  jsCtx* raw_js = nullptr;
  if (s = natsConnection_JetStream(&raw_js, nc.get(), &jo); s != NATS_OK) {
    return Error(Errc::unavailable, fmt::format("nats: JetStream context: {}", nats_error(s)));
  }
  NatsPtr<jsCtx> ctx(raw_js);
  if (auto st = ensure_stream(ctx.get(), js); !st) return st.error();
  auto keys = ensure_key_bucket(ctx.get(), js);
  if (!keys) return keys.error();
  auto log = std::make_unique<JetStreamEventLog>(std::move(replica.value()), file, js, std::move(nc), std::move(ctx),
                                                 std::move(keys.value()), std::move(async_errors));
  if (auto st = log->catch_up(); !st) return st.error();
  return std::unique_ptr<EventLog>(std::move(log));
}

namespace {

/// The seq of the record a key id belongs to ("T00000042" or "R00000042": the ticket or record made
/// by record 42); 0: another kind of key (a dead letter's).
std::uint64_t key_owner_seq(std::string_view key_id) {
  if (key_id.size() < 2 || (key_id[0] != 'T' && key_id[0] != 'R')) return 0;
  std::uint64_t seq = 0;
  for (char c : key_id.substr(1)) {
    if (c < '0' || c > '9') return 0;
    seq = seq * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return seq;
}

/// Every record body of a log file from seq 1, in order, to `fn`.
Status each_body(const std::filesystem::path& file, const std::function<Status(std::uint64_t, std::string_view)>& fn) {
  auto reader = LogReader::open(file);
  if (!reader) return reader.error();
  Status failed = Ok{};
  for (std::uint64_t next = 1;;) {
    auto n = reader->read(next, 1000, [&](std::uint64_t seq, std::string_view body) {
      if (failed.ok()) failed = fn(seq, body);
    });
    if (!n) return n.error();
    if (!failed) return failed;
    if (n.value() == 0) return Ok{};
    next += n.value();
  }
}

}  // namespace

Result<MigrationReport> migrate_to_jetstream(const std::filesystem::path& from, const JetStreamOptions& js,
                                             const std::filesystem::path& work_dir, const Clock& clock) {
  // What storage keeps beside the records: change keys by seq, and the keys of tickets and records.
  auto db = sqlite::Database::open(from, sqlite::OpenMode::kReadOnly);
  if (!db) return db.error();
  std::unordered_map<std::uint64_t, std::string> change_keys;
  std::unordered_map<std::uint64_t, std::vector<KeyOp>> keys;
  MigrationReport report;
  {
    auto st = db->prepare("SELECT key, seq FROM change_keys");
    if (!st) return st.error();
    for (;;) {
      auto row = st->step();
      if (!row) return row.error();
      if (!row.value()) break;
      change_keys[static_cast<std::uint64_t>(st->column_int(1))] = std::string(st->column_text(0));
    }
    auto kt = db->prepare("SELECT key_id, key FROM pii_keys");
    if (!kt) return kt.error();
    for (;;) {
      auto row = kt->step();
      if (!row) return row.error();
      if (!row.value()) break;
      const std::string id(kt->column_text(0));
      const auto blob = kt->column_blob(1);
      const std::uint64_t owner = key_owner_seq(id);
      PiiKey key{};
      if (owner == 0 || blob.size() != key.size()) continue;   // dead letters' keys stay with them
      std::memcpy(key.data(), blob.data(), key.size());
      keys[owner].push_back(KeyOp{id, key});
      ++report.keys;
    }
  }
  const auto scratch = work_dir / "migrate-scratch.db";
  const auto check = work_dir / "migrate-check.db";
  for (const auto& f : {scratch, check}) {
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(f.string() + suffix);
  }
  {
    auto log = open_jetstream_event_log(scratch, js, LogOptions{}, clock);
    if (!log) return log.error();
    if (const auto head = log.value()->head_seq(); head != 0) {
      return Error(Errc::storage_failed, fmt::format("stream {} is not empty ({} records): migrate copies a log into "
                                                     "an empty stream only", js.stream, head));
    }
    std::vector<Write> batch;
    auto flush = [&]() -> Status {
      if (batch.empty()) return Ok{};
      auto s = log.value()->append(batch);
      batch.clear();
      return s;
    };
    Status s = each_body(from, [&](std::uint64_t seq, std::string_view body) -> Status {
      DecidedRecord w;
      if (!w.record.ParseFromArray(body.data(), static_cast<int>(body.size())) || w.record.seq() != seq) {
        return Error(Errc::storage_failed, fmt::format("{}: log record {} does not parse", from.string(), seq));
      }
      if (auto it = change_keys.find(seq); it != change_keys.end()) {
        w.change_key = it->second;
        w.replaces_change_key = true;   // the latest erasure of a ticket holds its key; an earlier one need not
      }
      if (auto it = keys.find(seq); it != keys.end()) w.keys = std::move(it->second);
      batch.push_back(std::move(w));
      ++report.records;
      return batch.size() >= 500 ? flush() : Status{Ok{}};
    });
    if (!s) return s.error();
    if (auto f = flush(); !f) return f.error();
  }
  // Verified from the stream alone: a replica rebuilt from it must hold the same bytes.
  {
    auto rebuilt = open_jetstream_event_log(check, js, LogOptions{}, clock);
    if (!rebuilt) return rebuilt.error();
  }
  std::vector<std::string> source;
  if (auto s = each_body(from, [&](std::uint64_t, std::string_view body) -> Status {
        source.emplace_back(body);
        return Ok{};
      });
      !s) {
    return s.error();
  }
  std::uint64_t compared = 0;
  if (auto s = each_body(check, [&](std::uint64_t seq, std::string_view body) -> Status {
        if (seq > source.size() || source[seq - 1] != body) {
          return Error(Errc::storage_failed, fmt::format("stream {}: record {} differs from {}'s", js.stream, seq,
                                                         from.string()));
        }
        ++compared;
        return Ok{};
      });
      !s) {
    return s.error();
  }
  if (compared != source.size()) {
    return Error(Errc::storage_failed, fmt::format("stream {} holds {} records, {} holds {}", js.stream, compared,
                                                   from.string(), source.size()));
  }
  for (const auto& f : {scratch, check}) {
    for (const char* suffix : {"", "-wal", "-shm", "-writer.lock"}) std::filesystem::remove(f.string() + suffix);
  }
  return report;
}

}  // namespace gridhub::log
