#pragma once
/// The sequencer: the one ordered stage that turns what the hub's writers submit (intake, dead letters,
/// ticket changes, cursors, erasures; gridhub/log/submission.hpp) into decided records, before storage.
/// Every stateful decision is made here, in log order: the dedup answer, seq and ticket id, disposition
/// and the merge (IntakeHook), provenance, version and prior_seq, a change's `apply`, an erasure's
/// cleared ticket and the keys it destroys, recorded_at, and the sealing of personal data (keys made
/// here, stored by the log with the record). Storage (gridhub/log/event_log.hpp) then only stores,
/// chains and projects what was decided.
///
/// It reads what it needs through the log's narrow interface, plus an overlay of what it decided
/// earlier in the same batch that storage has not stored yet: a second report of one source key in a
/// batch is a duplicate, a change after a merge in the batch sees the merged state, keys made in the
/// batch are found. When the batch is not stored, the overlay is dropped and nothing decided for it
/// counts: its seqs are used again by the next batch.
///
/// Pipelining (not done yet): to decide batch N+1 while storage commits batch N, the overlay would have
/// to outlive its batch until storage confirmed it (one overlay per batch in flight, searched newest
/// first), head_ would run ahead of storage's head, and a failed commit of N would drop N+1's decisions
/// too (storage's seq fencing already refuses a batch that does not continue its head). The merger's
/// memory (IntakeHook) would need the same undo, which it lacks today as before this stage existed.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "gridhub/common/clock.hpp"
#include "gridhub/common/result.hpp"
#include "gridhub/log/event_log.hpp"
#include "gridhub/log/submission.hpp"

namespace gridhub::core {

/// Finishes intake items in log order: the place for decisions that depend on what came before
/// (merging reports of one incident). Called once per new, non-duplicate intake item with its seq and
/// the ticket id it would create. It sets `body.disposition`; for DISPOSITION_MERGED it sets
/// `body.ticket().incident_id()` to the existing ticket to join, and the sequencer then makes that
/// ticket, with this report's provenance appended, the record's ticket.
class IntakeHook {
 public:
  virtual ~IntakeHook() = default;
  virtual void complete(log::IntakeItem& item, std::uint64_t seq, const std::string& ticket_id,
                        std::int64_t now_us) noexcept = 0;
};

/// Decides what follows from a new ticket, in log order: a record of its own written right after the
/// intake record that made the ticket (hotspots: gridhub/core/hotspots.hpp). Unlike the merger's
/// memory, a hook's memory is undone with its batch: the sequencer calls stored() or dropped() after
/// each decided batch, so what the hook remembers is always what the log holds.
class TicketHook {
 public:
  /// Reads a ticket's current state through the sequencer (this batch's decisions included).
  using LoadTicket = std::function<Result<log::StoredTicket>(const std::string& ticket_id)>;
  virtual ~TicketHook() = default;
  /// `made` (seq and recorded_at set) just created a ticket. `next` comes with its seq (made's + 1) and
  /// recorded_at set; the hook fills its body, ticket_id and prior_seq and returns true when a record
  /// follows, false when none does. An error (a read failed) drops the batch.
  virtual Result<bool> follow(const gridhub::v1::LogRecord& made, const LoadTicket& load, gridhub::v1::LogRecord& next) = 0;
  virtual void stored() = 0;
  virtual void dropped() = 0;
};

class Sequencer {
 public:
  /// `storage` and `hook` (null: every intake makes a new ticket) must outlive the sequencer.
  Sequencer(log::EventLog& storage, const Clock& clock, IntakeHook* hook = nullptr);

  /// Decides `items` in order. On success `writes` holds what storage is to store, in log order, and
  /// `out` one outcome per item (refused changes and duplicates write nothing); nothing is stored yet,
  /// and the caller must call stored() or dropped() before the next decide. On failure (an erasure of an
  /// unknown ticket, a read that failed) nothing counts: the overlay is dropped.
  Status decide(std::span<log::AppendItem> items, std::vector<log::Write>& writes,
                std::vector<log::AppendOutcome>& out);
  /// Storage stored the last decided batch: the overlay is no longer needed.
  void stored();
  /// Storage did not store it: forget what was decided, seqs included.
  void dropped();

  /// decide, then storage's append, in one step (what the writer thread runs). On failure nothing was
  /// stored and `out` is empty.
  Status append(std::span<log::AppendItem> items, std::vector<log::AppendOutcome>& out);

  /// Records that follow a new ticket (null: none). Must outlive the sequencer; set before the first decide.
  void set_ticket_hook(TicketHook* hook) { ticket_hook_ = hook; }

  /// The last seq decided and stored.
  std::uint64_t head_seq() const { return head_; }
  log::EventLog& storage() { return storage_; }

 private:
  Result<log::AppendOutcome> decide_one(log::IntakeItem& item, std::int64_t now);
  Result<log::AppendOutcome> decide_one(log::DeadLetterItem& item, std::int64_t now);
  Result<log::AppendOutcome> decide_one(log::ChangeItem& item, std::int64_t now);
  Result<log::AppendOutcome> decide_one(log::CursorItem& item, std::int64_t now);
  Result<log::AppendOutcome> decide_one(log::ErasureItem& item, std::int64_t now);

  // Reads through the overlay.
  Result<std::uint64_t> find_intake(int channel, const std::string& source_key);
  Result<std::uint64_t> find_change(const std::string& key);
  Result<log::StoredTicket> load_ticket(const std::string& ticket_id);
  Result<std::optional<log::PiiKey>> load_key(const std::string& key_id);
  /// The key `key_id` names: the known one when `reuse` and there is one, else a new one, recorded as a
  /// key operation of the write.
  Result<log::PiiKey> key_for(const std::string& key_id, bool reuse, std::vector<log::KeyOp>& ops);
  /// Remembers a decided record: its seq becomes the head, its ticket the ticket's current state.
  void decided(log::DecidedRecord&& w);
  /// The ticket hook's record after the new ticket `made`, if one follows (its ticket state in `o`).
  Status follow_up(std::int64_t now, log::AppendOutcome& o);
  void clear_overlay();

  log::EventLog& storage_;
  const Clock& clock_;
  IntakeHook* hook_;
  TicketHook* ticket_hook_ = nullptr;
  std::uint64_t head_;
  std::vector<log::Write>* writes_ = nullptr;   // the batch being decided
  std::vector<log::Write> own_writes_;          // append()'s batch; capacity reused

  // The overlay: what this batch decided that storage does not hold yet.
  std::unordered_map<std::string, std::uint64_t> intake_keys_;   // "<channel>/<source_key>" -> seq
  std::unordered_set<std::string> dead_letter_keys_;              // likewise
  std::unordered_map<std::string, std::uint64_t> change_keys_;
  std::unordered_map<std::string, std::size_t> tickets_;         // ticket id -> index in *writes_
  std::unordered_map<std::string, std::optional<log::PiiKey>> keys_;
};

/// The sequencer over its storage, as one log: what the hub's writer runs, and what tools and tests that
/// append directly use (gridhubctl erase).
class SequencedLog {
 public:
  SequencedLog(std::unique_ptr<log::EventLog> storage, const Clock& clock, IntakeHook* hook = nullptr);
  Status append(std::span<log::AppendItem> items, std::vector<log::AppendOutcome>& out) {
    return sequencer_.append(items, out);
  }
  std::uint64_t head_seq() const { return sequencer_.head_seq(); }
  log::EventLog& storage() { return *storage_; }

 private:
  std::unique_ptr<log::EventLog> storage_;
  Sequencer sequencer_;
};

/// open_event_log (its lock, schema, identity and observer), with a sequencer in front.
Result<std::unique_ptr<SequencedLog>> open_log(const std::filesystem::path& file, const log::LogOptions& options,
                                               const Clock& clock, IntakeHook* hook = nullptr,
                                               log::CommitObserver* observer = nullptr);

}  // namespace gridhub::core
