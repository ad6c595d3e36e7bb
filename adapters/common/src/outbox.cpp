#include "gridhub/adapter/outbox.hpp"

#include <fmt/format.h>

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include <mutex>

#include "gridhub/sqlite/sqlite.hpp"

namespace gridhub::adapter {

namespace {

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS outbox(
  id            INTEGER PRIMARY KEY,
  channel       INTEGER NOT NULL,
  source_key    TEXT    NOT NULL,
  event         BLOB    NOT NULL,
  state         INTEGER NOT NULL DEFAULT 0,   -- 0 pending, 1 acknowledged, 2 refused by the hub
  log_seq       INTEGER,
  duplicate     INTEGER,
  dead_lettered INTEGER,
  refused       TEXT,
  enqueued_at   INTEGER NOT NULL,
  completed_at  INTEGER,
  UNIQUE(channel, source_key)
);
CREATE INDEX IF NOT EXISTS outbox_pending ON outbox(id) WHERE state = 0;
)sql";

/// What a record says, without when this import read it: two imports of one unchanged record compare equal.
std::string content_of(gridhub::v1::Event ev) {
  ev.clear_received_at();
  std::string out;
  {
    google::protobuf::io::StringOutputStream stream(&out);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    ev.SerializeToCodedStream(&coded);
  }
  return out;
}

/// What the outbox holds for an event's (channel, source_key).
struct Slot {
  std::int64_t id = 0;    // 0: the key is new
  bool pending = false;
  /// The held version never made a ticket (the hub dead-lettered or refused it, or it is a rejection
  /// not yet sent) and `ev` is a different, readable version: it takes the slot and is sent.
  bool corrected = false;
};

Result<Slot> slot_of(sqlite::Statement& find_key, const gridhub::v1::Event& ev) {
  find_key.bind(1, static_cast<std::int64_t>(ev.channel())).bind(2, ev.source_key());
  auto row = find_key.step();
  if (!row) {
    find_key.reset();
    return row.error();
  }
  Slot slot;
  if (row.value()) {
    slot.id = find_key.column_int(0);
    const auto state = find_key.column_int(1);
    slot.pending = state == 0;
    if (ev.has_rejection()) {
      // Another unreadable version adds nothing: the hub keeps one dead letter per key.
    } else if (state == 1) {
      slot.corrected = find_key.column_int(2) != 0;   // acknowledged as a dead letter
    } else {
      gridhub::v1::Event held;
      const bool parsed = held.ParseFromString(std::string(find_key.column_blob(3)));
      // Pending: replace a rejection not yet delivered. Refused for good: a changed record goes again.
      slot.corrected = !parsed || (state == 0 ? held.has_rejection() : content_of(held) != content_of(ev));
    }
  }
  find_key.reset();
  return slot;
}

/// Where each acknowledged entry's log_seq is (the restore handshake); added to outboxes made before.
constexpr const char* kAckedColumns[] = {"acked_log", "acked_timeline"};

Status add_acked_columns(sqlite::Database& db) {
  for (const char* column : kAckedColumns) {
    auto has = db.query_int(fmt::format("SELECT count(*) FROM pragma_table_info('outbox') WHERE name = '{}'", column));
    if (!has) return has.error();
    if (has.value() == 0) {
      if (auto s = db.exec(fmt::format("ALTER TABLE outbox ADD COLUMN {} TEXT", column)); !s) return s;
    }
  }
  return Ok{};
}

}  // namespace

struct Outbox::Impl {
  sqlite::Database db;
  sqlite::Statement insert;
  sqlite::Statement select_pending;
  sqlite::Statement complete;
  sqlite::Statement refuse;
  sqlite::Statement exists;
  // Corrections (see enqueue): what the outbox holds for a key, and taking its slot for a new version.
  sqlite::Statement find_key{sqlite::Statement::null()};
  sqlite::Statement supersede{sqlite::Statement::null()};
  std::size_t max_pending;
  const Clock& clock;
  std::size_t pending_cache;
  // HTTP adapters enqueue on the io thread while the delivery thread reads and completes: one
  // connection, its prepared statements and pending_cache are shared, so every call holds this.
  std::mutex mu;
};

Outbox::Outbox(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Outbox::Outbox(Outbox&&) noexcept = default;
Outbox& Outbox::operator=(Outbox&&) noexcept = default;
Outbox::~Outbox() = default;

const std::filesystem::path& Outbox::file() const { return impl_->db.file(); }

Result<Outbox> Outbox::open(const std::filesystem::path& file, std::size_t max_pending, const Clock& clock) {
  if (file.has_parent_path()) {
    std::error_code ec;
    std::filesystem::create_directories(file.parent_path(), ec);
  }
  auto db = sqlite::Database::open(file, sqlite::OpenMode::kReadWrite);
  if (!db) return db.error();
  // The outbox is the adapter's promise to its source: FULL, like the hub's log.
  // secure_delete: a purged entry's bytes (personal data) are overwritten, not left in a free page.
  for (const char* sql : {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL", "PRAGMA secure_delete=ON"}) {
    if (auto s = db->exec(sql); !s) return s.error();
  }
  if (auto s = db->exec(kSchema); !s) return s.error();
  if (auto s = add_acked_columns(db.value()); !s) return s.error();
  auto insert = db->prepare(
      "INSERT OR IGNORE INTO outbox(channel, source_key, event, enqueued_at) VALUES(?,?,?,?)");
  auto select_pending = db->prepare("SELECT id, event FROM outbox WHERE state = 0 AND id > ? ORDER BY id LIMIT ?");
  auto complete = db->prepare(
      "UPDATE outbox SET state = 1, log_seq = ?, duplicate = ?, dead_lettered = ?, completed_at = ?, acked_log = ?,"
      " acked_timeline = ? WHERE id = ? AND state = 0");
  auto refuse = db->prepare("UPDATE outbox SET state = 2, refused = ?, completed_at = ? WHERE id = ? AND state = 0");
  auto exists = db->prepare("SELECT 1 FROM outbox WHERE channel = ? AND source_key = ?");
  for (auto* r : {&insert, &select_pending, &complete, &refuse, &exists}) {
    if (!*r) return r->error();
  }
  auto find_key = db->prepare("SELECT id, state, dead_lettered, event FROM outbox WHERE channel = ? AND source_key = ?");
  // The new version takes a fresh id above every other, so a sender already past the old id sees it,
  // and a late answer for the old id (complete: WHERE id = ?) finds nothing.
  auto supersede = db->prepare(
      "UPDATE outbox SET id = (SELECT max(id) + 1 FROM outbox), event = ?, state = 0, log_seq = NULL, duplicate = NULL,"
      " dead_lettered = NULL, refused = NULL, enqueued_at = ?, completed_at = NULL, acked_log = NULL, acked_timeline = NULL"
      " WHERE id = ?");
  for (auto* r : {&find_key, &supersede}) {
    if (!*r) return r->error();
  }
  auto count = db->query_int("SELECT count(*) FROM outbox WHERE state = 0");
  if (!count) return count.error();
  auto impl = std::unique_ptr<Impl>(new Impl{std::move(db.value()), std::move(insert.value()),
                                             std::move(select_pending.value()), std::move(complete.value()),
                                             std::move(refuse.value()), std::move(exists.value()),
                                             sqlite::Statement::null(), sqlite::Statement::null(), max_pending, clock,
                                             static_cast<std::size_t>(count.value()), {}});
  impl->find_key = std::move(find_key.value());
  impl->supersede = std::move(supersede.value());
  return Outbox(std::move(impl));
}



Result<std::vector<EnqueueResult>> Outbox::enqueue(std::span<const gridhub::v1::Event> events) {
  std::lock_guard lock(impl_->mu);
  std::vector<EnqueueResult> out;
  out.reserve(events.size());
  sqlite::Transaction tx(impl_->db);
  if (!tx.begun().ok()) return tx.begun().error();
  const auto now = impl_->clock.now_micros();
  std::string bytes;
  std::size_t added = 0;
  for (const auto& ev : events) {
    const bool full = impl_->pending_cache + added >= impl_->max_pending;
    bytes.clear();
    if (!full) {
      ev.SerializeToString(&bytes);
      impl_->insert.bind(1, static_cast<std::int64_t>(ev.channel())).bind(2, ev.source_key()).bind_blob(3, bytes).bind(4, now);
      if (auto s = impl_->insert.run(); !s) return s.error();
      if (impl_->db.changes() != 0) {
        out.push_back(EnqueueResult::kQueued);
        ++added;
        continue;
      }
    }
    // The key is held (or the outbox is full): an earlier import's version, or a new one for a record
    // that never made a ticket — a corrected row must not be kept out by its rejected predecessor.
    auto slot = slot_of(impl_->find_key, ev);
    if (!slot) return slot.error();
    if (slot->corrected && full && !slot->pending) {
      out.push_back(EnqueueResult::kFull);   // a new version needs room like a new event
    } else if (slot->corrected) {
      if (bytes.empty()) ev.SerializeToString(&bytes);
      impl_->supersede.bind_blob(1, bytes).bind(2, now).bind(3, slot->id);
      if (auto s = impl_->supersede.run(); !s) return s.error();
      out.push_back(EnqueueResult::kCorrected);
      if (!slot->pending) ++added;
    } else if (slot->id != 0) {
      // Full; but an event the outbox already holds is still "already known", not refused.
      out.push_back(EnqueueResult::kAlreadyKnown);
    } else {
      out.push_back(EnqueueResult::kFull);
    }
  }
  if (auto s = tx.commit(); !s) return s.error();
  impl_->pending_cache += added;
  return out;
}

Result<std::vector<OutboxEntry>> Outbox::pending(std::int64_t after_id, std::size_t limit) {
  std::lock_guard lock(impl_->mu);
  std::vector<OutboxEntry> out;
  auto& st = impl_->select_pending;
  st.bind(1, after_id).bind(2, static_cast<std::int64_t>(limit));
  for (;;) {
    auto row = st.step();
    if (!row) {
      st.reset();
      return row.error();
    }
    if (!row.value()) break;
    out.push_back(OutboxEntry{st.column_int(0), std::string(st.column_blob(1))});
  }
  st.reset();
  return out;
}

Status Outbox::complete(std::span<const Delivery> deliveries) {
  if (deliveries.empty()) return Ok{};
  std::lock_guard lock(impl_->mu);
  sqlite::Transaction tx(impl_->db);
  if (!tx.begun().ok()) return tx.begun();
  const auto now = impl_->clock.now_micros();
  std::size_t done = 0;
  for (const auto& d : deliveries) {
    if (d.refused_reason.empty()) {
      impl_->complete.bind(1, static_cast<std::int64_t>(d.log_seq))
          .bind(2, std::int64_t{d.duplicate})
          .bind(3, std::int64_t{d.dead_lettered})
          .bind(4, now);
      // Empty (a dead letter, an older hub): NULL, never taken for a timeline by requeue_lost.
      if (d.log_id.empty() || d.timeline.empty()) {
        impl_->complete.bind_null(5).bind_null(6);
      } else {
        impl_->complete.bind(5, d.log_id).bind(6, d.timeline);
      }
      impl_->complete.bind(7, d.id);
      if (auto s = impl_->complete.run(); !s) return s;
    } else {
      impl_->refuse.bind(1, d.refused_reason).bind(2, now).bind(3, d.id);
      if (auto s = impl_->refuse.run(); !s) return s;
    }
    done += static_cast<std::size_t>(impl_->db.changes());
  }
  if (auto s = tx.commit(); !s) return s;
  impl_->pending_cache -= std::min(done, impl_->pending_cache);
  return Ok{};
}

Result<std::size_t> Outbox::pending_count() {
  std::lock_guard lock(impl_->mu);
  return impl_->pending_cache;
}

}  // namespace gridhub::adapter

namespace gridhub::adapter {

Result<std::size_t> Outbox::requeue_lost(const gridhub::v1::HelloReply& hub) {
  if (hub.log_id().empty() || hub.timelines().empty()) return std::size_t{0};   // an older hub, or an empty log
  std::lock_guard lock(impl_->mu);
  const auto& tl = hub.timelines();
  // Acknowledged by this log, and the seq it was given is no longer that record's.
  std::string sql =
      "UPDATE outbox SET state = 0, log_seq = NULL, duplicate = NULL, dead_lettered = NULL, completed_at = NULL,"
      " acked_log = NULL, acked_timeline = NULL WHERE state = 1 AND acked_log = ? AND acked_timeline IS NOT NULL AND ("
      "(acked_timeline = ? AND log_seq > ?)";
  for (int i = 0; i + 1 < tl.size(); ++i) sql += " OR (acked_timeline = ? AND log_seq >= ?)";
  sql += " OR acked_timeline NOT IN (";
  for (int i = 0; i < tl.size(); ++i) sql += i == 0 ? "?" : ",?";
  sql += "))";
  auto st = impl_->db.prepare(sql);
  if (!st) return st.error();
  int n = 0;
  st->bind(++n, hub.log_id());
  st->bind(++n, tl[tl.size() - 1].id());
  st->bind(++n, static_cast<std::int64_t>(hub.head_seq()));
  for (int i = 0; i + 1 < tl.size(); ++i) {
    st->bind(++n, tl[i].id());
    st->bind(++n, static_cast<std::int64_t>(tl[i + 1].first_seq()));
  }
  for (int i = 0; i < tl.size(); ++i) st->bind(++n, tl[i].id());
  if (auto s = st->run(); !s) return s.error();
  const auto requeued = static_cast<std::size_t>(impl_->db.changes());
  impl_->pending_cache += requeued;
  return requeued;
}

Result<std::size_t> Outbox::purge_completed(std::chrono::microseconds retention) {
  std::lock_guard lock(impl_->mu);
  auto st = impl_->db.prepare("DELETE FROM outbox WHERE state != 0 AND completed_at < ?");
  if (!st) return st.error();
  st->bind(1, impl_->clock.now_micros() - retention.count());
  if (auto s = st->run(); !s) return s.error();
  return static_cast<std::size_t>(impl_->db.changes());
}

}  // namespace gridhub::adapter
