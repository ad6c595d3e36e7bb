#pragma once
// WAL checkpoints beside the writer instead of inside its commits.
//
// SQLite's automatic checkpoint runs inside the COMMIT that takes the WAL past its threshold, on the
// committing thread: the hub's writer copied every page into the database file and fsynced it while
// the next batch of acks waited (a twelfth of the writer's time under load). Here the writer
// connection's WAL hook only notes the WAL's size; a thread with its own connection to the file runs
// PASSIVE checkpoints (they never block the writer) once the WAL has grown by `pages`. If the writer
// outruns it — a checkpoint can only reset the WAL once it has caught up between two commits — the
// hook checkpoints inline past `4 * pages`, as SQLite would, so the WAL stays bounded.
//
// Durability is unchanged: a commit is durable in the WAL (fsynced with durability "full"); a
// checkpoint only moves committed pages into the database file.

#include <sqlite3.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <memory>
#include <mutex>
#include <thread>

#include "gridhub/common/result.hpp"
#include "gridhub/sqlite/sqlite.hpp"

namespace gridhub::log::detail {

class WalCheckpointer {
 public:
  /// Turns off `writer`'s automatic checkpoint and hooks its commits; `pages` as SQLite's
  /// wal_autocheckpoint (its default is 1000). `writer` must outlive the checkpointer.
  static Result<std::unique_ptr<WalCheckpointer>> start(sqlite::Database& writer, int pages = 1000);
  WalCheckpointer(const WalCheckpointer&) = delete;
  WalCheckpointer& operator=(const WalCheckpointer&) = delete;
  /// Unhooks the writer and joins the thread (the writer's close checkpoints what is left).
  ~WalCheckpointer();

  /// Checkpoints run by the thread, and inline by the writer because the WAL passed the bound.
  std::uint64_t background() const { return background_.load(std::memory_order_relaxed); }
  std::uint64_t inline_fallbacks() const { return inline_.load(std::memory_order_relaxed); }
  /// Blocks until the thread has finished `n` checkpoints in all, at most `limit`; false on timeout (tests).
  bool wait_for_checkpoints(std::uint64_t n, std::chrono::milliseconds limit);

 private:
  WalCheckpointer(sqlite::Database& writer, sqlite::Database own, int pages);
  static int on_commit(void* self, sqlite3* db, const char* name, int wal_pages);
  void run();

  sqlite::Database& writer_;
  sqlite::Database own_;
  const int pages_;
  int last_wanted_at_ = 0;   // the WAL's size when the thread was last asked (writer's thread only)
  std::mutex mu_;
  std::condition_variable cv_;
  bool wanted_ = false;
  bool stopping_ = false;
  std::uint64_t finished_ = 0;   // checkpoints the thread has finished (under mu_)
  std::atomic<std::uint64_t> background_{0};
  std::atomic<std::uint64_t> inline_{0};
  std::thread thread_;
};

}  // namespace gridhub::log::detail
