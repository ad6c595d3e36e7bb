#include "gridhub/log/event_log.hpp"

#include <algorithm>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <optional>

#include <fmt/format.h>
#include <google/protobuf/util/message_differencer.h>

#include "chain_source.hpp"
#include "intake_key_filter.hpp"
#include "gridhub/log/pii_vault.hpp"
#include "gridhub/log/wire_scan.hpp"
#include "gridhub/sqlite/sqlite.hpp"
#include "log_identity.hpp"
#include "schema.hpp"
#include "wal_checkpointer.hpp"

namespace gridhub::log {
namespace {

using sqlite::Database;
using sqlite::Statement;
using detail::IntakeKeyFilter;

constexpr std::string_view kKindIntake = "intake_accepted";

/// The single writer's lock: an exclusive flock on FILE-writer.lock for the writer's lifetime (a
/// separate file, because a second descriptor on the database itself would drop SQLite's own POSIX
/// locks when closed). SQLite's locks last one transaction; this one says "a writer owns the head".
class WriterLock {
 public:
  static Result<WriterLock> take(const std::filesystem::path& db_file) {
    const std::string name = db_file.string() + "-writer.lock";
    const int fd = ::open(name.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) return Error(Errc::io_failed, fmt::format("{}: cannot open the writer lock", name));
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      ::close(fd);
      return Error(Errc::unavailable,
                   fmt::format("{}: another writer (a running hub?) holds {}; stop it first", db_file.string(), name));
    }
    return WriterLock(fd);
  }
  WriterLock(WriterLock&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  WriterLock& operator=(WriterLock&& o) noexcept {
    std::swap(fd_, o.fd_);
    return *this;
  }
  ~WriterLock() {
    if (fd_ >= 0) ::close(fd_);
  }

 private:
  explicit WriterLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

/// Version 1 -> 2: adds `log.hash` and chains the existing records, in one transaction.
Status migrate_v1_to_v2(Database& db) {
  sqlite::Transaction tx(db);
  if (!tx.begun().ok()) return tx.begun();
  if (auto s = db.exec(detail::kMigrateV1ToV2); !s) return s;
  auto select = db.prepare("SELECT seq, recorded_at, body FROM log WHERE seq > ? ORDER BY seq LIMIT 1000");
  if (!select) return select.error();
  auto update = db.prepare("UPDATE log SET hash = ? WHERE seq = ?");
  if (!update) return update.error();
  ChainHasher hasher;
  ChainHash prev = kChainGenesis;
  std::int64_t last = 0;
  // Chunks read to memory, then written: no UPDATE runs while a SELECT on the same table is open.
  std::vector<std::pair<std::int64_t, ChainHash>> chunk;
  for (;;) {
    chunk.clear();
    select->bind(1, last);
    for (;;) {
      auto row = select->step();
      if (!row) return row.error();
      if (!row.value()) break;
      const std::int64_t seq = select->column_int(0);
      ChainHash h{};
      if (!hasher.next(prev, static_cast<std::uint64_t>(seq), select->column_int(1), select->column_blob(2), h)) {
        select->reset();
        return Error(Errc::storage_failed, "SHA-256 failed while migrating the log");
      }
      chunk.emplace_back(seq, h);
      prev = h;
    }
    select->reset();
    if (chunk.empty()) break;
    for (const auto& [seq, h] : chunk) {
      update->bind_blob(1, std::string_view(reinterpret_cast<const char*>(h.data()), h.size())).bind(2, seq);
      if (auto s = update->run(); !s) return s;
    }
    last = chunk.back().first;
  }
  if (auto s = db.exec("PRAGMA user_version=2"); !s) return s;
  return tx.commit();
}

Status init_schema(Database& db, Durability durability) {
  // WAL: readers (streams, auditors) never block the writer. FULL: COMMIT fsyncs the WAL, so an ack
  // given after COMMIT survives power loss; group commit amortises that fsync over a batch.
  auto mode = db.query_text("PRAGMA journal_mode=WAL");
  if (!mode) return mode.error();
  if (mode.value() != "wal") {
    return Error(Errc::storage_failed, fmt::format("{}: cannot switch to WAL (got '{}')", db.file().string(), mode.value()));
  }
  if (auto s = db.exec(durability == Durability::kFull ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL"); !s) {
    return s;
  }
  auto version = db.query_int("PRAGMA user_version");
  if (!version) return version.error();
  if (version.value() > detail::kSchemaVersion) {
    return Error(Errc::storage_failed,
                 fmt::format("{}: log schema version {} is newer than this gridhub understands ({}); upgrade gridhub",
                             db.file().string(), version.value(), detail::kSchemaVersion));
  }
  if (version.value() == 1) {
    if (auto s = migrate_v1_to_v2(db); !s) {
      return Error(Errc::storage_failed, fmt::format("{}: migration to log schema 2 failed: {}", db.file().string(),
                                                     s.error().message()));
    }
  }
  if (auto s = db.exec(detail::kCreateSchema); !s) return s;
  // A destroyed PII key (and any freed page) is overwritten with zeros, not left in the file.
  if (auto s = db.exec("PRAGMA secure_delete=ON"); !s) return s;
  return db.exec(fmt::format("PRAGMA user_version={}", detail::kSchemaVersion));
}

/// Writes a ticket's current state into the projection.
class ProjectionWriter {
 public:
  static Result<ProjectionWriter> prepare(Database& db) {
    auto st = db.prepare(
        "INSERT INTO tickets(ticket_id, created_seq, last_seq, status, category_code, community_code, grid_code, tier,"
        " assignee_code, body) VALUES(?,?,?,?,?,?,?,?,?,?)"
        " ON CONFLICT(ticket_id) DO UPDATE SET last_seq=excluded.last_seq, status=excluded.status,"
        " category_code=excluded.category_code, community_code=excluded.community_code, grid_code=excluded.grid_code,"
        " tier=excluded.tier, assignee_code=excluded.assignee_code, body=excluded.body");
    if (!st) return st.error();
    return ProjectionWriter(std::move(st.value()));
  }

  Status put(const gridhub::v1::Ticket& t, std::uint64_t created_seq, std::string& scratch) {
    scratch.clear();
    t.SerializeToString(&scratch);
    stmt_.bind(1, t.ticket_id())
        .bind(2, static_cast<std::int64_t>(created_seq))
        .bind(3, static_cast<std::int64_t>(t.version()))
        .bind(4, static_cast<std::int64_t>(t.status()))
        .bind(5, t.category_code())
        .bind(6, t.community_code())
        .bind(7, t.grid_code())
        .bind(8, static_cast<std::int64_t>(t.tier()))
        .bind(9, t.assignee_code())
        .bind_blob(10, scratch);
    return stmt_.run();
  }

 private:
  explicit ProjectionWriter(Statement st) : stmt_(std::move(st)) {}
  Statement stmt_;
};

/// The statements the writer's connection keeps prepared.
struct WriterStatements {
  Statement insert_log;
  Statement find_intake;
  Statement insert_dead;
  Statement find_dead;
  Statement load_ticket;
  Statement load_record;
  Statement upsert_cursor;
  Statement find_change;
  Statement insert_change;
  Statement replace_change;
};

class SqliteEventLogImpl final : public EventLog {
 public:
  SqliteEventLogImpl(Database db, WriterStatements st, ProjectionWriter projection, std::uint64_t head,
                     const ChainHash& head_hash, const Clock& clock, CommitObserver* observer, bool commits_synced,
                     WriterLock lock, PiiKeyStore keys, IntakeKeyFilter intake_filter)
      : db_(std::move(db)),
        chain_source_(db_, commits_synced),
        st_(std::move(st)),
        projection_(std::move(projection)),
        head_(head),
        head_hash_(head_hash),
        clock_(clock),
        observer_(observer),
        intake_filter_(std::move(intake_filter)),
        keys_(std::move(keys)),
        lock_(std::move(lock)) {}

  ~SqliteEventLogImpl() override {
    if (observer_opened_) observer_->on_close(ChainLink{head_, head_hash_}, clock_.now_micros());
  }

  /// Lets the observer check the log before anything is written; a restored copy the operator
  /// accepted starts a new timeline (gridhub/log/log_identity.hpp).
  Status open_observer() {
    if (observer_ == nullptr) return Ok{};
    const std::int64_t now = clock_.now_micros();
    auto verdict = observer_->on_open(ChainLink{head_, head_hash_}, chain_source_, now);
    if (!verdict) return verdict.error();
    observer_opened_ = true;
    if (verdict.value() == OpenVerdict::kRestored) {
      auto t = detail::fork_timeline(db_, head_ + 1, now);
      if (!t) return t.error();
    }
    return Ok{};
  }

  /// Checkpoints the WAL on a thread of its own from now on (wal_checkpointer.hpp).
  Status checkpoint_beside() {
    auto wal = detail::WalCheckpointer::start(db_);
    if (!wal) return wal.error();
    wal_ = std::move(wal.value());
    return Ok{};
  }

  std::uint64_t head_seq() const override { return head_; }

  Status append(std::span<const Write> writes) override {
    // Fencing: the records must continue this head, in order, before anything is written.
    std::uint64_t expected = head_ + 1;
    for (const auto& w : writes) {
      if (const auto* r = std::get_if<DecidedRecord>(&w)) {
        if (r->record.seq() != expected) {
          return Error(Errc::storage_failed, fmt::format("{}: refused a batch whose record {} does not continue the "
                                                         "head (expected seq {})", db_.file().string(),
                                                         r->record.seq(), expected));
        }
        ++expected;
      }
    }
    const std::uint64_t head_before = head_;
    const ChainHash hash_before = head_hash_;
    links_.clear();
    auto undo = [&] {
      head_ = head_before;   // the transaction rolls back; so does the head, its chain link and the keys
      head_hash_ = hash_before;
      keys_.clear_cache();
    };
    sqlite::Transaction tx(db_);
    if (!tx.begun().ok()) return tx.begun();
    for (const auto& w : writes) {
      Status s = std::visit([&](const auto& it) { return store(it); }, w);
      if (!s) {
        undo();
        return s;
      }
    }
    if (auto s = tx.commit(); !s) {
      undo();
      return s;
    }
    // After the commit: a checkpoint never attests data that could still roll back.
    if (observer_ != nullptr && !links_.empty()) observer_->on_commit(links_, clock_.now_micros());
    return Ok{};
  }

  Result<std::uint64_t> find_intake(int channel, std::string_view source_key) override {
    // Most intake keys are new: the filter says so without descending the index (intake_key_filter.hpp).
    if (!intake_filter_.may_contain(channel, source_key)) return std::uint64_t{0};
    return find_seq(st_.find_intake.bind(1, static_cast<std::int64_t>(channel)).bind(2, source_key));
  }

  Result<bool> has_dead_letter(int channel, std::string_view source_key) override {
    auto& st = st_.find_dead;
    st.bind(1, static_cast<std::int64_t>(channel)).bind(2, source_key);
    auto row = st.step();
    st.reset();
    if (!row) return row.error();
    return row.value();
  }

  Result<std::uint64_t> find_change(std::string_view key) override { return find_seq(st_.find_change.bind(1, key)); }

  Result<std::optional<PiiKey>> load_key(std::string_view key_id) override { return keys_.load(key_id); }

  Result<StoredTicket> load_ticket(const std::string& ticket_id) override {
    StoredTicket out;
    gridhub::v1::Ticket row;
    std::int64_t last_seq = 0;
    const char* column = nullptr;
    {
      auto& load = st_.load_ticket;
      load.bind(1, ticket_id);
      auto found = load.step();
      if (!found) {
        load.reset();
        return found.error();
      }
      if (!found.value()) {
        load.reset();
        return out;
      }
      last_seq = load.column_int(0);
      auto body = load.column_blob(7);
      row_body_.assign(body.data(), body.size());   // compared with the log's state below
      if (!row.ParseFromArray(body.data(), static_cast<int>(body.size()))) {
        column = "body";
      } else if (load.column_int(1) != row.status()) {
        column = "status";
      } else if (load.column_text(2) != row.category_code()) {
        column = "category_code";
      } else if (load.column_text(3) != row.community_code()) {
        column = "community_code";
      } else if (load.column_text(4) != row.grid_code()) {
        column = "grid_code";
      } else if (load.column_int(5) != row.tier()) {
        column = "tier";
      } else if (load.column_text(6) != row.assignee_code()) {
        column = "assignee_code";
      }
      load.reset();
    }
    auto& record = st_.load_record;
    record.bind(1, last_seq);
    auto found = record.step();
    if (!found) {
      record.reset();
      return found.error();
    }
    bool logged = false;
    if (found.value()) {
      auto body = record.column_blob(0);
      logged = checked_.ParseFromArray(body.data(), static_cast<int>(body.size()));
    }
    record.reset();
    const ProjectionStep step = logged ? projection_step(checked_) : ProjectionStep{};
    if (step.ticket == nullptr || checked_.ticket_id() != ticket_id) {
      out.ticket = std::move(row);
      out.mismatch = fmt::format("the tickets row of {} names log record {} as its last change, but that record "
                                 "leaves no state for {}", ticket_id, last_seq, ticket_id);
      return out;
    }
    out.ticket = *step.ticket;
    out.seq = static_cast<std::uint64_t>(last_seq);
    if (column == nullptr && !projection_body_holds(row_body_, *step.ticket, scratch_ticket_, parsed_ticket_)) {
      column = "body";
    }
    if (column != nullptr) {
      out.mismatch = fmt::format("the tickets row of {} disagrees with log record {} (column {}): the projection "
                                 "was changed outside the hub", ticket_id, last_seq, column);
    }
    return out;
  }

 private:
  static Result<std::uint64_t> find_seq(Statement& st) {
    auto row = st.step();
    if (!row) {
      st.reset();
      return row.error();
    }
    const std::uint64_t seq = row.value() ? static_cast<std::uint64_t>(st.column_int(0)) : 0;
    st.reset();
    return seq;
  }

  Status store_keys(const std::vector<KeyOp>& keys) {
    for (const auto& op : keys) {
      if (op.key) {
        if (auto s = keys_.put(op.key_id, *op.key); !s) return s;
      } else if (auto d = keys_.destroy(op.key_id); !d) {
        return d.error();
      }
    }
    return Ok{};
  }

  /// The one path of every chained record: serialize -> hash -> insert -> index -> project.
  Status store(const DecidedRecord& w) {
    const auto& record = w.record;
    const std::uint64_t seq = record.seq();
    const std::int64_t at = record.recorded_at().unix_micros();
    // Keys first: a record sealed under a key is never stored without it.
    if (auto s = store_keys(w.keys); !s) return s;
    body_.clear();
    record.SerializeToString(&body_);
    ChainHash hash{};
    if (!hasher_.next(head_hash_, seq, at, body_, hash)) {
      return Error(Errc::storage_failed, fmt::format("log record {}: SHA-256 failed", seq));
    }
    auto& insert = st_.insert_log;
    insert.bind(1, static_cast<std::int64_t>(seq)).bind(2, at).bind(3, record_kind(record));
    if (record.ticket_id().empty()) {
      insert.bind_null(4);
    } else {
      insert.bind(4, record.ticket_id());
    }
    if (record.has_intake_accepted()) {   // the unique (channel, source_key) of an intake event
      const auto& ev = record.intake_accepted().event();
      insert.bind(5, static_cast<std::int64_t>(ev.channel())).bind(6, ev.source_key());
      // Before the insert runs: a key that might be stored is never reported absent. If the transaction
      // rolls back, the fingerprint stays as a harmless "maybe".
      intake_filter_.add(ev.channel(), ev.source_key());
    } else {
      insert.bind_null(5).bind_null(6);   // changes come from no channel (verify checks these columns are empty)
    }
    insert.bind_blob(7, body_).bind_blob(8, std::string_view(reinterpret_cast<const char*>(hash.data()), hash.size()));
    if (auto s = insert.run(); !s) {
      return Error(Errc::storage_failed, fmt::format("log record {}: {}", seq, s.error().message()));
    }
    if (!w.change_key.empty()) {
      auto& index = w.replaces_change_key ? st_.replace_change : st_.insert_change;
      index.bind(1, w.change_key).bind(2, static_cast<std::int64_t>(seq));
      if (auto s = index.run(); !s) return s;
    }
    if (const ProjectionStep step = projection_step(record); step.ticket != nullptr) {
      if (auto s = projection_.put(*step.ticket, step.creates ? seq : 0, scratch_); !s) return s;
    }
    head_ = seq;
    head_hash_ = hash;
    if (observer_ != nullptr) links_.push_back(ChainLink{seq, hash});
    return Ok{};
  }

  Status store(const DeadLetterWrite& w) {
    if (auto s = store_keys(w.keys); !s) return s;
    const auto& dl = w.letter;
    auto& insert = st_.insert_dead;
    insert.bind(1, w.recorded_at).bind(2, dl.adapter_id).bind(3, static_cast<std::int64_t>(dl.channel));
    if (dl.source_key.empty()) {
      insert.bind_null(4);
    } else {
      insert.bind(4, dl.source_key);
    }
    insert.bind(5, dl.reason_code).bind(6, dl.field).bind(7, dl.detail).bind(8, dl.location).bind_blob(9, dl.payload);
    return insert.run();
  }

  Status store(const CursorWrite& w) {
    const auto& c = w.cursor;
    st_.upsert_cursor.bind(1, c.name).bind(2, c.identity).bind(3, static_cast<std::int64_t>(c.acked_seq)).bind(4, w.updated_at);
    return st_.upsert_cursor.run();
  }

  Database db_;
  detail::SqliteChainSource chain_source_;
  bool observer_opened_ = false;
  WriterStatements st_;
  ProjectionWriter projection_;
  std::uint64_t head_;
  ChainHash head_hash_;
  const Clock& clock_;
  CommitObserver* observer_;
  ChainHasher hasher_;
  std::vector<ChainLink> links_;   // this commit's records, for the observer; capacity reused
  IntakeKeyFilter intake_filter_;  // every stored (channel, source_key), fingerprinted
  std::string body_;
  std::string scratch_;
  gridhub::v1::LogRecord checked_;         // load_ticket's scratch
  std::string row_body_;                   // likewise
  std::string scratch_ticket_;             // likewise
  gridhub::v1::Ticket parsed_ticket_;      // likewise
  // Declared after db_, so destroyed before it: the key store's statements are finalized before the
  // connection closes. The lock is released a moment before the connection closes, when nothing more
  // is written.
  PiiKeyStore keys_;
  WriterLock lock_;
  // Last, so first to go: it unhooks the connection before anything else is torn down.
  std::unique_ptr<detail::WalCheckpointer> wal_;
};

/// Every stored intake key, read from the unique index alone (it covers both columns; the records'
/// bodies are not read).
Result<IntakeKeyFilter> load_intake_filter(Database& db, const LogOptions& options) {
  IntakeKeyFilter filter(options.intake_fingerprint);
  auto all = db.prepare("SELECT channel, source_key FROM log INDEXED BY log_intake_key WHERE source_key IS NOT NULL");
  if (!all) return all.error();
  for (;;) {
    auto row = all->step();
    if (!row) return row.error();
    if (!row.value()) break;
    filter.add(static_cast<int>(all->column_int(0)), all->column_text(1));
  }
  return filter;
}

}  // namespace

std::string ticket_id_for_seq(std::uint64_t seq) { return fmt::format("T{:08d}", seq); }

std::string_view record_kind(const gridhub::v1::LogRecord& record) {
  switch (record.body_case()) {
    case gridhub::v1::LogRecord::kIntakeAccepted: return kKindIntake;
    case gridhub::v1::LogRecord::kTicketUpdate: return "ticket_update";
    case gridhub::v1::LogRecord::kEscalation: return "escalation";
    case gridhub::v1::LogRecord::kErasure: return "erasure";
    case gridhub::v1::LogRecord::kHotspot: return "hotspot";
    case gridhub::v1::LogRecord::BODY_NOT_SET: return "unknown";
  }
  return "unknown";
}

const gridhub::v1::Ticket* record_ticket(const gridhub::v1::LogRecord& record) {
  switch (record.body_case()) {
    case gridhub::v1::LogRecord::kIntakeAccepted:
      return record.intake_accepted().has_ticket() ? &record.intake_accepted().ticket() : nullptr;
    case gridhub::v1::LogRecord::kTicketUpdate:
      return record.ticket_update().has_ticket() ? &record.ticket_update().ticket() : nullptr;
    case gridhub::v1::LogRecord::kEscalation:
      return record.escalation().has_ticket() ? &record.escalation().ticket() : nullptr;
    case gridhub::v1::LogRecord::kErasure:
      return record.erasure().has_ticket() ? &record.erasure().ticket() : nullptr;
    case gridhub::v1::LogRecord::kHotspot:
      return record.hotspot().has_ticket() ? &record.hotspot().ticket() : nullptr;
    case gridhub::v1::LogRecord::BODY_NOT_SET: return nullptr;
  }
  return nullptr;
}

bool projection_body_holds(std::string_view body, const gridhub::v1::Ticket& state, std::string& scratch,
                           gridhub::v1::Ticket& parsed) {
  scratch.clear();
  state.SerializeToString(&scratch);
  if (scratch == body) return true;
  return parsed.ParseFromArray(body.data(), static_cast<int>(body.size())) &&
         google::protobuf::util::MessageDifferencer::Equals(parsed, state);
}

ProjectionStep projection_step(const gridhub::v1::LogRecord& record) {
  ProjectionStep step;
  step.ticket = record_ticket(record);
  step.creates = step.ticket != nullptr &&
                 ((record.has_intake_accepted() && record.intake_accepted().disposition() != gridhub::v1::DISPOSITION_MERGED) ||
                  (record.has_hotspot() && record.hotspot().action() == gridhub::v1::HOTSPOT_ACTION_OPENED));
  return step;
}

bool parse_record_ticket(std::string_view stored, gridhub::v1::Ticket& ticket, bool& has_ticket,
                         std::span<const std::uint32_t> only) {
  // For each kind of record (the body's fields), the number of its `ticket` field; from the schema.
  static const auto ticket_field = [] {
    std::vector<std::pair<std::uint64_t, std::uint64_t>> table;
    const auto* body = gridhub::v1::LogRecord::descriptor()->FindOneofByName("body");
    for (int i = 0; i < body->field_count(); ++i) {
      const auto* kind = body->field(i);
      const auto* t = kind->message_type()->FindFieldByName("ticket");
      if (t != nullptr && t->message_type() == gridhub::v1::Ticket::descriptor()) {
        table.emplace_back(static_cast<std::uint64_t>(kind->number()), static_cast<std::uint64_t>(t->number()));
      }
    }
    return table;
  }();
  has_ticket = false;
  std::string_view found;
  const bool ok = wire::for_each_field(stored, [&](std::uint32_t n, int type, std::uint64_t, std::string_view body) {
    if (type != 2) return true;
    for (const auto& [kind, number] : ticket_field) {
      if (n != kind) continue;
      return wire::for_each_field(body, [&](std::uint32_t bn, int bt, std::uint64_t, std::string_view b) {
        if (bn == number && bt == 2) {
          found = b;   // the last occurrence wins, as in a parse (a record has one)
          has_ticket = true;
        }
        return true;
      });
    }
    return true;
  });
  if (!ok) return false;
  if (!has_ticket) return true;
  if (only.empty()) return ticket.ParseFromArray(found.data(), static_cast<int>(found.size()));
  // The wanted fields' encodings, in their order, make a smaller ticket that parses to just them.
  thread_local std::string wanted;
  wanted.clear();
  wire::Field f;
  for (std::string_view rest = found; !rest.empty();) {
    if (!wire::next(rest, f)) return false;
    if (std::binary_search(only.begin(), only.end(), f.number)) wanted += f.whole;
  }
  return ticket.ParseFromArray(wanted.data(), static_cast<int>(wanted.size()));
}

Result<std::unique_ptr<EventLog>> open_event_log(const std::filesystem::path& file, const LogOptions& options,
                                                 const Clock& clock, CommitObserver* observer) {
  if (file.has_parent_path()) {
    std::error_code ec;
    std::filesystem::create_directories(file.parent_path(), ec);
    if (ec) return Error(Errc::io_failed, fmt::format("{}: cannot create folder: {}", file.parent_path().string(), ec.message()));
  }
  auto lock = WriterLock::take(file);
  if (!lock) return lock.error();
  auto db = Database::open(file, sqlite::OpenMode::kReadWrite);
  if (!db) return db.error();
  if (auto s = init_schema(db.value(), options.durability); !s) return s.error();
  if (auto s = detail::ensure_log_identity(db.value(), clock.now_micros()); !s) return s.error();
  auto head = db->query_int("SELECT coalesce(max(seq), 0) FROM log");
  if (!head) return head.error();
  ChainHash head_hash = kChainGenesis;
  if (head.value() > 0) {
    auto last = db->prepare("SELECT hash FROM log WHERE seq = ?");
    if (!last) return last.error();
    last->bind(1, head.value());
    auto row = last->step();
    if (!row) return row.error();
    auto h = row.value() ? chain_hash_from_blob(last->column_blob(0)) : std::nullopt;
    if (!h) {
      return Error(Errc::storage_failed, fmt::format("{}: log record {} has no valid chain hash; run gridhubctl verify",
                                                     file.string(), head.value()));
    }
    head_hash = *h;
  }
  Status failed = Ok{};
  auto prepare = [&](const char* sql) {
    auto st = db->prepare(sql);
    if (!st) {
      if (failed.ok()) failed = st.error();
      return Statement::null();
    }
    return std::move(st.value());
  };
  // Plain INSERTs: the sequencer has decided every duplicate; a unique key that is taken anyway fails
  // the batch rather than being dropped silently.
  WriterStatements st{
      .insert_log = prepare("INSERT INTO log(seq, recorded_at, kind, ticket_id, channel, source_key, body, hash)"
                            " VALUES(?,?,?,?,?,?,?,?)"),
      .find_intake = prepare("SELECT seq FROM log WHERE channel=? AND source_key=?"),
      .insert_dead = prepare("INSERT INTO dead_letters(recorded_at, adapter_id, channel, source_key, reason_code,"
                             " field, detail, location, payload) VALUES(?,?,?,?,?,?,?,?,?)"),
      .find_dead = prepare("SELECT 1 FROM dead_letters WHERE channel=? AND source_key=?"),
      // The row, its derived columns (checked against its body) and the record it names (load_ticket).
      .load_ticket = prepare("SELECT last_seq, status, coalesce(category_code,''), coalesce(community_code,''),"
                             " coalesce(grid_code,''), coalesce(tier,0), coalesce(assignee_code,''), body FROM tickets"
                             " WHERE ticket_id = ?"),
      .load_record = prepare("SELECT body FROM log WHERE seq = ?"),
      .upsert_cursor = prepare("INSERT INTO subscriptions(name, identity, acked_seq, updated_at) VALUES(?,?,?,?)"
                               " ON CONFLICT(name) DO UPDATE SET identity=excluded.identity,"
                               " acked_seq=excluded.acked_seq, updated_at=excluded.updated_at"),
      .find_change = prepare("SELECT seq FROM change_keys WHERE key = ?"),
      .insert_change = prepare("INSERT INTO change_keys(key, seq) VALUES(?,?)"),
      .replace_change = prepare("INSERT OR REPLACE INTO change_keys(key, seq) VALUES(?,?)"),
  };
  if (!failed) return failed.error();
  auto projection = ProjectionWriter::prepare(db.value());
  if (!projection) return projection.error();
  auto keys = PiiKeyStore::open(db->handle());
  if (!keys) return keys.error();
  auto intake_filter = load_intake_filter(db.value(), options);
  if (!intake_filter) return intake_filter.error();
  auto log = std::make_unique<SqliteEventLogImpl>(
      std::move(db.value()), std::move(st), std::move(projection.value()), static_cast<std::uint64_t>(head.value()),
      head_hash, clock, observer, options.durability == Durability::kFull, std::move(lock.value()),
      std::move(keys.value()), std::move(intake_filter.value()));
  if (auto s = log->open_observer(); !s) return s.error();
  if (auto s = log->checkpoint_beside(); !s) return s.error();
  return std::unique_ptr<EventLog>(std::move(log));
}

struct LogReader::Impl {
  Database db;
  Statement range;
  Statement cursor{Statement::null()};
  Statement at_time{Statement::null()};
  Statement ticket{Statement::null()};
  std::optional<PiiKeyStore> keys;   // opened at first use
};

LogReader::LogReader(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
LogReader::LogReader(LogReader&&) noexcept = default;
LogReader& LogReader::operator=(LogReader&&) noexcept = default;
LogReader::~LogReader() = default;

Result<LogReader> LogReader::open(const std::filesystem::path& file) {
  auto db = Database::open(file, sqlite::OpenMode::kReadOnly);
  if (!db) return db.error();
  auto range = db->prepare("SELECT seq, body FROM log WHERE seq >= ? ORDER BY seq LIMIT ?");
  if (!range) return range.error();
  auto impl = std::make_unique<Impl>(Impl{std::move(db.value()), std::move(range.value()), Statement::null(), Statement::null(), Statement::null(), std::nullopt});
  // A log written by an older gridhub has no subscriptions table until the hub opens it.
  auto cursor = impl->db.prepare("SELECT identity, acked_seq FROM subscriptions WHERE name = ?");
  if (cursor) impl->cursor = std::move(cursor.value());
  auto at_time = impl->db.prepare("SELECT seq FROM log WHERE recorded_at >= ? ORDER BY seq LIMIT 1");
  if (!at_time) return at_time.error();
  impl->at_time = std::move(at_time.value());
  auto ticket = impl->db.prepare("SELECT body FROM tickets WHERE ticket_id = ?");
  if (!ticket) return ticket.error();
  impl->ticket = std::move(ticket.value());
  return LogReader(std::move(impl));
}

Result<std::size_t> LogReader::read(std::uint64_t from_seq, std::size_t max,
                                    const std::function<void(std::uint64_t, std::string_view)>& fn) {
  auto& st = impl_->range;
  st.bind(1, static_cast<std::int64_t>(from_seq)).bind(2, static_cast<std::int64_t>(max));
  std::size_t n = 0;
  for (;;) {
    auto row = st.step();
    if (!row) {
      st.reset();
      return row.error();
    }
    if (!row.value()) break;
    fn(static_cast<std::uint64_t>(st.column_int(0)), st.column_blob(1));
    ++n;
  }
  st.reset();
  return n;
}

Result<std::uint64_t> LogReader::head_seq() {
  auto r = impl_->db.query_int("SELECT coalesce(max(seq), 0) FROM log");
  if (!r) return r.error();
  return static_cast<std::uint64_t>(r.value());
}

Result<std::pair<std::string, std::uint64_t>> LogReader::cursor(const std::string& name) {
  std::pair<std::string, std::uint64_t> out;
  auto& st = impl_->cursor;
  if (st.is_null()) return out;
  st.bind(1, name);
  auto row = st.step();
  if (!row) {
    st.reset();
    return row.error();
  }
  if (row.value()) {
    out.first = std::string(st.column_text(0));
    out.second = static_cast<std::uint64_t>(st.column_int(1));
  }
  st.reset();
  return out;
}

Result<std::uint64_t> LogReader::seq_at_time(std::int64_t unix_micros) {
  auto& st = impl_->at_time;
  st.bind(1, unix_micros);
  auto row = st.step();
  if (!row) {
    st.reset();
    return row.error();
  }
  std::uint64_t seq = 0;
  if (row.value()) seq = static_cast<std::uint64_t>(st.column_int(0));
  st.reset();
  if (seq == 0) {
    auto head = head_seq();
    if (!head) return head.error();
    seq = head.value() + 1;
  }
  return seq;
}

Result<gridhub::v1::Ticket> LogReader::ticket(const std::string& ticket_id) {
  auto& st = impl_->ticket;
  st.bind(1, ticket_id);
  gridhub::v1::Ticket t;
  auto row = st.step();
  if (!row) {
    st.reset();
    return row.error();
  }
  if (row.value()) {
    auto body = st.column_blob(0);
    t.ParseFromArray(body.data(), static_cast<int>(body.size()));
  }
  st.reset();
  return t;
}

Status LogReader::unseal(google::protobuf::Message& msg, const PiiPresentation& how) {
  if (!impl_->keys) {
    auto keys = PiiKeyStore::open(impl_->db.handle());
    if (!keys) return keys.error();
    impl_->keys.emplace(std::move(keys.value()));
  }
  return unseal_pii(msg, *impl_->keys, how);
}

Status LogReader::unseal_record(std::string_view stored, const PiiPresentation& how, std::string& out) {
  if (!impl_->keys) {
    auto keys = PiiKeyStore::open(impl_->db.handle());
    if (!keys) return keys.error();
    impl_->keys.emplace(std::move(keys.value()));
  }
  return unseal_pii_encoded(gridhub::v1::LogRecord::descriptor(), stored, *impl_->keys, how, out);
}

Status LogReader::for_each_ticket(const std::function<void(const gridhub::v1::Ticket&)>& fn) {
  auto st = impl_->db.prepare("SELECT body FROM tickets");
  if (!st) return st.error();
  gridhub::v1::Ticket t;
  for (;;) {
    auto row = st->step();
    if (!row) return row.error();
    if (!row.value()) break;
    auto body = st->column_blob(0);
    if (t.ParseFromArray(body.data(), static_cast<int>(body.size()))) fn(t);
  }
  return Ok{};
}

Result<std::uint64_t> rebuild_projection(const std::filesystem::path& file, Progress* progress) {
  auto lock = WriterLock::take(file);   // the hub must be stopped: it writes the projection too
  if (!lock) return lock.error();
  auto db = Database::open(file, sqlite::OpenMode::kReadWrite);
  if (!db) return db.error();
  sqlite::Transaction tx(db.value());
  if (!tx.begun().ok()) return tx.begun().error();
  if (auto s = db->exec("DELETE FROM tickets"); !s) return s.error();
  auto projection = ProjectionWriter::prepare(db.value());
  if (!projection) return projection.error();
  auto all = db->prepare("SELECT seq, body FROM log ORDER BY seq");
  if (!all) return all.error();
  if (progress != nullptr) {
    auto head = db->query_int("SELECT coalesce(max(seq), 0) FROM log");
    if (!head) return head.error();
    progress->set_total(static_cast<std::uint64_t>(head.value()));
  }
  gridhub::v1::LogRecord rec;
  std::string scratch;
  std::uint64_t tickets = 0;
  std::uint64_t last_seq = 0;
  for (;;) {
    auto row = all->step();
    if (!row) return row.error();
    if (!row.value()) break;
    const auto seq = static_cast<std::uint64_t>(all->column_int(0));
    auto body = all->column_blob(1);
    if (!rec.ParseFromArray(body.data(), static_cast<int>(body.size()))) {
      return Error(Errc::malformed_frame, fmt::format("{}: log record {} does not parse", file.string(), seq));
    }
    if (const ProjectionStep step = projection_step(rec); step.ticket != nullptr) {
      if (auto s = projection->put(*step.ticket, step.creates ? seq : 0, scratch); !s) return s.error();
      if (step.creates) ++tickets;
    }
    if (progress != nullptr) progress->update(seq);
    last_seq = seq;
  }
  if (progress != nullptr) progress->finish(last_seq);
  if (auto s = tx.commit(); !s) return s.error();
  return tickets;
}

}  // namespace gridhub::log
