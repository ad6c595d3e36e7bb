#pragma once
/// What the hub's writers submit to its one ordered writer (gridhub/core/log_writer.hpp) — intake,
/// dead letters, ticket changes, cursors, erasures — and what each submission came to. The sequencer
/// (gridhub/core/sequencer.hpp) decides every item against the log; storage (event_log.hpp) then only
/// stores the decided records.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <variant>

#include "gridhub/v1/log.pb.h"

namespace gridhub::log {

/// An accepted intake event and the ticket it creates. The sequencer assigns seq and ticket id.
struct IntakeItem {
  gridhub::v1::IntakeAccepted body;
  /// Whatever the sequencer's IntakeHook needs to finish this item (the pipeline's assessment); opaque here.
  std::shared_ptr<void> hook_state;
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

/// A change to an existing ticket — a subscriber's update, an SLA escalation — decided by the sequencer
/// on the writer thread, against the ticket's state at that point in the log (including what earlier
/// items of the same batch decided). Changes to one ticket therefore serialize in log order whatever the
/// io thread saw.
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
/// batch when the ticket is not in the projection.
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
  int tier = 0;            // gridhub.v1.Tier (SLA clocks are counted by tier)
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
  TicketState follow_up;              // a record the hub wrote right after it (a hotspot): its ticket's state
};

}  // namespace gridhub::log
