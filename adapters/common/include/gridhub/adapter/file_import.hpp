#pragma once
/// What every file-importing adapter does after parsing: put each record's event in the outbox,
/// report rejected records with their location, deliver the outbox to the hub, and end with a
/// summary — sent, already known, rejected by reason — as text or one JSON line.
///
/// Exit codes (returned by finish()): 0 done, 1 a file could not be read or parsed, 3 interrupted with
/// events still pending in the outbox (they go on the next run). Configuration errors are the
/// caller's (exit 2).

#include <atomic>
#include <map>
#include <string>
#include <vector>

#include "gridhub/adapter/adapter_config.hpp"
#include "gridhub/adapter/outbox.hpp"
#include "gridhub/common/clock.hpp"
#include "gridhub/common/result.hpp"
#include "gridhub/v1/event.pb.h"

namespace gridhub::adapter {

class FileImporter {
 public:
  FileImporter(AdapterConfig config, const Clock& clock, int utc_offset_minutes);

  /// Opens the outbox; false (after logging why) when it cannot.
  bool open();
  /// One file's outcome: its events, or the file-level error that stopped it.
  void add(const std::string& file, Result<std::vector<gridhub::v1::Event>> parsed);
  /// Delivers everything pending until done or `stop` is set, prints the summary, returns the exit code.
  int finish(bool json, const std::atomic<bool>& stop);

 private:
  AdapterConfig config_;
  const Clock& clock_;
  int utc_offset_minutes_;
  std::optional<Outbox> outbox_;
  std::size_t files_ = 0;
  std::size_t file_errors_ = 0;
  std::size_t rows_ = 0;
  std::size_t already_known_ = 0;
  std::size_t outbox_full_ = 0;
  std::map<std::string, std::size_t> rejected_;
};

/// Installs SIGINT/SIGTERM handlers that set the returned flag (the importer stops delivering and
/// keeps what is pending for the next run).
const std::atomic<bool>& install_stop_signals();

}  // namespace gridhub::adapter
