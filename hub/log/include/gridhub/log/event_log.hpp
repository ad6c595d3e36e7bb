#pragma once
/// The append-only event log and its ticket projection, in one SQLite file (WAL).
///
/// Tables (docs/log-format.md): `log` — one row per gridhub.v1.LogRecord, seq dense from 1, the record's
/// serialized bytes in `body`, chained by `hash` (gridhub/log/chain.hpp); `tickets` — each ticket's
/// current state, derived from `log` and rebuildable from it; `dead_letters` — every rejected record with
/// its reason. An intake event is stored at most once per (channel, source_key): a re-sent event is
/// reported as a duplicate with its original seq.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "gridhub/common/clock.hpp"
#include "gridhub/common/progress.hpp"
#include "gridhub/common/result.hpp"
#include "gridhub/log/checkpoint.hpp"
#include "gridhub/log/pii_vault.hpp"
#include "gridhub/v1/log.pb.h"

namespace gridhub::log {

enum class Durability {
  kFull,     // fsync on every commit: an ack survives power loss (default)
  kNormal,   // fsync at checkpoints only: survives a process crash, may lose the last commits on power loss
};

struct LogOptions {
  Durability durability = Durability::kFull;
};

/// An accepted intake event and the ticket it creates. The log assigns seq and ticket id.
struct IntakeItem {
  gridhub::v1::IntakeAccepted body;
  /// Whatever the IntakeHook needs to finish this item (the pipeline's assessment); opaque here.
  std::shared_ptr<void> hook_state;
};

/// Finishes intake items in log order, inside the writer's transaction: the place for decisions that
/// depend on what came before (merging reports of one incident). Called once per new, non-duplicate
/// intake item with its seq and the ticket id it would create. It sets `body.disposition`; for
/// DISPOSITION_MERGED it sets `body.ticket().incident_id()` to the existing ticket to join, and the log
/// then stores that ticket, with this report's provenance appended, as the record's ticket.
class IntakeHook {
 public:
  virtual ~IntakeHook() = default;
  virtual void complete(IntakeItem& item, std::uint64_t seq, const std::string& ticket_id, std::int64_t now_us) noexcept = 0;
};

/// A record that could not be accepted, kept with its reason.
struct DeadLetterItem {
  std::string adapter_id;
  int channel = 0;
  std::string source_key;    // empty when the record could not be parsed far enough to know it
  std::string reason_code;
  std::string field;
  std::string detail;
  std::string location;
  std::string payload;
};

/// Why a change to a ticket was refused (nothing was written).
/// kInconsistent: the ticket's row in the projection disagrees with the log record it names (edited
/// outside the hub); nothing is decided on it until an operator has checked (gridhubctl verify).
enum class Refusal { kNone, kInvalid, kNotFound, kNotEntitled, kBadTransition, kInconsistent };

/// A change to an existing ticket — a subscriber's update, an SLA escalation, an erasure — decided on
/// the writer thread inside the commit's transaction, against the ticket's state at that point in the
/// log. Changes to one ticket therefore serialize in log order whatever the io thread saw.
struct ChangeItem {
  std::string ticket_id;
  /// Stored as the record's source_key: a second change with the same key is not applied again and is
  /// reported as a duplicate with the original seq (a subscriber resending an update). Empty: none.
  std::string idempotency_key;
  /// Fills `record`'s body (and may refuse). `record` arrives with seq, recorded_at and ticket_id set;
  /// `ticket` is the current state (version = the last seq that changed it). The body's ticket is the
  /// new state, which the log projects. Runs on the writer thread; must not throw.
  std::function<Refusal(const gridhub::v1::Ticket& ticket, gridhub::v1::LogRecord& record, std::string& reason)> apply;
};

/// A named subscriber's durable cursor: everything up to acked_seq is handled. Not part of the chain
/// (operational state), written in the same commit as whatever else is queued.
struct CursorItem {
  std::string name;
  std::string identity;
  std::uint64_t acked_seq = 0;
};

/// Erase a ticket's personal data on lawful request (docs/audit.md, "Erasure"): appends a chained
/// `erasure` record carrying the ticket with its personal fields cleared, updates the projection and
/// destroys the ticket's key (gridhub/log/pii_vault.hpp), all in the append's transaction. Fails the
/// append when the ticket is not in the projection.
struct ErasureItem {
  std::string ticket_id;
  std::string request_ref;    // the lawful request's reference (case number)
  std::string requested_by;   // who ordered it
};

using AppendItem = std::variant<IntakeItem, DeadLetterItem, ChangeItem, CursorItem, ErasureItem>;

/// What a committed record left a ticket as — enough for the SLA clocks, without the whole ticket.
struct TicketState {
  std::string ticket_id;   // empty: the record left no ticket
  int status = 0;          // gridhub.v1.TicketStatus
  std::int64_t sla_due = 0;
  std::uint64_t version = 0;
};

struct AppendOutcome {
  AppendOutcome() = default;
  AppendOutcome(std::uint64_t s, bool dup, bool dead) : seq(s), duplicate(dup), dead_lettered(dead) {}

  std::uint64_t seq = 0;        // log seq of the record (the original one when duplicate); 0 for dead letters
  bool duplicate = false;
  bool dead_lettered = false;
  Refusal refused = Refusal::kNone;   // ChangeItem: why nothing was written
  std::string reason;                 // ... in words (never PII)
  TicketState ticket;                 // a new record that left a ticket: its state
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

/// Where events are durably appended. One writer; see LogReader for reading beside it.
class EventLog {
 public:
  virtual ~EventLog() = default;
  /// Appends all items in one transaction (group commit). On success `out` holds one outcome per item,
  /// and every outcome is durable per the configured Durability. On failure nothing was stored.
  virtual Status append(std::span<AppendItem> items, std::vector<AppendOutcome>& out) = 0;
  virtual std::uint64_t head_seq() const = 0;
};

class SqliteEventLog;

/// Opens (creating if needed, migrating an older schema) the log database for writing. `observer`, if
/// given, must outlive the log: it hears the chain head at open, after every commit and at close.
/// There is one writer per file: it holds an exclusive lock on `FILE-writer.lock` (flock) while open,
/// and a second open_event_log of the same file — another hub, `gridhubctl erase` beside a running
/// hub — fails with Errc::unavailable, naming the lock file.
Result<std::unique_ptr<EventLog>> open_event_log(const std::filesystem::path& file, const LogOptions& options,
                                                 const Clock& clock, IntakeHook* hook = nullptr,
                                                 CommitObserver* observer = nullptr);

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
