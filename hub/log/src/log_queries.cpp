#include "gridhub/log/log_queries.hpp"

#include <optional>
#include <utility>

#include "gridhub/log/pii_vault.hpp"
#include "gridhub/sqlite/sqlite.hpp"
#include "gridhub/v1/event.pb.h"

namespace gridhub::log {

using sqlite::Database;
using sqlite::Statement;

struct LogQueries::Impl {
  Database db;
  std::optional<PiiKeyStore> keys;   // none: a log from before sealing (no key table), nothing to open
};

struct LogQueries::Tickets::Impl {
  Statement rows;
  PiiKeyStore* keys;
};

struct LogQueries::DeadLetters::Impl {
  Statement rows;
};

LogQueries::LogQueries(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
LogQueries::LogQueries(LogQueries&&) noexcept = default;
LogQueries& LogQueries::operator=(LogQueries&&) noexcept = default;
LogQueries::~LogQueries() = default;

LogQueries::Tickets::Tickets(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
LogQueries::Tickets::Tickets(Tickets&&) noexcept = default;
LogQueries::Tickets& LogQueries::Tickets::operator=(Tickets&&) noexcept = default;
LogQueries::Tickets::~Tickets() = default;

LogQueries::DeadLetters::DeadLetters(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
LogQueries::DeadLetters::DeadLetters(DeadLetters&&) noexcept = default;
LogQueries::DeadLetters& LogQueries::DeadLetters::operator=(DeadLetters&&) noexcept = default;
LogQueries::DeadLetters::~DeadLetters() = default;

Result<LogQueries> LogQueries::open(const std::filesystem::path& file) {
  auto db = Database::open(file, sqlite::OpenMode::kReadOnly);
  if (!db) return db.error();
  auto impl = std::make_unique<Impl>(Impl{std::move(db.value()), std::nullopt});
  if (auto k = PiiKeyStore::open(impl->db.handle()); k) impl->keys.emplace(std::move(k.value()));
  return LogQueries(std::move(impl));
}

Result<LogQueries::Tickets> LogQueries::tickets() {
  auto st = impl_->db.prepare("SELECT body FROM tickets ORDER BY created_seq");
  if (!st) return st.error();
  return Tickets(std::make_unique<Tickets::Impl>(Tickets::Impl{std::move(st.value()), impl_->keys ? &*impl_->keys : nullptr}));
}

Result<bool> LogQueries::Tickets::next(gridhub::v1::Ticket& out) {
  for (;;) {
    auto row = impl_->rows.step();
    if (!row) return row.error();
    if (!row.value()) return false;
    const auto body = impl_->rows.column_blob(0);
    out.Clear();
    if (!out.ParseFromArray(body.data(), static_cast<int>(body.size()))) continue;
    if (impl_->keys != nullptr) {
      if (auto s = unseal_pii(out, *impl_->keys); !s) return s.error();
    }
    return true;
  }
}

Result<LogQueries::DeadLetters> LogQueries::dead_letters() {
  auto st = impl_->db.prepare(
      "SELECT id, recorded_at, coalesce(adapter_id,''), coalesce(channel,0), coalesce(source_key,''), reason_code,"
      " coalesce(field,''), coalesce(detail,''), coalesce(location,''), coalesce(payload,'') FROM dead_letters ORDER BY id");
  if (!st) return st.error();
  return DeadLetters(std::make_unique<DeadLetters::Impl>(DeadLetters::Impl{std::move(st.value())}));
}

Result<bool> LogQueries::DeadLetters::next(DeadLetter& out) {
  auto& st = impl_->rows;
  auto row = st.step();
  if (!row) return row.error();
  if (!row.value()) return false;
  out.id = st.column_int(0);
  out.recorded_at_us = st.column_int(1);
  out.adapter_id = st.column_text(2);
  out.channel = st.column_int(3);
  out.source_key = st.column_text(4);
  out.reason_code = st.column_text(5);
  out.field = st.column_text(6);
  out.detail = st.column_text(7);
  out.location = st.column_text(8);
  out.payload = st.column_blob(9);
  return true;
}

Result<std::uint64_t> LogQueries::head_seq() {
  auto st = impl_->db.prepare("SELECT coalesce(max(seq), 0) FROM log");
  if (!st) return st.error();
  auto row = st->step();
  if (!row) return row.error();
  return row.value() ? static_cast<std::uint64_t>(st->column_int(0)) : 0;
}

Result<std::vector<SubscriptionCursor>> LogQueries::subscriptions() {
  auto st = impl_->db.prepare(
      "SELECT s.name, s.acked_seq, s.updated_at, coalesce((SELECT recorded_at FROM log WHERE seq = s.acked_seq + 1), 0)"
      " FROM subscriptions s ORDER BY s.name");
  if (!st) return st.error();
  std::vector<SubscriptionCursor> out;
  for (;;) {
    auto row = st->step();
    if (!row) return row.error();
    if (!row.value()) return out;
    out.push_back({std::string(st->column_text(0)), static_cast<std::uint64_t>(st->column_int(1)), st->column_int(2),
                   st->column_int(3)});
  }
}

Result<std::vector<OpenTicketCount>> LogQueries::open_tickets() {
  // NEW, ASSIGNED, ACCEPTED, RETURNED (gridhub.v1.TicketStatus): what is still someone's to do.
  auto st = impl_->db.prepare(
      "SELECT coalesce(tier, 0), coalesce(assignee_code, ''), count(*) FROM tickets"
      " WHERE status IN (1, 2, 3, 5) GROUP BY 1, 2 ORDER BY 1, 2");
  if (!st) return st.error();
  std::vector<OpenTicketCount> out;
  for (;;) {
    auto row = st->step();
    if (!row) return row.error();
    if (!row.value()) return out;
    out.push_back({st->column_int(0), std::string(st->column_text(1)), static_cast<std::uint64_t>(st->column_int(2))});
  }
}

std::string LogQueries::dead_letter_payload(std::string_view stored, bool open) {
  if (stored.empty()) return {};
  if (pii_value_state(stored) != PiiValueState::kSealed) return open ? std::string(stored) : std::string(kSealedText);
  std::optional<PiiKey> key;
  if (impl_->keys) {
    // A key table that cannot be read shows the payload as gone, never as bytes it might not be.
    if (auto k = impl_->keys->load(sealed_key_id(stored)); k) key = k.value();
  }
  if (!key) return std::string(kErasedText);
  if (!open) return std::string(kSealedText);
  // Event.original_payload: the field the writer sealed a rejected row under.
  auto plain = open_sealed(stored, gridhub::v1::Event::descriptor()->FindFieldByName("original_payload")->full_name(), *key);
  return plain ? *plain : std::string(kErasedText);
}

Status truncate_wal(const std::filesystem::path& file) {
  auto db = Database::open(file, sqlite::OpenMode::kReadWrite);
  if (!db) return db.error();
  return db->exec("PRAGMA wal_checkpoint(TRUNCATE)");
}

}  // namespace gridhub::log
