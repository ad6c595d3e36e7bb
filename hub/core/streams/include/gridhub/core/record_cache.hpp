#pragma once
/// The stream's view of the log's newest records: each read, parsed, opened and encoded once however
/// many subscribers it fans out to (stream_server.hpp). Personal fields are stored sealed
/// (gridhub/log/pii_vault.hpp); subscribers entitled to them get them opened, the others opened and
/// masked (138****0001), never the sealed text.

#include <google/protobuf/arena.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "gridhub/log/event_log.hpp"
#include "gridhub/v1/log.pb.h"
#include "gridhub/v1/wire.pb.h"

namespace gridhub::core {

class RecordCache {
 public:
  /// Holds the last `capacity` records; `reader` opens sealed fields and must outlive the cache.
  /// `ticket_fields`: the names of the ticket fields anyone deciding on an entry reads (entitlement,
  /// filters); only those are parsed. Empty: the whole ticket.
  RecordCache(log::LogReader& reader, std::size_t capacity, const std::vector<std::string_view>& ticket_fields = {});

  struct Entry {
    std::uint64_t seq = 0;
    bool parsed = false;
    std::string stored;              // the record's bytes as stored: personal fields sealed
    // The ticket the record carries (null: none), all that filters and entitlement look at: the
    // fields they read, parsed alone from the stored bytes, on the entry's own arena, which reuse
    // resets in one step.
    std::unique_ptr<google::protobuf::Arena> arena;
    const gridhub::v1::Ticket* ticket = nullptr;
    std::string clear;               // HubToSubscriber{delivery}, personal fields opened
    std::string masked;              // HubToSubscriber{delivery}, personal fields masked, raw bytes dropped
    bool clear_ready = false;
    bool masked_ready = false;
  };

  /// The entry for `seq` if the cache still holds it (live fan-out: no second read of the log).
  Entry* find(std::uint64_t seq);
  /// The entry for `seq`, parsed from `stored` unless already held.
  Entry& get(std::uint64_t seq, std::string_view stored);
  /// The whole Delivery frame in the form a subscriber may see (`pii`: opened; else masked), encoded on
  /// first use. Personal fields are opened here, once per form.
  const std::string& frame(Entry& e, bool pii);
  /// Entries in use.
  std::size_t size() const;
  /// Frames encoded so far (one per record and form asked for, however many subscribers it went to).
  std::uint64_t frames_encoded() const { return frames_encoded_; }

 private:
  log::LogReader& reader_;
  std::vector<Entry> ring_;
  std::string opened_;   // the record being opened (scratch)
  std::vector<std::uint32_t> ticket_fields_;   // field numbers, ascending
  std::uint64_t frames_encoded_ = 0;
};

}  // namespace gridhub::core
