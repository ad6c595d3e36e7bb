#pragma once
/// The append-only event log and its ticket projection, in one SQLite file (WAL).
///
/// Tables (docs/log-format.md): `log` — one row per gridhub.v1.LogRecord, seq dense from 1, the record's
/// serialized bytes in `body`, chained by `hash` (gridhub/log/chain.hpp); `tickets` — each ticket's
/// current state, derived from `log` and rebuildable from it; `dead_letters` — every rejected record with
/// its reason. An intake event is stored at most once per (channel, source_key).
///
/// Storage decides nothing: the hub's sequencer (gridhub/core/sequencer.hpp) turns submitted items
/// (gridhub/log/submission.hpp) into decided records — dedup, seq, ticket id, merge, provenance,
/// sealing — and EventLog::append stores, chains and projects them.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "gridhub/common/clock.hpp"
#include "gridhub/common/progress.hpp"
#include "gridhub/common/result.hpp"
#include "gridhub/log/checkpoint.hpp"
#include "gridhub/log/pii_vault.hpp"
#include "gridhub/log/submission.hpp"
#include "gridhub/v1/log.pb.h"

namespace gridhub::log {

enum class Durability {
  kFull,     // fsync on every commit: an ack survives power loss (default)
  kNormal,   // fsync at checkpoints only: survives a process crash, may lose the last commits on power loss
};

struct LogOptions {
  Durability durability = Durability::kFull;
  /// How the writer fingerprints an intake's (channel, source_key) for its negative-lookup filter
  /// (find_intake). Null: a 64-bit hash. Tests set a coarse one to force collisions; the answers are
  /// exact either way.
  std::uint64_t (*intake_fingerprint)(int channel, std::string_view source_key) = nullptr;
};

/// The log record kinds, as stored in the `kind` column.
std::string_view record_kind(const gridhub::v1::LogRecord& record);
/// The ticket state a record leaves behind (null: the record made no ticket).
const gridhub::v1::Ticket* record_ticket(const gridhub::v1::LogRecord& record);
/// What one record does to the ticket projection: the ticket state it leaves (null: none; it points into
/// `record`) and whether it creates that ticket (an intake that made a new ticket) or changes an existing
/// one (a merged report, an update, an escalation, an erasure). The one rule that the writer's live
/// projection, rebuild_projection, `verify` and `gridhubctl state --as-of` all apply.
struct ProjectionStep {
  const gridhub::v1::Ticket* ticket = nullptr;
  bool creates = false;
};
ProjectionStep projection_step(const gridhub::v1::LogRecord& record);
/// Whether a `tickets` row's stored body holds `state` (what projection_step derives). The writer
/// stores the body by serializing that state, so equal bytes settle it without reflection (the common
/// case); different bytes are compared field by field, since an encoding may differ (a map's order)
/// where the state does not. `scratch` and `parsed` are the caller's, reused across calls.
bool projection_body_holds(std::string_view body, const gridhub::v1::Ticket& state, std::string& scratch,
                           gridhub::v1::Ticket& parsed);
/// record_ticket on a record's encoding: only the ticket's bytes are parsed (what a reader deciding who
/// may see the record needs), the rest is skipped. Returns false on malformed bytes; otherwise sets
/// `has_ticket` and, when set, `ticket`. `only` (field numbers of Ticket, ascending) non-empty: the
/// ticket gets those fields alone, the others are not even parsed.
bool parse_record_ticket(std::string_view stored, gridhub::v1::Ticket& ticket, bool& has_ticket,
                         std::span<const std::uint32_t> only = {});

/// A personal-data key operation decided with a write, done by storage in the write's transaction:
/// either the write and its keys' changes are stored, or neither.
struct KeyOp {
  std::string key_id;
  std::optional<PiiKey> key;   // set: store this key under key_id (replacing any); empty: destroy key_id's key
};

/// A chained record whose every field is decided (gridhub/core/sequencer.hpp): seq, recorded_at, ticket
/// id, prior_seq, the body with its personal data sealed. Storage stores, chains and projects it as is.
struct DecidedRecord {
  gridhub::v1::LogRecord record;
  /// Non-empty: the record is found under this key (find_change) from now on: a change's idempotency
  /// key, an erasure's "erasure/<ticket>".
  std::string change_key;
  /// The key may be indexed already (the latest erasure of a ticket): the record replaces it.
  bool replaces_change_key = false;
  std::vector<KeyOp> keys;
};

/// A dead letter, its payload sealed, with the key operation that sealing decided.
struct DeadLetterWrite {
  DeadLetterItem letter;
  std::int64_t recorded_at = 0;
  std::vector<KeyOp> keys;
};

/// A subscriber's cursor as of `updated_at`.
struct CursorWrite {
  CursorItem cursor;
  std::int64_t updated_at = 0;
};

using Write = std::variant<DecidedRecord, DeadLetterWrite, CursorWrite>;

/// A ticket's current state as the chained log holds it (docs/audit.md, "The projection"): the
/// projection's row names the record that last changed the ticket (last_seq); that record's ticket is
/// the state, and the row must agree with it, column for column and in its body. A row edited outside
/// the hub is reported in `mismatch`, never decided on.
struct StoredTicket {
  gridhub::v1::Ticket ticket;   // ticket_id empty: no such ticket
  std::uint64_t seq = 0;        // the record it comes from (a new record's prior_seq)
  std::string mismatch;         // non-empty: the row disagrees with that record (why, for the log)
};

/// Storage of the log: it receives fully decided records and only stores, chains and projects them,
/// and answers the reads the sequencer decides with. It decides nothing about tickets; a second
/// backend implements this interface without touching core. One writer; see LogReader for reading
/// beside it.
class EventLog {
 public:
  virtual ~EventLog() = default;
  /// Stores `writes` in one transaction (group commit): each record's bytes, its chain hash, its
  /// projection step, its unique keys ((channel, source_key) of an intake, its change key) and key
  /// operations; dead letters; cursors. Records must continue the head in order (seq = head + 1, ...):
  /// anything else is refused before anything is written. On failure nothing was stored; on success
  /// everything is durable per the configured Durability.
  virtual Status append(std::span<const Write> writes) = 0;
  virtual std::uint64_t head_seq() const = 0;

  /// The seq of the intake record stored under (channel, source_key); 0: none.
  virtual Result<std::uint64_t> find_intake(int channel, std::string_view source_key) = 0;
  /// Whether a dead letter is stored under (channel, source_key).
  virtual Result<bool> has_dead_letter(int channel, std::string_view source_key) = 0;
  /// The seq of the record stored under a change key; 0: none.
  virtual Result<std::uint64_t> find_change(std::string_view key) = 0;
  /// A ticket's current state, checked against the record it names (StoredTicket).
  virtual Result<StoredTicket> load_ticket(const std::string& ticket_id) = 0;
  /// A personal-data key (nullopt: never made, or destroyed).
  virtual Result<std::optional<PiiKey>> load_key(std::string_view key_id) = 0;
};

class SqliteEventLog;

/// Opens (creating if needed, migrating an older schema) the log database for writing. `observer`, if
/// given, must outlive the log: it hears the chain head at open, after every commit and at close.
/// There is one writer per file: it holds an exclusive lock on `FILE-writer.lock` (flock) while open,
/// and a second open_event_log of the same file — another hub, `gridhubctl erase` beside a running
/// hub — fails with Errc::unavailable, naming the lock file.
Result<std::unique_ptr<EventLog>> open_event_log(const std::filesystem::path& file, const LogOptions& options,
                                                 const Clock& clock, CommitObserver* observer = nullptr);

/// A read-only view for streams and tools; safe beside a running writer (WAL).
class LogReader {
 public:
  static Result<LogReader> open(const std::filesystem::path& file);
  /// Calls `fn(seq, body)` for up to `max` records with seq >= from_seq in order; returns how many.
  Result<std::size_t> read(std::uint64_t from_seq, std::size_t max,
                           const std::function<void(std::uint64_t, std::string_view)>& fn);
  Result<std::uint64_t> head_seq();
  /// A named subscriber's durable cursor: the identity that owns it and its acked seq (empty identity: none yet).
  Result<std::pair<std::string, std::uint64_t>> cursor(const std::string& name);
  /// The first seq recorded at or after `unix_micros` (head + 1 when none).
  Result<std::uint64_t> seq_at_time(std::int64_t unix_micros);
  /// A ticket's current state from the projection (ticket_id empty: unknown).
  Result<gridhub::v1::Ticket> ticket(const std::string& ticket_id);
  /// Opens the sealed personal fields of `msg` in place with the log's keys ("[erased]" where the key is
  /// gone), presented as `how` says; see pii_vault.hpp.
  Status unseal(google::protobuf::Message& msg, const PiiPresentation& how = {});
  /// The same on an encoded LogRecord, appending the re-encoded result to `out` (unseal_pii_encoded).
  Status unseal_record(std::string_view stored, const PiiPresentation& how, std::string& out);
  /// Calls `fn` for every ticket in the projection (start-up of the SLA clocks).
  Status for_each_ticket(const std::function<void(const gridhub::v1::Ticket&)>& fn);

  LogReader(LogReader&&) noexcept;
  LogReader& operator=(LogReader&&) noexcept;
  ~LogReader();

 private:
  struct Impl;
  explicit LogReader(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

/// Recomputes the `tickets` table from `log`; returns the number of tickets. `progress`: nullptr, none.
Result<std::uint64_t> rebuild_projection(const std::filesystem::path& file, Progress* progress = nullptr);

/// The ticket id the log gives the ticket created by record `seq`.
std::string ticket_id_for_seq(std::uint64_t seq);

}  // namespace gridhub::log
