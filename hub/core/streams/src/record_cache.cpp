#include "gridhub/core/record_cache.hpp"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/wire_format_lite.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "gridhub/core/pii.hpp"
#include "gridhub/log/pii_vault.hpp"

namespace gridhub::core {

namespace v1 = gridhub::v1;

namespace {

void put_tag_and_varint(std::string& out, std::uint8_t tag, std::uint64_t v) {
  std::uint8_t buf[11];
  buf[0] = tag;
  const auto* end = google::protobuf::io::CodedOutputStream::WriteVarint64ToArray(v, buf + 1);
  out.append(reinterpret_cast<const char*>(buf), static_cast<std::size_t>(end - buf));
}

/// HubToSubscriber{delivery: Delivery{seq, record}}, written by hand around the opened record (the
/// bytes the generated serializer would give: fields in number order, zero/empty values omitted),
/// without a second copy of the record or a size pass over it.
void encode_delivery(std::uint64_t seq, const std::string& record, std::string& out) {
  constexpr auto kLen = google::protobuf::internal::WireFormatLite::WIRETYPE_LENGTH_DELIMITED;
  constexpr auto kVarint = google::protobuf::internal::WireFormatLite::WIRETYPE_VARINT;
  const std::size_t delivery = (seq == 0 ? 0 : 1 + google::protobuf::io::CodedOutputStream::VarintSize64(seq)) +
                               (record.empty() ? 0 : 1 + google::protobuf::io::CodedOutputStream::VarintSize64(record.size()) + record.size());
  out.clear();
  out.reserve(delivery + 11);
  put_tag_and_varint(out, (v1::HubToSubscriber::kDeliveryFieldNumber << 3) | kLen, delivery);
  if (seq != 0) put_tag_and_varint(out, (v1::Delivery::kSeqFieldNumber << 3) | kVarint, seq);
  if (!record.empty()) {
    put_tag_and_varint(out, (v1::Delivery::kRecordFieldNumber << 3) | kLen, record.size());
    out += record;
  }
}

}  // namespace

RecordCache::RecordCache(log::LogReader& reader, std::size_t capacity, const std::vector<std::string_view>& ticket_fields)
    : reader_(reader), ring_(std::max<std::size_t>(capacity, 1)) {
  for (const auto name : ticket_fields) {
    const auto* f = v1::Ticket::descriptor()->FindFieldByName(std::string(name));
    if (f == nullptr) {
      // A name that is not a ticket field would silently read as empty: parse whole tickets instead.
      spdlog::error("stream: '{}' is not a ticket field; filters get whole tickets", name);
      ticket_fields_.clear();
      break;
    }
    ticket_fields_.push_back(static_cast<std::uint32_t>(f->number()));
  }
  std::sort(ticket_fields_.begin(), ticket_fields_.end());
  ticket_fields_.erase(std::unique(ticket_fields_.begin(), ticket_fields_.end()), ticket_fields_.end());
}

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
    e.parsed = log::parse_record_ticket(e.stored, *ticket, has_ticket, ticket_fields_);
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
    opened_.clear();
    if (auto st = reader_.unseal_record(e.stored, pii ? log::PiiPresentation{} : kMasked, opened_); !st) {
      // The key table could not be read: deliver nothing personal rather than the sealed text.
      spdlog::error("stream: opening record {}'s personal fields failed: {}", e.seq, st.error().message());
      v1::LogRecord cleared;
      (void)cleared.ParseFromString(e.stored);
      log::clear_pii(cleared);
      cleared.SerializeToString(&opened_);
    }
    encode_delivery(e.seq, opened_, out);
    ready = true;
    ++frames_encoded_;
  }
  return out;
}

std::size_t RecordCache::size() const {
  return static_cast<std::size_t>(std::count_if(ring_.begin(), ring_.end(), [](const Entry& e) { return e.seq != 0; }));
}

}  // namespace gridhub::core
