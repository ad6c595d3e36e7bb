#pragma once
/// Read-only queries over a log database for operators' tools (gridhubctl): the ticket projection in
/// the order tickets were made, the dead letters, and the one maintenance step a tool runs on a stopped
/// hub's log. The tools ask these; only the log library knows how the log is stored.
///
/// Reading is safe beside a running writer (SQLite WAL). Not thread-safe: one LogQueries per thread.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "gridhub/common/result.hpp"
#include "gridhub/v1/ticket.pb.h"

namespace gridhub::log {

/// What a dead letter's payload reads as when it is sealed and the reader did not ask to open it.
inline constexpr std::string_view kSealedText = "[sealed]";

/// One rejected record as the log keeps it. Absent columns read as empty (0 for the channel).
struct DeadLetter {
  std::int64_t id = 0;
  std::int64_t recorded_at_us = 0;
  std::string adapter_id;
  std::int64_t channel = 0;   // gridhub.v1.Channel
  std::string source_key;
  std::string reason_code;
  std::string field;
  std::string detail;
  std::string location;
  std::string payload;        // as stored: sealed (pii_vault.hpp), or plain in a log from before sealing
};

/// A named subscription's durable cursor and how far behind the log's head it is.
struct SubscriptionCursor {
  std::string name;
  std::uint64_t acked_seq = 0;
  std::int64_t updated_at_us = 0;        // when the cursor last moved (stored by the hub's writer)
  std::int64_t oldest_unacked_us = 0;    // recorded_at of record acked_seq + 1; 0 when caught up
};

/// Open tickets (status NEW, ASSIGNED, ACCEPTED or RETURNED) of one tier and assignee.
struct OpenTicketCount {
  std::int64_t tier = 0;      // gridhub.v1.Tier (0: none yet)
  std::string assignee;       // "" when not assigned
  std::uint64_t count = 0;
};

class LogQueries {
 public:
  /// Opens `file` read-only. The error is the database's (no such file, not a database).
  static Result<LogQueries> open(const std::filesystem::path& file);

  /// The current ticket projection, one ticket at a time in the order the tickets were made, their
  /// personal fields opened with the log's keys ("[erased]" where the key was destroyed). Must not
  /// outlive the LogQueries that made it.
  class Tickets {
   public:
    /// The next ticket into `out`: true, or false at the end. A stored body that does not parse is
    /// skipped. An error when the database cannot be read or the key table cannot be.
    Result<bool> next(gridhub::v1::Ticket& out);

    Tickets(Tickets&&) noexcept;
    Tickets& operator=(Tickets&&) noexcept;
    ~Tickets();

   private:
    friend class LogQueries;
    struct Impl;
    explicit Tickets(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
  };

  /// Every dead letter in the order it was recorded. Must not outlive the LogQueries that made it.
  class DeadLetters {
   public:
    /// The next dead letter into `out`: true, or false at the end.
    Result<bool> next(DeadLetter& out);

    DeadLetters(DeadLetters&&) noexcept;
    DeadLetters& operator=(DeadLetters&&) noexcept;
    ~DeadLetters();

   private:
    friend class LogQueries;
    struct Impl;
    explicit DeadLetters(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
  };

  /// The projection's tickets. An error (the database's) when `file` holds no gridhub log.
  Result<Tickets> tickets();
  /// The dead letters. An error (the database's) when `file` holds no gridhub log.
  Result<DeadLetters> dead_letters();

  /// The log's last seq (0 when empty).
  Result<std::uint64_t> head_seq();
  /// Every named subscription's cursor, by name.
  Result<std::vector<SubscriptionCursor>> subscriptions();
  /// Open tickets counted by tier and assignee, from the projection (one grouped query).
  Result<std::vector<OpenTicketCount>> open_tickets();

  /// A dead letter's stored payload as a reader may see it: "" when there is none; "[erased]" once the
  /// key that sealed it is destroyed (whatever `open`); otherwise "[sealed]" unless `open`, and with
  /// `open` the payload as received. A plain payload (a log from before sealing) is shown only with `open`.
  std::string dead_letter_payload(std::string_view stored, bool open);

  LogQueries(LogQueries&&) noexcept;
  LogQueries& operator=(LogQueries&&) noexcept;
  ~LogQueries();

 private:
  struct Impl;
  explicit LogQueries(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

/// Folds `file`'s write-ahead log into the database and truncates it, so page images it still holds
/// (a destroyed key's, after an erasure) leave the disk. Run by a tool on a stopped hub's log.
Status truncate_wal(const std::filesystem::path& file);

}  // namespace gridhub::log
