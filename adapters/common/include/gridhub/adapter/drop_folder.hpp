#pragma once
/// Drop-folder mode for file-importing adapters: files dropped into a folder are imported once, then
/// moved to done/ or failed/ with a report NAME.report.txt beside them.
///
/// The "complete file" rule — a file is read only when all of these hold:
///   - its name ends in one of the adapter's extensions (case-insensitive), and it is not a dotfile,
///     an Office lock file (~$...), or a *.part / *.tmp / *.crdownload file still being written;
///   - its size and modification time were the same in every scan for at least `settle`
///     (so a writer that keeps appending is never read half-way).
/// Writers that can should write NAME.part and rename it to NAME when done (atomic on one file
/// system); a writer that pauses longer than `settle` in the middle of a file must do so.
///
/// The folder is scanned periodically rather than watched with inotify: drop folders are often
/// network shares (SMB/NFS), where inotify sees nothing written by other hosts; the settle rule needs
/// timed re-checks anyway; and a restart needs a full scan. One directory listing per second is cheap.
///
/// A file is moved only after its records are in the outbox and the outbox has been delivered to the
/// hub, so done/ means "the hub has it". A file still in the folder after a crash or stop is imported
/// again on the next start; the outbox and the hub recognise every record, so nothing is stored twice.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <ostream>
#include <string>
#include <vector>

#include "gridhub/adapter/file_import.hpp"
#include "gridhub/common/result.hpp"
#include "gridhub/v1/event.pb.h"

namespace gridhub::adapter {

struct DropFolderOptions {
  std::filesystem::path dir;
  std::vector<std::string> extensions;                // lower-case, with the dot: ".csv"
  std::chrono::milliseconds scan_interval{1000};
  std::chrono::milliseconds settle{2000};
};

/// Whether a file name is one to import at all (extension and the in-progress patterns above).
bool is_drop_candidate(const std::string& filename, const std::vector<std::string>& extensions);

/// Finds the complete files in the folder; the time is injected so the rule can be tested.
class DropFolderScanner {
 public:
  explicit DropFolderScanner(DropFolderOptions options) : options_(std::move(options)) {}

  /// One scan at `now_ms` (a monotonic clock): the files that are complete, in name order.
  std::vector<std::filesystem::path> scan(std::int64_t now_ms);
  /// Start the settle period of `file` afresh (after a failed attempt).
  void forget(const std::filesystem::path& file) { seen_.erase(file.filename().string()); }
  /// Never ready again while its size and time stay as they are (a file that cannot be moved away:
  /// importing it every scan would only flood the log).
  void hold(const std::filesystem::path& file);

 private:
  struct Seen {
    std::uintmax_t size;
    std::filesystem::file_time_type mtime;
    std::int64_t since_ms;
    bool held = false;
  };
  DropFolderOptions options_;
  std::map<std::string, Seen> seen_;
};

/// Moves `file` into `folder`, adding "-2", "-3"... before the extension if the name is taken.
Result<std::filesystem::path> move_into(const std::filesystem::path& file, const std::filesystem::path& folder);

/// The report written beside a processed file.
std::string format_report(const FileOutcome& outcome, const std::string& verdict, std::uint64_t hub_accepted,
                          std::uint64_t hub_duplicates, std::uint64_t hub_dead_lettered);

using ParseFn = std::function<Result<std::vector<gridhub::v1::Event>>(const std::string& file, const std::string& bytes)>;

/// Runs the watcher until `stop`: scan, import each complete file through `importer`, deliver,
/// move and report. Prints "WATCHING <dir>" once ready and "DONE <name>" / "FAILED <name>" per file
/// on `out`. Returns the exit code (0 stopped cleanly, 1 outbox failure, 2 folder unusable).
int watch_drop_folder(FileImporter& importer, const DropFolderOptions& options, const ParseFn& parse,
                      const std::atomic<bool>& stop, std::ostream& out);

}  // namespace gridhub::adapter
