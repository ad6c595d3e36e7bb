#pragma once
/// The event log on a NATS JetStream stream (docs/jetstream.md).
///
/// The stream is the log's source of truth; the SQLite log file is this hub's replica and read cache, so
/// every reader of the log (LogReader, streams, gridhubctl verify/replay/state) works on it unchanged.
/// append() publishes each decided record's stored bytes to the log stream (stream seq == record seq),
/// each with the expected last sequence seq - 1 (fencing: a writer whose head is stale is refused and
/// stores nothing), waits for the acknowledgements, and only then stores the same writes in the replica.
/// At open the replica is caught up from the stream (records acknowledged by JetStream but not committed
/// locally, or a replica file deleted); a replica holding a record the stream lacks, or a different one,
/// refuses to open, naming both.
///
/// Personal-data keys live in a key-value bucket beside the stream (`<stream>_KEYS`, one revision per
/// key), so that erasure can purge them; a record's message names the keys it puts and destroys in its
/// headers. Dead letters and subscriber cursors stay in the replica alone in this slice.
///
/// Config ([log] in hub.toml, gridhub/core/hub_config.hpp): backend = "jetstream", servers, stream,
/// subject, replicas (default 3), credentials (optional .creds file), timeout_ms.

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "gridhub/log/event_log.hpp"

namespace gridhub::log {

struct JetStreamOptions {
  std::vector<std::string> servers;   // nats://host:port of the cluster's nodes
  std::string stream = "GRIDHUB_LOG";
  std::string subject = "gridhub.log";
  int replicas = 3;
  std::filesystem::path credentials;  // empty: none
  /// How long one publish (with its retries through a node's failure and a leader election) and the
  /// stream's set-up may take before the append fails.
  std::chrono::milliseconds timeout{10000};
};

/// Opens the replica `file` (open_event_log: its lock, schema, observer), connects to the cluster,
/// creates the stream and key bucket if they do not exist, and catches the replica up from the stream.
/// Errc::unavailable: the cluster cannot be reached; Errc::storage_failed: the replica and the stream
/// disagree (the message names both).
Result<std::unique_ptr<EventLog>> open_jetstream_event_log(const std::filesystem::path& file,
                                                           const JetStreamOptions& js, const LogOptions& options,
                                                           const Clock& clock, CommitObserver* observer = nullptr);

/// What migrate_to_jetstream copied.
struct MigrationReport {
  std::uint64_t records = 0;   // copied, and read back from the stream identical, byte for byte
  std::uint64_t keys = 0;      // personal-data keys of records copied into the key bucket
};

/// Copies the SQLite log `from` into its JetStream stream, which must be empty: every record in seq
/// order, with its change key and the personal-data keys of its ticket or record, published as the
/// JetStream log publishes (through a scratch replica in `work_dir`); then a second replica is rebuilt
/// from the stream alone and must hold the same records byte for byte. Afterwards `from` itself is a
/// replica of the stream: a hub configured with [log] backend = "jetstream" and log_db = `from` opens
/// it as is, its dead letters and cursors included (they are not copied). The reverse direction needs
/// no tool: a hub opening an empty or missing replica rebuilds it from the stream.
Result<MigrationReport> migrate_to_jetstream(const std::filesystem::path& from, const JetStreamOptions& js,
                                             const std::filesystem::path& work_dir, const Clock& clock);

}  // namespace gridhub::log
