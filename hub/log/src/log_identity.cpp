#include "gridhub/log/log_identity.hpp"

#include <sodium.h>

#include <array>

#include <fmt/format.h>

#include "log_identity.hpp"

namespace gridhub::log {
namespace detail {
namespace {

constexpr const char* kCreate = R"sql(
CREATE TABLE IF NOT EXISTS timelines(
  n          INTEGER PRIMARY KEY,
  id         TEXT    NOT NULL UNIQUE,
  first_seq  INTEGER NOT NULL,
  created_at INTEGER NOT NULL
);
)sql";

Result<std::string> random_id() {
  if (sodium_init() < 0) return Error(Errc::io_failed, "libsodium failed to initialise");
  std::array<unsigned char, 8> b{};
  randombytes_buf(b.data(), b.size());
  std::string hex(b.size() * 2 + 1, '\0');
  sodium_bin2hex(hex.data(), hex.size(), b.data(), b.size());
  hex.pop_back();
  return hex;
}

Result<Timeline> insert(sqlite::Database& db, std::uint64_t first_seq, std::int64_t now_micros) {
  auto id = random_id();
  if (!id) return id.error();
  auto st = db.prepare("INSERT INTO timelines(id, first_seq, created_at) VALUES(?,?,?)");
  if (!st) return st.error();
  st->bind(1, id.value()).bind(2, static_cast<std::int64_t>(first_seq)).bind(3, now_micros);
  if (auto s = st->run(); !s) return s.error();
  return Timeline{id.value(), first_seq};
}

}  // namespace

Status ensure_log_identity(sqlite::Database& db, std::int64_t now_micros) {
  if (auto s = db.exec(kCreate); !s) return s;
  auto n = db.query_int("SELECT count(*) FROM timelines");
  if (!n) return n.error();
  if (n.value() > 0) return Ok{};
  auto t = insert(db, 1, now_micros);
  if (!t) return t.error();
  return Ok{};
}

Result<Timeline> fork_timeline(sqlite::Database& db, std::uint64_t first_seq, std::int64_t now_micros) {
  return insert(db, first_seq, now_micros);
}

Result<LogIdentity> load_log_identity(sqlite::Database& db) {
  LogIdentity out;
  auto exists = db.query_int("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'timelines'");
  if (!exists) return exists.error();
  if (exists.value() == 0) return out;
  auto st = db.prepare("SELECT id, first_seq FROM timelines ORDER BY n");
  if (!st) return st.error();
  for (;;) {
    auto row = st->step();
    if (!row) return row.error();
    if (!row.value()) break;
    out.timelines.push_back(Timeline{std::string(st->column_text(0)), static_cast<std::uint64_t>(st->column_int(1))});
  }
  if (!out.timelines.empty()) out.log_id = out.timelines.front().id;
  return out;
}

}  // namespace detail

Result<LogIdentity> read_log_identity(const std::filesystem::path& db_file) {
  auto db = sqlite::Database::open(db_file, sqlite::OpenMode::kReadOnly);
  if (!db) return db.error();
  return detail::load_log_identity(db.value());
}

}  // namespace gridhub::log
