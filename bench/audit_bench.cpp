// The auditors' tools on a log the hub just wrote: a raw sequential SQLite read of the same table as
// the baseline, then `verify` (hash chain) and `replay` (JSON lines to /dev/null).
#include <sqlite3.h>

#include <time.h>

#include <chrono>
#include <cstdio>

#include "bench.hpp"
#include "gridhub/audit/replay.hpp"
#include "gridhub/audit/verify.hpp"

namespace gridhub::bench {
namespace {

/// CPU seconds of this process, all threads: beside the wall clock, what a figure costs on a shared box.
double process_cpu_s() {
  timespec ts{};
  ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

}  // namespace

AuditRun audit_rates(const std::filesystem::path& db_file) {
  using Clock = std::chrono::steady_clock;
  AuditRun run;
  {
    // The file into the page cache first: otherwise whichever figure runs first pays for reading it
    // from disk, and on a box short of memory that was the baseline.
    std::FILE* f = std::fopen(db_file.c_str(), "rb");
    if (f == nullptr) throw BenchError(db_file.string() + ": cannot read");
    static char chunk[1 << 20];
    while (std::fread(chunk, 1, sizeof chunk, f) == sizeof chunk) {
    }
    std::fclose(f);
  }
  {
    sqlite3* db = nullptr;
    if (sqlite3_open_v2(db_file.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
      sqlite3_close(db);
      throw BenchError(db_file.string() + ": cannot open for the raw read");
    }
    sqlite3_stmt* st = nullptr;
    sqlite3_prepare_v2(db, "SELECT seq, recorded_at, body, hash FROM log ORDER BY seq", -1, &st, nullptr);
    const auto t0 = Clock::now();
    const double c0 = process_cpu_s();
    std::uint64_t rows = 0;
    std::uint64_t bytes = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
      // Touch every column, as verify must.
      bytes += static_cast<std::uint64_t>(sqlite3_column_int64(st, 0) + sqlite3_column_int64(st, 1));
      bytes += static_cast<std::uint64_t>(sqlite3_column_bytes(st, 2) + sqlite3_column_bytes(st, 3));
      (void)sqlite3_column_blob(st, 2);
      (void)sqlite3_column_blob(st, 3);
      ++rows;
    }
    const double s = std::chrono::duration<double>(Clock::now() - t0).count();
    run.raw_read_cpu_us = (process_cpu_s() - c0) * 1e6 / static_cast<double>(rows == 0 ? 1 : rows);
    sqlite3_finalize(st);
    sqlite3_close(db);
    run.records = rows;
    run.raw_read_per_s = static_cast<double>(rows) / s;
    if (bytes == 0) throw BenchError("raw read saw no data");
  }
  for (const bool projection : {false, true}) {
    audit::VerifyOptions options;
    options.check_projection = projection;
    const auto t0 = Clock::now();
    const double c0 = process_cpu_s();
    auto r = audit::verify_log(db_file, options);
    const double s = std::chrono::duration<double>(Clock::now() - t0).count();
    const double cpu = process_cpu_s() - c0;
    if (!r) throw BenchError(r.error().message());
    if (r->records > 0) (projection ? run.verify_projection_cpu_us : run.verify_cpu_us) = cpu * 1e6 / static_cast<double>(r->records);
    if (r->problem != audit::Problem::kNone) throw BenchError("verify reported a problem on the hub's own log");
    (projection ? run.verify_projection_per_s : run.verify_per_s) = static_cast<double>(r->records) / s;
  }
  {
    std::FILE* devnull = std::fopen("/dev/null", "w");
    if (devnull == nullptr) throw BenchError("cannot open /dev/null");
    const auto t0 = Clock::now();
    const double c0 = process_cpu_s();
    auto r = audit::replay(db_file, audit::ReplayOptions{}, devnull);
    const double s = std::chrono::duration<double>(Clock::now() - t0).count();
    const double cpu = process_cpu_s() - c0;
    std::fclose(devnull);
    if (!r) throw BenchError(r.error().message());
    if (r.value() > 0) run.replay_cpu_us = cpu * 1e6 / static_cast<double>(r.value());
    run.replay_per_s = static_cast<double>(r.value()) / s;
  }
  return run;
}

}  // namespace gridhub::bench
