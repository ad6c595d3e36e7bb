#pragma once
/// The adapter's local outbox: every event is written here (fsync'd) before it is sent, and stays
/// pending until the hub acknowledges it. Restarting the adapter resends what is pending, so delivery
/// is at-least-once across adapter and hub crashes; the hub's dedup makes it effectively once.
/// A (channel, source_key) enters the outbox once: re-importing a file adds nothing. The exception is
/// a record whose earlier version never made a ticket — a rejection (dead-lettered by the hub) or an
/// event the hub refused for good: a different, readable version of it takes the slot and is sent
/// (kCorrected), since the hub stores the log's one event per key only for events that made it.
/// Thread-safe: an HTTP adapter's io thread enqueues while its delivery thread sends (one mutex).
///
/// Acknowledged entries stay for a retention (adapter.retention_days), with the log and timeline that
/// acknowledged them: if the hub's log is later restored from a backup that lacks them, the restore
/// handshake (requeue_lost) makes them pending again. After the retention they are purged, personal
/// data included (the hub has them; re-importing a purged record is answered as a hub duplicate).

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "gridhub/common/clock.hpp"
#include "gridhub/common/result.hpp"
#include "gridhub/v1/event.pb.h"
#include "gridhub/v1/wire.pb.h"

namespace gridhub::adapter {

enum class EnqueueResult {
  kQueued,
  kAlreadyKnown,
  kCorrected,   // replaced an earlier version the hub dead-lettered or refused (or a rejection not yet sent)
  kFull,
};

struct OutboxEntry {
  std::int64_t id;
  std::string event_bytes;   // serialized gridhub.v1.Event
};

/// The hub's answer for one entry.
struct Delivery {
  std::int64_t id;
  std::uint64_t log_seq = 0;
  bool duplicate = false;
  bool dead_lettered = false;
  std::string refused_reason{};   // set when the hub refused the event for good (nack invalid/malformed/too large)
  std::string log_id{};           // Ack.log_id and Ack.timeline: where log_seq is (the restore handshake)
  std::string timeline{};
};

class Outbox {
 public:
  /// max_pending bounds the entries not yet acknowledged; beyond it enqueue answers kFull.
  static Result<Outbox> open(const std::filesystem::path& file, std::size_t max_pending, const Clock& clock);

  Outbox(Outbox&&) noexcept;
  Outbox& operator=(Outbox&&) noexcept;
  ~Outbox();

  /// Adds the events in one transaction; one result per event, in order.
  Result<std::vector<EnqueueResult>> enqueue(std::span<const gridhub::v1::Event> events);
  /// Up to `limit` pending entries with id > after_id, in id order.
  Result<std::vector<OutboxEntry>> pending(std::int64_t after_id, std::size_t limit);
  /// Records the hub's answers in one transaction; the entries stop being pending.
  Status complete(std::span<const Delivery> deliveries);
  Result<std::size_t> pending_count();
  /// The restore handshake (docs/wire-protocol.md, "After a restore"): makes pending again every entry
  /// acknowledged by this log (`hub.log_id`) that the log no longer holds — acked in its current
  /// timeline above its head, in an earlier timeline at or above the seq where the next one starts,
  /// or in a timeline not in its line (a branch lost to a later restore). Returns how many.
  Result<std::size_t> requeue_lost(const gridhub::v1::HelloReply& hub);
  /// Deletes the entries the hub answered (acknowledged or refused) longer than `retention` ago.
  Result<std::size_t> purge_completed(std::chrono::microseconds retention);
  const std::filesystem::path& file() const;

 private:
  struct Impl;
  explicit Outbox(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace gridhub::adapter
