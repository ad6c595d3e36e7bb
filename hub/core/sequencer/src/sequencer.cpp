#include "gridhub/core/sequencer.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "gridhub/log/pii_vault.hpp"

namespace gridhub::core {

namespace v1 = gridhub::v1;

namespace {

std::string source_ref(int channel, std::string_view source_key) { return fmt::format("{}/{}", channel, source_key); }

log::TicketState state_of(const v1::Ticket& t) {
  return log::TicketState{t.ticket_id(), static_cast<int>(t.status()), t.has_sla_due() ? t.sla_due().unix_micros() : 0,
                          t.version(), static_cast<int>(t.tier())};
}

}  // namespace

Sequencer::Sequencer(log::EventLog& storage, const Clock& clock, IntakeHook* hook)
    : storage_(storage), clock_(clock), hook_(hook), head_(storage.head_seq()) {}

Status Sequencer::decide(std::span<log::AppendItem> items, std::vector<log::Write>& writes,
                         std::vector<log::AppendOutcome>& out) {
  writes.clear();
  out.clear();
  out.reserve(items.size());
  writes.reserve(items.size());
  // The overlay's tables keep their buckets across batches (clear() does not shrink them).
  intake_keys_.reserve(items.size());
  tickets_.reserve(items.size());
  keys_.reserve(items.size());
  writes_ = &writes;
  const std::int64_t now = clock_.now_micros();
  for (auto& item : items) {
    Result<log::AppendOutcome> r = std::visit([&](auto& it) { return decide_one(it, now); }, item);
    if (!r) {
      dropped();
      writes.clear();
      out.clear();
      return r.error();
    }
    out.push_back(std::move(r.value()));
  }
  return Ok{};
}

void Sequencer::stored() {
  clear_overlay();
  if (ticket_hook_ != nullptr) ticket_hook_->stored();
}

void Sequencer::clear_overlay() {
  intake_keys_.clear();
  dead_letter_keys_.clear();
  change_keys_.clear();
  tickets_.clear();
  keys_.clear();
  writes_ = nullptr;
}

void Sequencer::dropped() {
  clear_overlay();
  if (ticket_hook_ != nullptr) ticket_hook_->dropped();
  head_ = storage_.head_seq();
}

Status Sequencer::append(std::span<log::AppendItem> items, std::vector<log::AppendOutcome>& out) {
  if (auto s = decide(items, own_writes_, out); !s) return s;
  Status s = storage_.append(own_writes_);
  if (s) {
    stored();
  } else {
    dropped();
    out.clear();
  }
  own_writes_.clear();
  return s;
}

Result<std::uint64_t> Sequencer::find_intake(int channel, const std::string& source_key) {
  if (auto it = intake_keys_.find(source_ref(channel, source_key)); it != intake_keys_.end()) return it->second;
  return storage_.find_intake(channel, source_key);
}

Result<std::uint64_t> Sequencer::find_change(const std::string& key) {
  if (auto it = change_keys_.find(key); it != change_keys_.end()) return it->second;
  return storage_.find_change(key);
}

Result<log::StoredTicket> Sequencer::load_ticket(const std::string& ticket_id) {
  if (auto it = tickets_.find(ticket_id); it != tickets_.end()) {
    const auto& record = std::get<log::DecidedRecord>((*writes_)[it->second]).record;
    log::StoredTicket t;
    t.ticket = *log::record_ticket(record);
    t.seq = record.seq();
    return t;
  }
  return storage_.load_ticket(ticket_id);
}

Result<std::optional<log::PiiKey>> Sequencer::load_key(const std::string& key_id) {
  if (auto it = keys_.find(key_id); it != keys_.end()) return it->second;
  return storage_.load_key(key_id);
}

Result<log::PiiKey> Sequencer::key_for(const std::string& key_id, bool reuse, std::vector<log::KeyOp>& ops) {
  if (reuse) {
    auto known = load_key(key_id);
    if (!known) return known.error();
    if (known.value()) return *known.value();
  }
  const log::PiiKey key = log::make_pii_key();
  ops.push_back(log::KeyOp{key_id, key});
  keys_[key_id] = key;
  return key;
}

void Sequencer::decided(log::DecidedRecord&& w) {
  head_ = w.record.seq();
  if (!w.change_key.empty()) change_keys_[w.change_key] = head_;
  for (const auto& op : w.keys) keys_[op.key_id] = op.key;
  if (!w.record.ticket_id().empty() && log::record_ticket(w.record) != nullptr) {
    tickets_[w.record.ticket_id()] = writes_->size();
  }
  writes_->emplace_back(std::move(w));
}

Result<log::AppendOutcome> Sequencer::decide_one(log::IntakeItem& item, std::int64_t now) {
  const auto& ev = item.body.event();
  // A re-sent event must not reach the hook (it would count twice in the merger's memory).
  auto known = find_intake(ev.channel(), ev.source_key());
  if (!known) return known.error();
  if (known.value() != 0) return log::AppendOutcome{known.value(), true, false};

  const std::uint64_t seq = head_ + 1;
  std::string new_id = log::ticket_id_for_seq(seq);
  auto* ticket = item.body.mutable_ticket();
  if (ticket->provenance_size() > 0) ticket->mutable_provenance(0)->set_log_seq(seq);
  item.body.set_disposition(v1::DISPOSITION_NEW_TICKET);
  if (hook_ != nullptr) hook_->complete(item, seq, new_id, now);
  std::string record_ticket_id;
  std::uint64_t prior_seq = 0;   // MERGED: the record whose ticket state this one builds on
  switch (item.body.disposition()) {
    case v1::DISPOSITION_NOT_A_TICKET:
      item.body.clear_ticket();
      break;
    case v1::DISPOSITION_MERGED: {
      // Join the existing incident: its ticket, with this report's provenance appended.
      const std::string incident = ticket->incident_id();
      auto existing = load_ticket(incident);
      if (!existing) return existing.error();
      if (!existing->mismatch.empty()) {
        // A report cannot be refused without losing it: it joins the state the chained log holds
        // (never the edited row), and this record's projection put overwrites the edit.
        spdlog::error("log: {}; report {} joins the logged state of {}", existing->mismatch, ev.source_key(), incident);
      }
      if (existing->ticket.ticket_id().empty()) {
        // The incident's ticket is unknown here (e.g. a projection rebuilt without it): keep this one new.
        item.body.set_disposition(v1::DISPOSITION_NEW_TICKET);
        ticket->set_incident_id(new_id);
        record_ticket_id = new_id;
        break;
      }
      v1::Ticket merged = std::move(existing->ticket);
      prior_seq = existing->seq;
      *merged.add_provenance() = ticket->provenance(0);
      merged.set_version(seq);
      *ticket = std::move(merged);
      record_ticket_id = incident;
      break;
    }
    default:
      record_ticket_id = new_id;
      ticket->set_ticket_id(new_id);
      ticket->set_version(seq);
      ticket->mutable_created_at()->set_unix_micros(now);
      if (ticket->incident_id().empty()) ticket->set_incident_id(new_id);
      item.body.set_disposition(v1::DISPOSITION_NEW_TICKET);
      break;
  }

  log::DecidedRecord w;
  // Personal data is sealed under the ticket's key before the record's bytes exist: the chain and
  // every reader see only sealed values (pii_vault.hpp). A merged report uses its incident's key.
  // A record without a plain personal value gets no key and is not walked again: nothing would be
  // sealed, and a key nobody uses is a row written for nothing. A later report with personal data
  // makes the ticket's key then (key_for finds none and makes one), as after an erasure.
  if (log::has_plain_pii(item.body)) {
    const bool merged = item.body.disposition() == v1::DISPOSITION_MERGED;
    const std::string key_id = record_ticket_id.empty() ? log::record_key_id(seq) : record_ticket_id;
    auto key = key_for(key_id, merged, w.keys);
    if (!key) return key.error();
    if (!log::seal_pii(item.body, key_id, key.value())) {
      return Error(Errc::storage_failed, fmt::format("log record {}: sealing personal data failed", seq));
    }
  }

  auto& record = w.record;
  record.set_seq(seq);
  record.mutable_recorded_at()->set_unix_micros(now);
  record.set_ticket_id(record_ticket_id);
  record.set_prior_seq(prior_seq);
  record.mutable_intake_accepted()->Swap(&item.body);
  log::AppendOutcome o{seq, false, false};
  const auto& body = record.intake_accepted();
  if (body.has_ticket()) o.ticket = state_of(body.ticket());
  intake_keys_[source_ref(body.event().channel(), body.event().source_key())] = seq;
  const bool made_ticket = body.has_ticket() && body.disposition() == v1::DISPOSITION_NEW_TICKET;
  decided(std::move(w));
  if (made_ticket && ticket_hook_ != nullptr) {
    if (auto s = follow_up(now, o); !s) return s.error();
  }
  return o;
}

Status Sequencer::follow_up(std::int64_t now, log::AppendOutcome& o) {
  const std::size_t made = writes_->size() - 1;
  log::DecidedRecord w;
  w.record.set_seq(head_ + 1);
  w.record.mutable_recorded_at()->set_unix_micros(now);
  const TicketHook::LoadTicket load = [this](const std::string& id) { return load_ticket(id); };
  auto follows = ticket_hook_->follow(std::get<log::DecidedRecord>((*writes_)[made]).record, load, w.record);
  if (!follows) return follows.error();
  if (!follows.value()) return Ok{};
  auto* ticket = const_cast<v1::Ticket*>(log::record_ticket(w.record));
  if (ticket == nullptr || w.record.ticket_id().empty()) {
    return Error(Errc::invalid_event, fmt::format("log record {}: the record after a new ticket has no ticket", w.record.seq()));
  }
  ticket->set_version(w.record.seq());
  o.follow_up = state_of(*ticket);
  decided(std::move(w));
  return Ok{};
}

Result<log::AppendOutcome> Sequencer::decide_one(log::DeadLetterItem& item, std::int64_t now) {
  // One dead letter per source record (channel, source_key); a row without a key is always kept.
  std::string ref;
  if (!item.source_key.empty()) {
    ref = source_ref(item.channel, item.source_key);
    bool known = dead_letter_keys_.contains(ref);
    if (!known) {
      auto stored = storage_.has_dead_letter(item.channel, item.source_key);
      if (!stored) return stored.error();
      known = stored.value();
    }
    if (known) return log::AppendOutcome{0, true, true};
  }
  log::DeadLetterWrite w{std::move(item), now, {}};
  if (!w.letter.payload.empty()) {
    // The rejected row holds the reporter's name and number as written: sealed like an intake
    // record's, under a key per (channel, source_key) that erasing a ticket with that provenance
    // destroys (dead_letter_key_id).
    const std::string key_id = log::dead_letter_key_id(w.letter.channel, w.letter.source_key, now);
    auto key = key_for(key_id, true, w.keys);
    if (!key) return key.error();
    v1::Event carrier;   // Event.original_payload: the schema's field for a source row
    carrier.set_original_payload(std::move(w.letter.payload));
    if (!log::seal_pii(carrier, key_id, key.value())) {
      return Error(Errc::storage_failed, "dead letter: sealing its payload failed");
    }
    w.letter.payload = std::move(*carrier.mutable_original_payload());
  }
  if (!ref.empty()) dead_letter_keys_.insert(std::move(ref));
  writes_->emplace_back(std::move(w));
  return log::AppendOutcome{0, false, true};
}

Result<log::AppendOutcome> Sequencer::decide_one(log::ChangeItem& item, std::int64_t now) {
  if (!item.idempotency_key.empty()) {
    auto known = find_change(item.idempotency_key);
    if (!known) return known.error();
    if (known.value() != 0) return log::AppendOutcome{known.value(), true, false};
  }
  auto current = load_ticket(item.ticket_id);
  if (!current) return current.error();
  log::AppendOutcome refused;
  if (current->ticket.ticket_id().empty()) {
    refused.refused = log::Refusal::kNotFound;
    refused.reason = fmt::format("no ticket {}", item.ticket_id);
    return refused;
  }
  if (!current->mismatch.empty()) {
    // The row is not what the chained log says: deciding on it would sign the edit into the chain.
    spdlog::error("log: change to {} refused: {}", item.ticket_id, current->mismatch);
    refused.refused = log::Refusal::kInconsistent;
    refused.reason = fmt::format("{}'s stored state disagrees with the log; an operator must check the log "
                                 "(gridhubctl verify)", item.ticket_id);
    return refused;
  }
  const std::uint64_t seq = head_ + 1;
  log::DecidedRecord w;
  auto& record = w.record;
  record.set_seq(seq);
  record.mutable_recorded_at()->set_unix_micros(now);
  record.set_ticket_id(item.ticket_id);
  record.set_prior_seq(current->seq);
  refused.refused = item.apply ? item.apply(current->ticket, record, refused.reason) : log::Refusal::kInvalid;
  if (refused.refused != log::Refusal::kNone) return refused;
  auto* ticket = const_cast<v1::Ticket*>(log::record_ticket(record));
  if (ticket == nullptr) return Error(Errc::invalid_event, fmt::format("change to {} made no ticket state", item.ticket_id));
  ticket->set_version(seq);
  w.change_key = std::move(item.idempotency_key);
  log::AppendOutcome o{seq, false, false};
  o.ticket = state_of(*ticket);
  decided(std::move(w));
  return o;
}

Result<log::AppendOutcome> Sequencer::decide_one(log::CursorItem& item, std::int64_t now) {
  const std::uint64_t acked = item.acked_seq;
  writes_->emplace_back(log::CursorWrite{std::move(item), now});
  return log::AppendOutcome{acked, false, false};
}

Result<log::AppendOutcome> Sequencer::decide_one(log::ErasureItem& item, std::int64_t now) {
  const std::uint64_t seq = head_ + 1;
  auto existing = load_ticket(item.ticket_id);
  if (!existing) return existing.error();
  if (existing->ticket.ticket_id().empty()) {
    return Error(Errc::bad_value, fmt::format("erasure: no ticket {} in the log's projection", item.ticket_id));
  }
  if (!existing->mismatch.empty()) {
    return Error(Errc::storage_failed, fmt::format("erasure refused: {}", existing->mismatch));
  }
  std::string done_key = "erasure/" + item.ticket_id;
  if (existing->ticket.pii_erased()) {
    // Erased before, and no report has brought new personal data since (it would have a new key):
    // nothing is left to destroy, so nothing is written. The outcome names the erasure on record.
    auto key = load_key(item.ticket_id);
    if (!key) return key.error();
    bool left = key.value().has_value();
    for (const auto& p : existing->ticket.provenance()) {   // a rejected version of one of its records since
      if (left || p.source_key().empty()) continue;
      auto d = load_key(log::dead_letter_key_id(p.channel(), p.source_key(), 0));
      if (!d) return d.error();
      left = d.value().has_value();
    }
    if (!left) {
      auto known = find_change(done_key);
      if (!known) return known.error();
      log::AppendOutcome o{known.value() != 0 ? known.value() : existing->seq, true, false};
      o.reason = fmt::format("{}'s personal data was already erased", item.ticket_id);
      return o;
    }
  }
  const std::uint64_t prior_seq = existing->seq;
  v1::Ticket ticket = std::move(existing->ticket);
  // Each personal value the ticket had reads "[erased]" from now on, as its sealed copies in earlier
  // records do once the key is gone; raw bytes (a source row) are dropped.
  log::present_pii(ticket,
                   log::PiiPresentation{true, [](const std::string& v) { return v.empty() ? v : std::string(log::kErasedText); }});
  ticket.set_pii_erased(true);
  ticket.set_version(seq);
  log::DecidedRecord w;
  auto& record = w.record;
  record.set_seq(seq);
  record.mutable_recorded_at()->set_unix_micros(now);
  record.set_ticket_id(item.ticket_id);
  record.set_prior_seq(prior_seq);
  auto* erasure = record.mutable_erasure();
  erasure->set_request_ref(item.request_ref);
  erasure->set_requested_by(item.requested_by);
  erasure->set_key_id(item.ticket_id);
  // The key goes with the record: either the erasure is on record and the key gone, or neither. And the
  // keys of the dead letters from the same source records (an earlier, rejected version).
  w.keys.push_back(log::KeyOp{item.ticket_id, std::nullopt});
  for (const auto& p : ticket.provenance()) {
    if (!p.source_key().empty()) w.keys.push_back(log::KeyOp{log::dead_letter_key_id(p.channel(), p.source_key(), 0), std::nullopt});
  }
  log::AppendOutcome o{seq, false, false};
  o.ticket = state_of(ticket);
  *erasure->mutable_ticket() = std::move(ticket);
  // The latest erasure of the ticket, for a repeated request's answer.
  w.change_key = std::move(done_key);
  w.replaces_change_key = true;
  decided(std::move(w));
  return o;
}

SequencedLog::SequencedLog(std::unique_ptr<log::EventLog> storage, const Clock& clock, IntakeHook* hook)
    : storage_(std::move(storage)), sequencer_(*storage_, clock, hook) {}

Result<std::unique_ptr<SequencedLog>> open_log(const std::filesystem::path& file, const log::LogOptions& options,
                                               const Clock& clock, IntakeHook* hook, log::CommitObserver* observer) {
  auto storage = log::open_event_log(file, options, clock, observer);
  if (!storage) return storage.error();
  return std::make_unique<SequencedLog>(std::move(storage.value()), clock, hook);
}

}  // namespace gridhub::core
