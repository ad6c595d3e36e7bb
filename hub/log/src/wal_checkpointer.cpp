#include "wal_checkpointer.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace gridhub::log::detail {

Result<std::unique_ptr<WalCheckpointer>> WalCheckpointer::start(sqlite::Database& writer, int pages) {
  auto own = sqlite::Database::open(writer.file(), sqlite::OpenMode::kReadWrite);
  if (!own) return own.error();
  // Reading the mode also opens the connection's view of the file: a connection that has read nothing
  // yet does not know the file is in WAL mode, and its checkpoints would do nothing.
  auto mode = own->query_text("PRAGMA journal_mode");
  if (!mode) return mode.error();
  if (mode.value() != "wal") {
    return Error(Errc::storage_failed, fmt::format("{}: not in WAL mode (got '{}')", writer.file().string(), mode.value()));
  }
  // The hook replaces the automatic checkpoint (sqlite3_wal_autocheckpoint is itself a WAL hook).
  return std::unique_ptr<WalCheckpointer>(new WalCheckpointer(writer, std::move(own.value()), pages));
}

WalCheckpointer::WalCheckpointer(sqlite::Database& writer, sqlite::Database own, int pages)
    : writer_(writer), own_(std::move(own)), pages_(pages) {
  thread_ = std::thread([this] { run(); });
  sqlite3_wal_hook(writer_.handle(), &WalCheckpointer::on_commit, this);
}

WalCheckpointer::~WalCheckpointer() {
  // Back to SQLite's own checkpointing for whatever the writer still commits before it closes.
  sqlite3_wal_autocheckpoint(writer_.handle(), pages_);
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  spdlog::debug("log: {} WAL checkpoints beside the writer, {} inline because the WAL outgrew {} pages",
               background_.load(), inline_.load(), 4 * pages_);
}

int WalCheckpointer::on_commit(void* self, sqlite3* db, const char* name, int wal_pages) {
  auto* me = static_cast<WalCheckpointer*>(self);
  if (wal_pages >= 4 * me->pages_) {
    // The thread has not caught up: do what SQLite's own hook does, here, so the WAL stays bounded.
    sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
    me->inline_.fetch_add(1, std::memory_order_relaxed);
  } else if (wal_pages < me->last_wanted_at_) {
    me->last_wanted_at_ = 0;   // the WAL restarted from its beginning: a checkpoint caught up
  } else if (wal_pages >= me->last_wanted_at_ + me->pages_) {
    // Once per `pages` new frames, as SQLite's own: pages written again meanwhile are copied once.
    me->last_wanted_at_ = wal_pages;
    {
      std::lock_guard lock(me->mu_);
      me->wanted_ = true;
    }
    me->cv_.notify_all();
  }
  return SQLITE_OK;   // the commit itself has succeeded whatever a checkpoint does
}

bool WalCheckpointer::wait_for_checkpoints(std::uint64_t n, std::chrono::milliseconds limit) {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, limit, [&] { return finished_ >= n; });
}

void WalCheckpointer::run() {
  std::unique_lock lock(mu_);
  for (;;) {
    cv_.wait(lock, [&] { return wanted_ || stopping_; });
    if (stopping_) return;
    wanted_ = false;
    lock.unlock();
    // The WAL starts over only once a checkpoint has copied every frame in it; the writer keeps adding
    // frames meanwhile, so pass again over what it added, a few times, to catch up between two commits.
    for (int pass = 0; pass < 4; ++pass) {
      int log_frames = 0;
      int copied = 0;
      const int rc = sqlite3_wal_checkpoint_v2(own_.handle(), "main", SQLITE_CHECKPOINT_PASSIVE, &log_frames, &copied);
      if (rc != SQLITE_OK && rc != SQLITE_BUSY) {
        // Nothing is lost (the WAL keeps every commit); the writer's inline bound still applies.
        spdlog::warn("log: background WAL checkpoint of {} failed: {}", own_.file().string(), sqlite3_errmsg(own_.handle()));
        break;
      }
      if (rc != SQLITE_OK || copied >= log_frames) break;
    }
    background_.fetch_add(1, std::memory_order_relaxed);
    lock.lock();
    ++finished_;
    cv_.notify_all();
  }
}

}  // namespace gridhub::log::detail
