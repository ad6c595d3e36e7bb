#include "gridhub/log/event_log.hpp"

#include <algorithm>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <optional>

#include <fmt/format.h>
#include <google/protobuf/util/message_differencer.h>
#include <spdlog/spdlog.h>

#include "chain_source.hpp"
#include "gridhub/log/pii_vault.hpp"
#include "gridhub/log/wire_scan.hpp"
#include "gridhub/sqlite/sqlite.hpp"
#include "log_identity.hpp"
#include "schema.hpp"

namespace gridhub::log {
namespace {

using sqlite::Database;
using sqlite::Statement;

constexpr std::string_view kKindIntake = "intake_accepted";
constexpr std::string_view kKindErasure = "erasure";

/// The key that seals a dead letter's payload: one per source record (channel, source_key), so that
/// erasing the ticket that record became destroys it too; a row without a key gets its own.
std::string dead_letter_key_id(int channel, std::string_view source_key, std::int64_t recorded_at) {
  return source_key.empty() ? fmt::format("D{}@{}", channel, recorded_at) : fmt::format("D{}/{}", channel, source_key);
}

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

class SqliteEventLogImpl final : public EventLog {
 public:
  SqliteEventLogImpl(Database db, Statement insert_log, Statement find_intake, Statement insert_dead,
                     ProjectionWriter projection, std::uint64_t head, const ChainHash& head_hash, const Clock& clock,
                     CommitObserver* observer, bool commits_synced)
      : db_(std::move(db)),
        chain_source_(db_, commits_synced),
        insert_log_(std::move(insert_log)),
        find_intake_(std::move(find_intake)),
        insert_dead_(std::move(insert_dead)),
        projection_(std::move(projection)),
        head_(head),
        head_hash_(head_hash),
        clock_(clock),
        observer_(observer) {}

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

  std::uint64_t head_seq() const override { return head_; }

  Status append(std::span<AppendItem> items, std::vector<AppendOutcome>& out) override {
    out.clear();
    out.reserve(items.size());
    const std::uint64_t head_before = head_;
    const ChainHash hash_before = head_hash_;
    links_.clear();
    sqlite::Transaction tx(db_);
    if (!tx.begun().ok()) return tx.begun();
    const std::int64_t now = clock_.now_micros();
    for (auto& item : items) {
      Result<AppendOutcome> r = std::visit([&](auto& it) { return put(it, now); }, item);
      if (!r) {
        head_ = head_before;  // the transaction rolls back; so do the seqs it took, and their chain links
        head_hash_ = hash_before;
        if (keys_) keys_->clear_cache();   // and the keys it created or destroyed
        out.clear();
        return r.error();
      }
      out.push_back(r.value());
    }
    if (auto s = tx.commit(); !s) {
      head_ = head_before;
      head_hash_ = hash_before;
      if (keys_) keys_->clear_cache();
      out.clear();
      return s;
    }
    // After the commit: a checkpoint never attests data that could still roll back.
    if (observer_ != nullptr && !links_.empty()) observer_->on_commit(links_, now);
    return Ok{};
  }

 private:
  Result<AppendOutcome> put(IntakeItem& item, std::int64_t now) {
    const auto& ev = item.body.event();
    const std::uint64_t seq = head_ + 1;
    if (hook_ != nullptr) {
      // A re-sent event must not reach the hook (it would count twice in the merger's memory).
      find_intake_.bind(1, static_cast<std::int64_t>(ev.channel())).bind(2, ev.source_key());
      auto known = find_intake_.step();
      if (!known) return known.error();
      if (known.value()) {
        AppendOutcome o{static_cast<std::uint64_t>(find_intake_.column_int(0)), true, false};
        find_intake_.reset();
        return o;
      }
      find_intake_.reset();
    }

    std::string new_id = ticket_id_for_seq(seq);
    auto* ticket = item.body.mutable_ticket();
    if (ticket->provenance_size() > 0) ticket->mutable_provenance(0)->set_log_seq(seq);
    item.body.set_disposition(gridhub::v1::DISPOSITION_NEW_TICKET);
    if (hook_ != nullptr) hook_->complete(item, seq, new_id, now);
    std::string record_ticket_id;
    std::uint64_t prior_seq = 0;   // MERGED: the record whose ticket state this one builds on
    switch (item.body.disposition()) {
      case gridhub::v1::DISPOSITION_NOT_A_TICKET:
        item.body.clear_ticket();
        break;
      case gridhub::v1::DISPOSITION_MERGED: {
        // Join the existing incident: its ticket, with this report's provenance appended.
        const std::string incident = ticket->incident_id();
        auto existing = load_ticket(incident);
        if (!existing) return existing.error();
        if (!existing->mismatch.empty()) {
          // A report cannot be refused without losing it: it joins the state the chained log holds
          // (never the edited row), and this record's projection put overwrites the edit.
          spdlog::error("log: {}; report {} joins the logged state of {}", existing->mismatch, ev.source_key(), incident);
        }
        if (existing->ticket.ticket_id().empty()) {
          // The incident's ticket is unknown here (e.g. a projection rebuilt without it): keep this one new.
          item.body.set_disposition(gridhub::v1::DISPOSITION_NEW_TICKET);
          ticket->set_incident_id(new_id);
          record_ticket_id = new_id;
          break;
        }
        gridhub::v1::Ticket merged = std::move(existing->ticket);
        prior_seq = existing->seq;
        *merged.add_provenance() = ticket->provenance(0);
        merged.set_version(seq);
        *ticket = std::move(merged);
        record_ticket_id = incident;
        break;
      }
      default:
        record_ticket_id = new_id;
        ticket->set_ticket_id(new_id);
        ticket->set_version(seq);
        ticket->mutable_created_at()->set_unix_micros(now);
        if (ticket->incident_id().empty()) ticket->set_incident_id(new_id);
        item.body.set_disposition(gridhub::v1::DISPOSITION_NEW_TICKET);
        break;
    }

    if (keys_) {
      // Personal data is sealed under the ticket's key before the record's bytes exist: the chain and
      // every reader see only sealed values (pii_vault.hpp). A merged report uses its incident's key.
      const bool merged = item.body.disposition() == gridhub::v1::DISPOSITION_MERGED;
      const std::string key_id = record_ticket_id.empty() ? record_key_id(seq) : record_ticket_id;
      std::optional<PiiKey> key;
      if (merged) {
        auto known = keys_->load(key_id);
        if (!known) return known.error();
        key = known.value();
      }
      if (!key) {
        auto made = keys_->create(key_id);
        if (!made) return made.error();
        key = made.value();
      }
      if (!seal_pii(item.body, key_id, *key)) {
        return Error(Errc::storage_failed, fmt::format("log record {}: sealing personal data failed", seq));
      }
    }

    record_.Clear();
    record_.set_seq(seq);
    record_.mutable_recorded_at()->set_unix_micros(now);
    record_.set_ticket_id(record_ticket_id);
    record_.set_prior_seq(prior_seq);
    record_.unsafe_arena_set_allocated_intake_accepted(&item.body);
    body_.clear();
    record_.SerializeToString(&body_);
    const ProjectionStep step = projection_step(record_);   // points into item.body, which outlives this
    record_.unsafe_arena_release_intake_accepted();
    ChainHash hash{};
    if (!hasher_.next(head_hash_, seq, now, body_, hash)) {
      return Error(Errc::storage_failed, fmt::format("log record {}: SHA-256 failed", seq));
    }

    insert_log_.bind(1, static_cast<std::int64_t>(seq))
        .bind(2, now)
        .bind(3, kKindIntake);
    if (record_ticket_id.empty()) {
      insert_log_.bind_null(4);
    } else {
      insert_log_.bind(4, record_ticket_id);
    }
    insert_log_
        .bind(5, static_cast<std::int64_t>(ev.channel()))
        .bind(6, ev.source_key())
        .bind_blob(7, body_)
        .bind_blob(8, std::string_view(reinterpret_cast<const char*>(hash.data()), hash.size()));
    if (auto s = insert_log_.run(); !s) return s.error();
    if (db_.changes() == 0) {
      // (channel, source_key) is already in the log: a re-sent event. Report the original seq.
      find_intake_.bind(1, static_cast<std::int64_t>(ev.channel())).bind(2, ev.source_key());
      auto row = find_intake_.step();
      if (!row) return row.error();
      AppendOutcome o{static_cast<std::uint64_t>(row.value() ? find_intake_.column_int(0) : 0), true, false};
      find_intake_.reset();
      return o;
    }
    if (step.ticket != nullptr) {
      if (auto s = projection_.put(*step.ticket, step.creates ? seq : 0, scratch_); !s) return s.error();
    }
    head_ = seq;
    head_hash_ = hash;
    if (observer_ != nullptr) links_.push_back(ChainLink{seq, hash});
    AppendOutcome o{seq, false, false};
    if (item.body.has_ticket()) o.ticket = state_of(*ticket);
    return o;
  }

  static TicketState state_of(const gridhub::v1::Ticket& t) {
    return TicketState{t.ticket_id(), static_cast<int>(t.status()), t.has_sla_due() ? t.sla_due().unix_micros() : 0,
                       t.version()};
  }

  Result<AppendOutcome> put(DeadLetterItem& item, std::int64_t now) {
    if (keys_ && !item.payload.empty()) {
      // The rejected row holds the reporter's name and number as written: sealed like an intake
      // record's, under a key per (channel, source_key) that erasing a ticket with that provenance
      // destroys (dead_letter_key_id).
      const std::string key_id = dead_letter_key_id(item.channel, item.source_key, now);
      auto known = keys_->load(key_id);
      if (!known) return known.error();
      std::optional<PiiKey> key = known.value();
      if (!key) {
        auto made = keys_->create(key_id);
        if (!made) return made.error();
        key = made.value();
      }
      gridhub::v1::Event carrier;   // Event.original_payload: the schema's field for a source row
      carrier.set_original_payload(std::move(item.payload));
      if (!seal_pii(carrier, key_id, *key)) return Error(Errc::storage_failed, "dead letter: sealing its payload failed");
      item.payload = std::move(*carrier.mutable_original_payload());
    }
    insert_dead_.bind(1, now).bind(2, item.adapter_id).bind(3, static_cast<std::int64_t>(item.channel));
    if (item.source_key.empty()) {
      insert_dead_.bind_null(4);
    } else {
      insert_dead_.bind(4, item.source_key);
    }
    insert_dead_.bind(5, item.reason_code)
        .bind(6, item.field)
        .bind(7, item.detail)
        .bind(8, item.location)
        .bind_blob(9, item.payload);
    if (auto s = insert_dead_.run(); !s) return s.error();
    return AppendOutcome{0, db_.changes() == 0, true};
  }

  Result<AppendOutcome> put(ChangeItem& item, std::int64_t now) {
    if (!item.idempotency_key.empty()) {
      find_change_.bind(1, item.idempotency_key);
      auto known = find_change_.step();
      if (!known) return known.error();
      if (known.value()) {
        AppendOutcome o{static_cast<std::uint64_t>(find_change_.column_int(0)), true, false};
        find_change_.reset();
        return o;
      }
      find_change_.reset();
    }
    auto current = load_ticket(item.ticket_id);
    if (!current) return current.error();
    AppendOutcome refused;
    if (current->ticket.ticket_id().empty()) {
      refused.refused = Refusal::kNotFound;
      refused.reason = fmt::format("no ticket {}", item.ticket_id);
      return refused;
    }
    if (!current->mismatch.empty()) {
      // The row is not what the chained log says: deciding on it would sign the edit into the chain.
      spdlog::error("log: change to {} refused: {}", item.ticket_id, current->mismatch);
      refused.refused = Refusal::kInconsistent;
      refused.reason = fmt::format("{}'s stored state disagrees with the log; an operator must check the log "
                                   "(gridhubctl verify)", item.ticket_id);
      return refused;
    }
    const std::uint64_t seq = head_ + 1;
    record_.Clear();
    record_.set_seq(seq);
    record_.mutable_recorded_at()->set_unix_micros(now);
    record_.set_ticket_id(item.ticket_id);
    record_.set_prior_seq(current->seq);
    refused.refused = item.apply ? item.apply(current->ticket, record_, refused.reason) : Refusal::kInvalid;
    if (refused.refused != Refusal::kNone) return refused;
    auto* ticket = const_cast<gridhub::v1::Ticket*>(record_ticket(record_));
    if (ticket == nullptr) return Error(Errc::invalid_event, fmt::format("change to {} made no ticket state", item.ticket_id));
    ticket->set_version(seq);
    body_.clear();
    record_.SerializeToString(&body_);
    ChainHash hash{};
    if (!hasher_.next(head_hash_, seq, now, body_, hash)) {
      return Error(Errc::storage_failed, fmt::format("log record {}: SHA-256 failed", seq));
    }
    insert_log_.bind(1, static_cast<std::int64_t>(seq)).bind(2, now).bind(3, record_kind(record_)).bind(4, item.ticket_id);
    insert_log_.bind_null(5).bind_null(6);   // changes come from no channel (verify checks these columns are empty)
    insert_log_.bind_blob(7, body_).bind_blob(8, std::string_view(reinterpret_cast<const char*>(hash.data()), hash.size()));
    if (auto s = insert_log_.run(); !s) return s.error();
    if (!item.idempotency_key.empty()) {
      insert_change_.bind(1, item.idempotency_key).bind(2, static_cast<std::int64_t>(seq));
      if (auto s = insert_change_.run(); !s) return s.error();
    }
    if (auto s = projection_.put(*ticket, 0, scratch_); !s) return s.error();
    head_ = seq;
    head_hash_ = hash;
    if (observer_ != nullptr) links_.push_back(ChainLink{seq, hash});
    AppendOutcome o{seq, false, false};
    o.ticket = state_of(*ticket);
    return o;
  }

  Result<AppendOutcome> put(CursorItem& item, std::int64_t now) {
    upsert_cursor_.bind(1, item.name).bind(2, item.identity).bind(3, static_cast<std::int64_t>(item.acked_seq)).bind(4, now);
    if (auto s = upsert_cursor_.run(); !s) return s.error();
    return AppendOutcome{item.acked_seq, false, false};
  }

  Result<AppendOutcome> put(ErasureItem& item, std::int64_t now) {
    if (!keys_) return Error(Errc::storage_failed, "erasure: the log has no key table");
    const std::uint64_t seq = head_ + 1;
    auto existing = load_ticket(item.ticket_id);
    if (!existing) return existing.error();
    if (existing->ticket.ticket_id().empty()) {
      return Error(Errc::bad_value, fmt::format("erasure: no ticket {} in the log's projection", item.ticket_id));
    }
    if (!existing->mismatch.empty()) {
      return Error(Errc::storage_failed, fmt::format("erasure refused: {}", existing->mismatch));
    }
    const std::string done_key = "erasure/" + item.ticket_id;
    if (existing->ticket.pii_erased()) {
      // Erased before, and no report has brought new personal data since (it would have a new key):
      // nothing is left to destroy, so nothing is written. The outcome names the erasure on record.
      auto key = keys_->load(item.ticket_id);
      if (!key) return key.error();
      bool left = key.value().has_value();
      for (const auto& p : existing->ticket.provenance()) {   // a rejected version of one of its records since
        if (left || p.source_key().empty()) continue;
        auto d = keys_->load(dead_letter_key_id(p.channel(), p.source_key(), 0));
        if (!d) return d.error();
        left = d.value().has_value();
      }
      if (!left) {
        find_change_.bind(1, done_key);
        auto known = find_change_.step();
        if (!known) return known.error();
        AppendOutcome o{known.value() ? static_cast<std::uint64_t>(find_change_.column_int(0)) : existing->seq, true, false};
        find_change_.reset();
        o.reason = fmt::format("{}'s personal data was already erased", item.ticket_id);
        return o;
      }
    }
    const std::uint64_t prior_seq = existing->seq;
    gridhub::v1::Ticket ticket = std::move(existing->ticket);
    // Each personal value the ticket had reads "[erased]" from now on, as its sealed copies in earlier
    // records do once the key is gone; raw bytes (a source row) are dropped.
    present_pii(ticket, PiiPresentation{true, [](const std::string& v) { return v.empty() ? v : std::string(kErasedText); }});
    ticket.set_pii_erased(true);
    ticket.set_version(seq);
    record_.Clear();
    record_.set_seq(seq);
    record_.mutable_recorded_at()->set_unix_micros(now);
    record_.set_ticket_id(item.ticket_id);
    record_.set_prior_seq(prior_seq);
    auto* erasure = record_.mutable_erasure();
    erasure->set_request_ref(item.request_ref);
    erasure->set_requested_by(item.requested_by);
    erasure->set_key_id(item.ticket_id);
    *erasure->mutable_ticket() = ticket;
    body_.clear();
    record_.SerializeToString(&body_);
    ChainHash hash{};
    if (!hasher_.next(head_hash_, seq, now, body_, hash)) {
      return Error(Errc::storage_failed, fmt::format("log record {}: SHA-256 failed", seq));
    }
    insert_log_.bind(1, static_cast<std::int64_t>(seq))
        .bind(2, now)
        .bind(3, kKindErasure)
        .bind(4, item.ticket_id)
        .bind_null(5)
        .bind_null(6)
        .bind_blob(7, body_)
        .bind_blob(8, std::string_view(reinterpret_cast<const char*>(hash.data()), hash.size()));
    if (auto s = insert_log_.run(); !s) return s.error();
    if (auto s = projection_.put(ticket, 0, scratch_); !s) return s.error();
    // The key goes in the same transaction: either the erasure is on record and the key gone, or neither.
    auto destroyed = keys_->destroy(item.ticket_id);
    if (!destroyed) return destroyed.error();
    // And the keys of the dead letters from the same source records (an earlier, rejected version).
    for (const auto& p : ticket.provenance()) {
      if (p.source_key().empty()) continue;
      if (auto d = keys_->destroy(dead_letter_key_id(p.channel(), p.source_key(), 0)); !d) return d.error();
    }
    // The latest erasure of the ticket, for a repeated request's answer.
    auto forget = db_.prepare("DELETE FROM change_keys WHERE key = ?");
    if (!forget) return forget.error();
    forget->bind(1, done_key);
    if (auto s = forget->run(); !s) return s.error();
    insert_change_.bind(1, done_key).bind(2, static_cast<std::int64_t>(seq));
    if (auto s = insert_change_.run(); !s) return s.error();
    head_ = seq;
    head_hash_ = hash;
    if (observer_ != nullptr) links_.push_back(ChainLink{seq, hash});
    AppendOutcome o{seq, false, false};
    o.ticket = state_of(ticket);
    return o;
  }

  /// A ticket's current state as the chained log holds it (docs/audit.md, "The projection"): the row
  /// names the record that last changed the ticket (last_seq); that record's ticket is the state the
  /// change starts from, and the row must agree with it, column for column and in its body. A row edited
  /// outside the hub is reported in `mismatch`, never decided on.
  struct Current {
    gridhub::v1::Ticket ticket;   // ticket_id empty: no such ticket
    std::uint64_t seq = 0;        // the record it comes from (the new record's prior_seq)
    std::string mismatch;         // non-empty: the row disagrees with that record (why, for the log)
  };

  Result<Current> load_ticket(const std::string& ticket_id) {
    Current out;
    gridhub::v1::Ticket row;
    std::int64_t last_seq = 0;
    const char* column = nullptr;
    {
      load_ticket_.bind(1, ticket_id);
      auto found = load_ticket_.step();
      if (!found) {
        load_ticket_.reset();
        return found.error();
      }
      if (!found.value()) {
        load_ticket_.reset();
        return out;
      }
      last_seq = load_ticket_.column_int(0);
      auto body = load_ticket_.column_blob(7);
      row_body_.assign(body.data(), body.size());   // compared with the log's state below
      if (!row.ParseFromArray(body.data(), static_cast<int>(body.size()))) {
        column = "body";
      } else if (load_ticket_.column_int(1) != row.status()) {
        column = "status";
      } else if (load_ticket_.column_text(2) != row.category_code()) {
        column = "category_code";
      } else if (load_ticket_.column_text(3) != row.community_code()) {
        column = "community_code";
      } else if (load_ticket_.column_text(4) != row.grid_code()) {
        column = "grid_code";
      } else if (load_ticket_.column_int(5) != row.tier()) {
        column = "tier";
      } else if (load_ticket_.column_text(6) != row.assignee_code()) {
        column = "assignee_code";
      }
      load_ticket_.reset();
    }
    load_record_.bind(1, last_seq);
    auto found = load_record_.step();
    if (!found) {
      load_record_.reset();
      return found.error();
    }
    bool logged = false;
    if (found.value()) {
      auto body = load_record_.column_blob(0);
      logged = checked_.ParseFromArray(body.data(), static_cast<int>(body.size()));
    }
    load_record_.reset();
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

 public:
  void set_hook(IntakeHook* hook, Statement load_ticket, Statement load_record, Statement upsert_cursor,
                Statement find_change, Statement insert_change) {
    hook_ = hook;
    load_ticket_ = std::move(load_ticket);
    load_record_ = std::move(load_record);
    upsert_cursor_ = std::move(upsert_cursor);
    find_change_ = std::move(find_change);
    insert_change_ = std::move(insert_change);
  }
  void set_vault(WriterLock lock, PiiKeyStore keys) {
    lock_.emplace(std::move(lock));
    keys_.emplace(std::move(keys));
  }

 private:
  Database db_;
  detail::SqliteChainSource chain_source_;
  bool observer_opened_ = false;
  IntakeHook* hook_ = nullptr;
  Statement load_ticket_{Statement::null()};
  Statement load_record_{Statement::null()};
  gridhub::v1::LogRecord checked_;   // load_ticket's scratch
  std::string row_body_;                   // likewise
  std::string scratch_ticket_;             // likewise
  gridhub::v1::Ticket parsed_ticket_;      // likewise
  Statement upsert_cursor_{Statement::null()};
  Statement find_change_{Statement::null()};
  Statement insert_change_{Statement::null()};
  Statement insert_log_;
  Statement find_intake_;
  Statement insert_dead_;
  ProjectionWriter projection_;
  std::uint64_t head_;
  ChainHash head_hash_;
  const Clock& clock_;
  CommitObserver* observer_;
  ChainHasher hasher_;
  std::vector<ChainLink> links_;   // this commit's records, for the observer; capacity reused
  gridhub::v1::LogRecord record_;
  std::string body_;
  std::string scratch_;
  // Declared after db_, so destroyed before it: the key store's statements are finalized before the
  // connection closes. The lock is released a moment before the connection closes, when nothing more
  // is written.
  std::optional<PiiKeyStore> keys_;
  std::optional<WriterLock> lock_;
};

}  // namespace

std::string ticket_id_for_seq(std::uint64_t seq) { return fmt::format("T{:08d}", seq); }

std::string_view record_kind(const gridhub::v1::LogRecord& record) {
  switch (record.body_case()) {
    case gridhub::v1::LogRecord::kIntakeAccepted: return kKindIntake;
    case gridhub::v1::LogRecord::kTicketUpdate: return "ticket_update";
    case gridhub::v1::LogRecord::kEscalation: return "escalation";
    case gridhub::v1::LogRecord::kErasure: return "erasure";
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
  step.creates = step.ticket != nullptr && record.has_intake_accepted() &&
                 record.intake_accepted().disposition() != gridhub::v1::DISPOSITION_MERGED;
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
                                                 const Clock& clock, IntakeHook* hook, CommitObserver* observer) {
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
  auto insert_log = db->prepare(
      "INSERT OR IGNORE INTO log(seq, recorded_at, kind, ticket_id, channel, source_key, body, hash)"
      " VALUES(?,?,?,?,?,?,?,?)");
  if (!insert_log) return insert_log.error();
  auto find_intake = db->prepare("SELECT seq FROM log WHERE channel=? AND source_key=?");
  if (!find_intake) return find_intake.error();
  auto insert_dead = db->prepare(
      "INSERT OR IGNORE INTO dead_letters(recorded_at, adapter_id, channel, source_key, reason_code, field, detail,"
      " location, payload) VALUES(?,?,?,?,?,?,?,?,?)");
  if (!insert_dead) return insert_dead.error();
  auto projection = ProjectionWriter::prepare(db.value());
  if (!projection) return projection.error();
  // The row, its derived columns (checked against its body) and the record it names (load_ticket).
  auto load_ticket = db->prepare(
      "SELECT last_seq, status, coalesce(category_code,''), coalesce(community_code,''), coalesce(grid_code,''),"
      " coalesce(tier,0), coalesce(assignee_code,''), body FROM tickets WHERE ticket_id = ?");
  if (!load_ticket) return load_ticket.error();
  auto load_record = db->prepare("SELECT body FROM log WHERE seq = ?");
  if (!load_record) return load_record.error();
  auto upsert_cursor = db->prepare(
      "INSERT INTO subscriptions(name, identity, acked_seq, updated_at) VALUES(?,?,?,?)"
      " ON CONFLICT(name) DO UPDATE SET identity=excluded.identity, acked_seq=excluded.acked_seq,"
      " updated_at=excluded.updated_at");
  if (!upsert_cursor) return upsert_cursor.error();
  auto find_change = db->prepare("SELECT seq FROM change_keys WHERE key = ?");
  if (!find_change) return find_change.error();
  auto insert_change = db->prepare("INSERT INTO change_keys(key, seq) VALUES(?,?)");
  if (!insert_change) return insert_change.error();
  auto keys = PiiKeyStore::open(db->handle());
  if (!keys) return keys.error();
  auto log = std::make_unique<SqliteEventLogImpl>(
      std::move(db.value()), std::move(insert_log.value()), std::move(find_intake.value()),
      std::move(insert_dead.value()), std::move(projection.value()), static_cast<std::uint64_t>(head.value()), head_hash, clock,
      observer, options.durability == Durability::kFull);
  log->set_hook(hook, std::move(load_ticket.value()), std::move(load_record.value()), std::move(upsert_cursor.value()),
                std::move(find_change.value()), std::move(insert_change.value()));
  log->set_vault(std::move(lock.value()), std::move(keys.value()));
  if (auto s = log->open_observer(); !s) return s.error();
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
