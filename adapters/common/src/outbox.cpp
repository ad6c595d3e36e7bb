#include "gridhub/adapter/outbox.hpp"

#include <fmt/format.h>

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
  auto count = db->query_int("SELECT count(*) FROM outbox WHERE state = 0");
  if (!count) return count.error();
  return Outbox(std::unique_ptr<Impl>(new Impl{std::move(db.value()), std::move(insert.value()),
                                            std::move(select_pending.value()), std::move(complete.value()),
                                            std::move(refuse.value()), std::move(exists.value()), max_pending, clock,
                                            static_cast<std::size_t>(count.value()), {}}));
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
    if (impl_->pending_cache + added >= impl_->max_pending) {
      // Full; but an event the outbox already holds is still "already known", not refused.
      impl_->exists.bind(1, static_cast<std::int64_t>(ev.channel())).bind(2, ev.source_key());
      auto hit = impl_->exists.step();
      impl_->exists.reset();
      if (!hit) return hit.error();
      out.push_back(hit.value() ? EnqueueResult::kAlreadyKnown : EnqueueResult::kFull);
      continue;
    }
    bytes.clear();
    ev.SerializeToString(&bytes);
    impl_->insert.bind(1, static_cast<std::int64_t>(ev.channel())).bind(2, ev.source_key()).bind_blob(3, bytes).bind(4, now);
    if (auto s = impl_->insert.run(); !s) return s.error();
    if (impl_->db.changes() == 0) {
      out.push_back(EnqueueResult::kAlreadyKnown);
    } else {
      out.push_back(EnqueueResult::kQueued);
      ++added;
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
