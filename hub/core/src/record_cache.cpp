#include "gridhub/core/record_cache.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "gridhub/core/pii.hpp"
#include "gridhub/log/pii_vault.hpp"

namespace gridhub::core {

namespace v1 = gridhub::v1;

RecordCache::RecordCache(log::LogReader& reader, std::size_t capacity) : reader_(reader), ring_(std::max<std::size_t>(capacity, 1)) {}

RecordCache::Entry* RecordCache::find(std::uint64_t seq) {
  Entry& e = ring_[seq % ring_.size()];
  return e.seq == seq ? &e : nullptr;
}

RecordCache::Entry& RecordCache::get(std::uint64_t seq, std::string_view stored) {
  Entry& e = ring_[seq % ring_.size()];
  if (e.seq != seq) {
    e.seq = seq;
    e.clear_ready = e.masked_ready = false;
    e.stored.assign(stored);
    if (!e.arena) {
      google::protobuf::ArenaOptions options;
      options.start_block_size = 2048;   // one block holds a typical ticket
      options.max_block_size = 64 * 1024;
      e.arena = std::make_unique<google::protobuf::Arena>(options);
    } else {
      e.arena->Reset();
    }
    auto* ticket = google::protobuf::Arena::CreateMessage<v1::Ticket>(e.arena.get());
    bool has_ticket = false;
    e.parsed = log::parse_record_ticket(e.stored, *ticket, has_ticket);
    e.ticket = e.parsed && has_ticket ? ticket : nullptr;
    if (!e.parsed) spdlog::error("stream: log record {} does not parse; no subscriber receives it (run gridhubctl verify)", seq);
  }
  return e;
}

const std::string& RecordCache::frame(Entry& e, bool pii) {
  std::string& out = pii ? e.clear : e.masked;
  bool& ready = pii ? e.clear_ready : e.masked_ready;
  if (!ready) {
    // Opened on the encoded bytes (the fields around the personal values are copied, not parsed).
    frame_.Clear();
    auto* d = frame_.mutable_delivery();
    d->set_seq(e.seq);
    if (auto st = reader_.unseal_record(e.stored, pii ? log::PiiPresentation{} : kMasked, *d->mutable_record()); !st) {
      // The key table could not be read: deliver nothing personal rather than the sealed text.
      spdlog::error("stream: opening record {}'s personal fields failed: {}", e.seq, st.error().message());
      v1::LogRecord cleared;
      (void)cleared.ParseFromString(e.stored);
      log::clear_pii(cleared);
      cleared.SerializeToString(d->mutable_record());
    }
    out.clear();
    frame_.SerializeToString(&out);
    ready = true;
  }
  return out;
}

std::size_t RecordCache::size() const {
  return static_cast<std::size_t>(std::count_if(ring_.begin(), ring_.end(), [](const Entry& e) { return e.seq != 0; }));
}

}  // namespace gridhub::core
