#pragma once
/// What every file-importing adapter does after parsing: put each record's event in the outbox,
/// report rejected records with their location, deliver the outbox to the hub, and end with a
/// summary — sent, already known, rejected by reason — as text or one JSON line.
///
/// With adapter.metrics_listen set, GET /metrics is served (on a thread of its own) from open() to
/// the end of finish(), and "READY http=HOST:PORT" is printed on stdout before anything else.
///
/// Exit codes (returned by finish()): 0 done, 1 a file could not be read or parsed, 3 interrupted with
/// events still pending in the outbox (they go on the next run), 4 the hub refused events for good
/// (too large, invalid: never resent; the summary counts them). Configuration errors are the caller's
/// (exit 2).

#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "gridhub/adapter/adapter_config.hpp"
#include "gridhub/adapter/metrics.hpp"
#include "gridhub/adapter/outbox.hpp"
#include "gridhub/common/clock.hpp"
#include "gridhub/common/result.hpp"
#include "gridhub/v1/event.pb.h"

namespace gridhub::adapter {

class MetricsServer;

/// A record the adapter could not map, as the report file and the hub's dead letters name it.
struct RejectedRecord {
  std::string location;      // file:line
  std::string reason_code;   // "bad_date"
  std::string field;
  std::string detail;
};

/// What add() did with one file.
struct FileOutcome {
  std::string file;
  std::string error;                 // file-level: unreadable, undecodable, not an export
  bool retry = false;                // the outbox could not take the records: leave the file, try again
  std::size_t records = 0;           // records read (rejected ones included)
  std::size_t queued = 0;            // new in the outbox (rejections included: they become dead letters)
  std::size_t already_known = 0;     // the outbox had them from an earlier import
  std::size_t corrected = 0;         // new versions of records an earlier import sent rejected (or the hub refused)
  std::vector<RejectedRecord> rejected;

  /// Nothing importable: a file-level error, or every record rejected (an empty file included).
  bool failed() const { return !error.empty() || rejected.size() == records; }
};

class FileImporter {
 public:
  FileImporter(AdapterConfig config, const Clock& clock, int utc_offset_minutes);
  ~FileImporter();

  /// Opens the outbox; false (after logging why) when it cannot.
  bool open();
  /// One file's outcome: its events, or the file-level error that stopped it.
  FileOutcome add(const std::string& file, Result<std::vector<gridhub::v1::Event>> parsed);
  /// Delivers everything pending until done or `stop` is set, prints the summary, returns the exit code.
  int finish(bool json, const std::atomic<bool>& stop);

  /// For callers that deliver on their own schedule (the drop-folder watcher); valid after open().
  Outbox& outbox() { return *outbox_; }
  const AdapterConfig& config() const { return config_; }

 private:
  AdapterConfig config_;
  const Clock& clock_;
  int utc_offset_minutes_;
  std::optional<Outbox> outbox_;
  std::size_t files_ = 0;
  std::size_t file_errors_ = 0;
  std::size_t rows_ = 0;
  std::size_t already_known_ = 0;
  std::size_t corrected_ = 0;
  std::size_t outbox_full_ = 0;
  std::map<std::string, std::size_t> rejected_;
  Metrics metrics_;
  AdapterCounters counters_{metrics_};
  std::unique_ptr<MetricsServer> metrics_server_;
};

/// Installs SIGINT/SIGTERM handlers that set the returned flag (the importer stops delivering and
/// keeps what is pending for the next run).
const std::atomic<bool>& install_stop_signals();

}  // namespace gridhub::adapter
